#include "sim/simulation.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/context_limit.h"
#include "sim/instance.h"
#include "sim/kv_transfers.h"
#include "sim/memoized_latency.h"
#include "sim/platform.h"
#include "sim/pool_latency.h"
#include "sim/result_builder.h"
#include "sim/router.h"
#include "sim/run_guard.h"
#include "sim/slo_evaluator.h"
#include "simgrid/s4u.hpp"
#include "workloads/request_source.h"
#include "xbt/log.h"

namespace sg4 = simgrid::s4u;

namespace fleetsim::sim {
namespace {

struct WindowCounts {
  int64_t requests = 0;
  int64_t multi_token_requests = 0;  // two or more output tokens
};

// What the workload's window holds, for the early stop's bound: counted
// in its recorded stream, or read once more before the run (the source is
// deterministic). Under test-time scaling a sample's drawn length may
// exceed the trace's, so every request counts as multi-token (`samples`):
// the bound must not undercount.
absl::StatusOr<WindowCounts> CountRequests(const SimulationInputs& inputs,
                                           bool samples) {
  if (inputs.arrivals != nullptr) {
    return WindowCounts{inputs.arrivals->size(),
                        samples ? inputs.arrivals->size()
                                : inputs.arrivals->multi_token_requests()};
  }
  auto source = workloads::RequestSource::Create(inputs.workload);
  if (!source.ok()) return source.status();
  WindowCounts counts;
  workloads::Request request;
  while (true) {
    absl::StatusOr<bool> more = (*source)->Next(&request);
    if (!more.ok()) return more.status();
    if (!*more) return counts;
    ++counts.requests;
    if (samples || request.output_tokens >= 2) ++counts.multi_token_requests;
  }
}

// Everything one simulation owns, wired together: the instances, the router
// and the KV transfers; it counts what they report (metrics, SLO, events)
// and runs the arrivals actor, which feeds the router.
class Runtime final : public InstanceEvents {
 public:
  Runtime(const SimulationInputs& inputs, const RequestSink& sink,
          std::unique_ptr<workloads::RequestSource> source,
          std::vector<std::unique_ptr<hardware::LatencyModel>> latency,
          std::unique_ptr<SloEvaluator> slo)
      : inputs_(inputs),
        fleet_(inputs.fleet),
        sink_(sink),
        source_(std::move(source)),
        latency_(std::move(latency)),
        slo_(std::move(slo)) {
    for (const auto& model : latency_)
      memoized_.push_back(std::make_unique<MemoizedLatency>(model.get()));
  }

  // Builds the platform, the instances, the router and the KV transfers.
  // Errors: the router's (policy and mixed pool).
  absl::Status Build();
  void StartActors();
  v1::SimulationResult Result(double wall_s) const;
  // After the engine returned: the run guard's error, or Internal when a
  // request was neither completed nor rejected (a lost request must never
  // look like a result).
  absl::Status EndStatus() const;

  // InstanceEvents.
  void OnPrefillDone(int instance, LiveRequestPtr request) override {
    router_->OnPrefillDone(instance, std::move(request));
  }
  void OnComplete(LiveRequestPtr request) override;
  void OnTokenGaps(double gap_s, int64_t count) override {
    metrics_.AddTokenGaps(gap_s, count);
  }
  void OnIdle(int instance) override { router_->ReturnIfEmpty(instance); }
  void AfterIteration(int instance) override {
    router_->AfterIteration(instance);
  }
  void CountEvent() override { ThisRunGuard().CountEvent(); }

  // SimulationInputs.stop_when_slo_missed, for a window of `expected`
  // requests. REQUIRES: an SLO, told the same count (ExpectAtMost).
  void StopWhenSloMissed(int64_t expected);

 private:
  // Stops the run (every actor, this one included) when its verdict is a
  // certain miss: `finished` was rejected (may be null), or a target's
  // bound can no longer be met (counting the requests in flight that are
  // already overdue at `now_s`); returns otherwise.
  void StopIfMissDecided(const RequestRecord* finished, double now_s);
  // Ends the run with `reason` (early_stop).
  [[noreturn]] void Stop(std::string reason);

  // The arrivals actor: sleeps until each request's arrival and hands it
  // to the instance the router picks; then waits until every request
  // finished.
  void ArrivalsLoop();
  // The next request of the workload, from its recorded stream or its
  // source.
  absl::StatusOr<bool> NextArrival(workloads::Request* request);

  const SimulationInputs& inputs_;
  const FleetSpec& fleet_;
  const RequestSink& sink_;
  std::unique_ptr<workloads::RequestSource> source_;  // null: recorded
  int64_t next_recorded_ = 0;  // the next request of inputs_.arrivals
  std::vector<std::unique_ptr<hardware::LatencyModel>> latency_;  // per pool
  std::vector<std::unique_ptr<MemoizedLatency>> memoized_;        // per pool
  std::unique_ptr<SloEvaluator> slo_;

  Platform platform_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<KvTransfers> kv_transfers_;

  MetricsCollector metrics_;
  int64_t emitted_ = 0;
  int64_t finished_ = 0;  // completed + rejected
  bool arrivals_done_ = false;
  // Early stop: checked at every finished request once expected_ is set.
  int64_t expected_ = 0;
  std::optional<v1::EarlyStop> early_stop_;
  std::optional<SloEvaluator::DecidedMiss> decided_;
  sg4::MutexPtr done_mutex_;
  sg4::ConditionVariablePtr done_;
};

absl::Status Runtime::Build() {
  platform_ = BuildPlatform(fleet_);
  InstanceOptions options{inputs_.max_decode_run, inputs_.decode_stride,
                          inputs_.observer};
  std::vector<BatchScheduler*> schedulers;
  for (size_t p = 0; p < fleet_.pools.size(); ++p) {
    const PoolSpec& pool = fleet_.pools[p];
    const std::vector<sg4::Host*>& hosts = platform_.machines[p];
    // An instance spanning machines takes machines_per_instance in a row.
    for (size_t m = 0; m < hosts.size(); m += pool.machines_per_instance) {
      for (int i = 0; i < pool.instances_per_machine; ++i) {
        int index = static_cast<int>(instances_.size());
        instances_.push_back(std::make_unique<Instance>(
            this, index, static_cast<int>(p), &pool,
            std::vector<sg4::Host*>(
                hosts.begin() + static_cast<std::ptrdiff_t>(m),
                hosts.begin() + static_cast<std::ptrdiff_t>(
                                    m + pool.machines_per_instance)),
            memoized_[p].get(), options));
        if (inputs_.operator_totals)
          instances_.back()->scheduler().EnableOperatorTotals();
        schedulers.push_back(&instances_.back()->scheduler());
      }
    }
  }
  auto router = Router::Create(
      fleet_, schedulers, [this](int from, int to, LiveRequestPtr request) {
        kv_transfers_->Start(instances_[from].get(), instances_[to].get(),
                             std::move(request));
      });
  if (!router.ok()) return router.status();
  router_ = std::move(*router);
  kv_transfers_ =
      std::make_unique<KvTransfers>(fleet_, [this](const KvTransferSpan& span) {
        if (!ThisRunGuard().CountKernelEvent()) return false;
        metrics_.AddKvTransfer(span.end_s - span.start_s);
        if (inputs_.observer) inputs_.observer->OnKvTransfer(span);
        return true;
      });
  return absl::OkStatus();
}

void Runtime::StartActors() {
  done_mutex_ = sg4::Mutex::create();
  done_ = sg4::ConditionVariable::create();
  for (auto& instance : instances_) {
    Instance* raw = instance.get();
    sg4::ActorPtr actor =
        sg4::Actor::create(absl::StrCat("instance/", raw->index()), raw->host(),
                           [raw] { raw->Run(); });
    actor->daemonize();
  }
  sg4::Actor::create("router", platform_.router, [this] { ArrivalsLoop(); });
}

void Runtime::ArrivalsLoop() {
  workloads::Request request;
  while (true) {
    absl::StatusOr<bool> more = NextArrival(&request);
    if (!more.ok()) ThisRunGuard().Fail(more.status());
    if (!*more) break;
    if (request.arrival_s > sg4::Engine::get_clock()) {
      ThisRunGuard().CheckWaitUntil(request.arrival_s, "the next arrival");
      sg4::this_actor::sleep_until(request.arrival_s);
      ThisRunGuard().CountEvent();
    }
    LiveRequestPtr live = MakeLiveRequest(request);
    if (fleet_.caches_prefixes())
      live->prefix_hashes.swap(request.prefix_block_hashes);
    ++emitted_;
    ApplyContextLimit(fleet_.context_limit, fleet_.model.max_context(),
                      live.get());
    AttachSampleGroup(fleet_, inputs_.workload.seed(), live.get());
    if (!live->rejected && !router_->CanEverDecode(*live))
      live->rejected = true;  // over every decode instance's KV capacity
    if (live->rejected) {     // never routed
      OnComplete(std::move(live));
      continue;
    }
    Instance* target = instances_[router_->Route(live.get())].get();
    if (expected_ > 0) slo_->Arrived(*live);
    target->scheduler().Enqueue(std::move(live));
    target->Wake();
    // A queue that keeps growing decides the run from its waiting requests.
    if (expected_ > 0) StopIfMissDecided(nullptr, sg4::Engine::get_clock());
  }
  arrivals_done_ = true;
  std::unique_lock<sg4::Mutex> lock(*done_mutex_);
  while (finished_ < emitted_) done_->wait(lock);
}

absl::StatusOr<bool> Runtime::NextArrival(workloads::Request* request) {
  if (source_ != nullptr) return source_->Next(request);
  if (next_recorded_ >= inputs_.arrivals->size()) return false;
  inputs_.arrivals->Get(next_recorded_++, request);
  return true;
}

void Runtime::OnComplete(LiveRequestPtr request) {
  double now = sg4::Engine::get_clock();
  RequestRecord record = MetricsCollector::MakeRecord(*request, now);
  if (slo_) slo_->Observe(&record);
  metrics_.AddRecord(record);
  if (sink_) sink_(record);
  ++finished_;
  if (expected_ > 0) StopIfMissDecided(&record, now);
  if (arrivals_done_ && finished_ >= emitted_) done_->notify_all();
}

void Runtime::StopWhenSloMissed(int64_t expected) { expected_ = expected; }

void Runtime::StopIfMissDecided(const RequestRecord* finished, double now_s) {
  if (finished && finished->rejected) {
    Stop(finished->context_outcome == ContextOutcome::kRejected
             ? "a request's prompt + output exceed the model's max_context"
             : "a request is larger than the KV cache an instance gives one "
               "request (one attention group's under expert parallelism)");
  }
  slo_->AdvanceTo(now_s);
  decided_ = slo_->MissDecided();
  if (!decided_) return;
  const v1::SloTarget& target = inputs_.slo.targets(decided_->target);
  Stop(absl::StrCat(
      "p", target.percentile(), " ", SloMetricName(target.metric()),
      " cannot meet its limit: at least ", decided_->observed_at_least));
}

void Runtime::Stop(std::string reason) {
  v1::EarlyStop stop;
  stop.set_at_s(sg4::Engine::get_clock());
  stop.set_finished(finished_);
  stop.set_expected(expected_);
  stop.set_reason(std::move(reason));
  stop.set_slo_index(decided_ ? decided_->target : -1);
  early_stop_ = std::move(stop);
  kv_transfers_->Stop();
  sg4::Actor::kill_all();
  sg4::this_actor::exit();
}

v1::SimulationResult Runtime::Result(double wall_s) const {
  std::vector<std::vector<InstanceUsage>> usage(fleet_.pools.size());
  for (const auto& instance : instances_)
    usage[instance->pool_index()].push_back(instance->scheduler().usage());
  v1::SimulationResult result =
      BuildResult(fleet_, metrics_, slo_.get(), usage,
                  RunCounts{emitted_, ThisRunGuard().events(), wall_s});
  if (early_stop_) {
    *result.mutable_early_stop() = *early_stop_;
    result.set_slo_met(false);
    if (decided_) {
      v1::SloAttainment* decided = result.mutable_slo(decided_->target);
      decided->set_observed(decided_->observed_at_least);
      decided->set_met(false);
    }
  }
  return result;
}

absl::Status Runtime::EndStatus() const {
  if (!ThisRunGuard().status().ok()) return ThisRunGuard().status();
  if (early_stop_) return absl::OkStatus();
  if (!arrivals_done_ || finished_ != emitted_) {
    return absl::InternalError(absl::StrCat(
        "the simulation ended with ", emitted_ - finished_, " of ", emitted_,
        " requests neither completed nor rejected; this is a simulator "
        "bug: please report it with the inputs"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::SimulationResult> RunSimulation(
    const SimulationInputs& inputs, const RequestSink& sink) {
  auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<hardware::LatencyModel>> latency;
  for (const PoolSpec& pool : inputs.fleet.pools) {
    auto model = CreateLatencyModel(inputs.fleet, pool);
    if (!model.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool '", pool.name, "': ", model.status().message()));
    }
    latency.push_back(std::move(*model));
  }
  std::unique_ptr<SloEvaluator> slo;
  if (!inputs.slo.targets().empty()) {
    auto evaluator = SloEvaluator::Create(inputs.slo, inputs.fleet,
                                          inputs.slo_reference_chip);
    if (!evaluator.ok()) return evaluator.status();
    slo = std::move(*evaluator);
  }
  std::unique_ptr<workloads::RequestSource> source;
  if (inputs.arrivals == nullptr) {
    auto created = workloads::RequestSource::Create(inputs.workload);
    if (!created.ok()) return created.status();
    source = *std::move(created);
  }
  int64_t expected = 0;
  if (inputs.stop_when_slo_missed && slo) {
    absl::StatusOr<WindowCounts> counts =
        CountRequests(inputs, inputs.fleet.test_time_scaling.has_value());
    if (!counts.ok()) return counts.status();
    slo->ExpectAtMost(counts->requests, counts->multi_token_requests);
    expected = counts->requests;
  }

  xbt_log_control_set("root.thresh:critical");
  sg4::Engine engine("fleetsim");
  ConfigureEngine(inputs.simgrid_config);
  ThisRunGuard() = RunGuard();
  Runtime runtime(inputs, sink, std::move(source), std::move(latency),
                  std::move(slo));
  absl::Status built = runtime.Build();
  if (!built.ok()) return built;
  if (expected > 0) runtime.StopWhenSloMissed(expected);
  runtime.StartActors();
  engine.run();
  if (absl::Status end = runtime.EndStatus(); !end.ok()) return end;
  double wall_s = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - wall_start)
                      .count();
  return runtime.Result(wall_s);
}

absl::Status RequireRequests(const v1::SimulationResult& result,
                             const v1::Workload& workload) {
  if (result.requests() > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "workload: no requests to simulate (trace '", workload.trace_path(),
      "' is empty, or has no rows in the window start_s and duration_s "
      "select)"));
}

}  // namespace fleetsim::sim
