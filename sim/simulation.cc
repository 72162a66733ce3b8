#include "sim/simulation.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hardware/chip_catalog.h"
#include "hardware/operator_model.h"
#include "sim/batch_scheduler.h"
#include "sim/memoized_latency.h"
#include "sim/slo_evaluator.h"
#include "simgrid/s4u.hpp"
#include "workloads/request_source.h"
#include "xbt/log.h"

namespace sg4 = simgrid::s4u;

namespace fleetsim::sim {
namespace {

class Runtime;

// Shortest decode run an instance plans after runs were cut short.
constexpr int kMinDecodeRun = 16;

// One model replica: a BatchScheduler driven by a SimGrid actor. Work is
// pushed in by the router or a finished KV transfer, which then calls
// Wake(); the actor sleeps for each predicted iteration, or for a whole run
// of identical decode iterations at once, cut short by a wake-up.
class Instance final {
 public:
  Instance(Runtime* runtime, int index, const PoolSpec* pool, sg4::Host* host,
           const hardware::LatencyModel* latency,
           const SimulationInputs& inputs);

  void operator()();
  // Tells the actor new work arrived; a no-op (and no SimGrid call) while
  // it is busy with a single iteration, after which it re-plans anyway.
  // An instance waiting with nothing at all to do (e.g. a prefill instance
  // whose finished request's KV blocks were just released) would only wake,
  // yield, find nothing and wait again, touching no state: the caller
  // yields instead, which ends its turn exactly as the notify's simcall
  // did, so every other actor runs in the same order as before.
  void Wake() {
    if (!idle_) return;
    if (scheduler_.idle()) {
      sg4::this_actor::yield();
    } else {
      wake_->notify_all();
    }
  }

  BatchScheduler& scheduler() { return scheduler_; }
  const PoolSpec& pool() const { return *pool_; }
  sg4::Host* host() const { return host_; }
  int index() const { return index_; }
  // A decode instance lent to the mixed pool (takes prompts until empty).
  bool lent() const { return lent_; }
  void set_lent(bool lent) { lent_ = lent; }
  double KvLoad() const {
    return static_cast<double>(scheduler_.used_blocks()) /
           static_cast<double>(std::max<int64_t>(1, pool_->kv_capacity_blocks));
  }

 private:
  void RunIterations();

  Runtime* runtime_;
  int index_;
  const PoolSpec* pool_;
  sg4::Host* host_;
  BatchScheduler scheduler_;
  sg4::MutexPtr mutex_ = sg4::Mutex::create();
  sg4::ConditionVariablePtr wake_ = sg4::ConditionVariable::create();
  const int max_decode_run_;
  int run_limit_;  // adaptive, in [kMinDecodeRun, max_decode_run_]
  std::vector<double> end_times_;
  bool idle_ = false;  // waiting for work, or in an interruptible decode run
  bool lent_ = false;
};

// Everything one simulation owns: instances, router state, metrics.
class Runtime final {
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

  void BuildPlatform();
  void StartActors();
  void RouterLoop();
  SimulationResult Result(double wall_s) const;
  absl::Status source_status() const { return source_status_; }

  // Hooks from instances.
  void OnPrefillDone(Instance* from, LiveRequestPtr request);
  void OnComplete(LiveRequestPtr request);
  void OnTokenGaps(double gap_s, int64_t count) {
    metrics_.AddTokenGaps(gap_s, count);
  }
  void AfterIteration(Instance* instance);
  // A lent decode instance with nothing left returns from the mixed pool
  // (SplitwiseSim's notify_free_instance).
  void ReturnIfEmpty(Instance* instance);
  void CountEvent() { ++events_; }

 private:
  Instance* PickPrefillTarget(const LiveRequest& request);
  // The least-loaded candidate (by KV use, or by queued prompt tokens plus
  // requests), skipping lent ones when `skip_lent`; null if none.
  Instance* PickLeast(const std::vector<Instance*>& candidates, bool by_kv,
                      bool skip_lent = false);
  // SplitwiseSim's "queue is long": the instance has requests waiting for a
  // batch and this prompt would take its pending prompt tokens past the
  // mixed-pool threshold.
  bool QueueLong(Instance* instance, const LiveRequest& request) const;
  void PlacePendingTransfers();
  // KV transfers run on a pool of reusable mover actors (creating an actor
  // per transfer costs more than the transfer's own simulation).
  struct KvTransfer {
    Instance* from = nullptr;
    Instance* to = nullptr;
    int64_t prefill_blocks = 0;
    double bytes = 0;
    LiveRequestPtr request;
  };
  struct KvMover {
    KvTransfer job;
    sg4::MutexPtr mutex = sg4::Mutex::create();
    sg4::ConditionVariablePtr wake = sg4::ConditionVariable::create();
  };
  void StartTransfer(Instance* from, Instance* to, LiveRequestPtr request);
  void MoverLoop(KvMover* mover);

  const SimulationInputs& inputs_;
  const FleetSpec& fleet_;
  const RequestSink& sink_;
  std::unique_ptr<workloads::RequestSource> source_;
  std::vector<std::unique_ptr<hardware::LatencyModel>> latency_;  // per pool
  std::vector<std::unique_ptr<MemoizedLatency>> memoized_;        // per pool
  std::unique_ptr<SloEvaluator> slo_;

  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<Instance*> entry_;     // colocated or prefill instances
  std::vector<Instance*> decoders_;  // decode instances (disaggregated)
  std::vector<Instance*> mixed_;     // decode instances lent to prompts
  size_t round_robin_ = 0;
  // Prefilled requests waiting for decode memory, FIFO, with their source.
  std::deque<std::pair<Instance*, LiveRequestPtr>> pending_transfers_;
  std::vector<std::unique_ptr<KvMover>> movers_;
  std::vector<KvMover*> idle_movers_;

  MetricsCollector metrics_;
  int64_t emitted_ = 0;
  int64_t finished_ = 0;  // completed + rejected
  bool arrivals_done_ = false;
  int64_t events_ = 0;
  absl::Status source_status_;
  sg4::MutexPtr done_mutex_;
  sg4::ConditionVariablePtr done_;
};

Instance::Instance(Runtime* runtime, int index, const PoolSpec* pool,
                   sg4::Host* host, const hardware::LatencyModel* latency,
                   const SimulationInputs& inputs)
    : runtime_(runtime),
      index_(index),
      pool_(pool),
      host_(host),
      scheduler_(*pool, latency,
                 SchedulerHooks{[this](LiveRequestPtr r) {
                                  runtime_->OnPrefillDone(this, std::move(r));
                                },
                                [this](LiveRequestPtr r) {
                                  runtime_->OnComplete(std::move(r));
                                },
                                [this](double gap, int64_t count) {
                                  runtime_->OnTokenGaps(gap, count);
                                }},
                 inputs.decode_interpolation_stride),
      max_decode_run_(std::max(1, inputs.max_decode_run)),
      run_limit_(max_decode_run_) {
  end_times_.reserve(max_decode_run_);
}

void Instance::operator()() {
  std::unique_lock<sg4::Mutex> lock(*mutex_);
  while (true) {
    double seconds = 0;
    double now = sg4::Engine::get_clock();
    if (!scheduler_.PlanIteration(now, &seconds)) {
      runtime_->ReturnIfEmpty(this);  // e.g. its one prompt was rejected
      idle_ = true;
      wake_->wait(lock);
      idle_ = false;
      // Let every actor with work for this instant (the router holding more
      // same-time arrivals, other transfers) run first, so they batch.
      sg4::this_actor::yield();
      runtime_->CountEvent();
      continue;
    }
    int run = scheduler_.StableDecodeIterations(run_limit_);
    if (run == 1) {
      sg4::this_actor::sleep_for(seconds);
      runtime_->CountEvent();
      scheduler_.FinishIteration(sg4::Engine::get_clock());
    } else {
      scheduler_.DecodeRunEndTimes(run, now, &end_times_);
      idle_ = true;  // new work must cut the run short
      wake_->wait_until(lock, end_times_[run - 1]);
      idle_ = false;
      runtime_->CountEvent();
      double woke = sg4::Engine::get_clock();
      // Iterations whose end is <= now are done; one in progress finishes.
      int done = static_cast<int>(
          std::upper_bound(end_times_.begin(), end_times_.end(), woke) -
          end_times_.begin());
      int n = std::min(
          run, done + ((done == 0 || end_times_[done - 1] < woke) ? 1 : 0));
      if (end_times_[n - 1] > woke) {
        sg4::this_actor::sleep_until(end_times_[n - 1]);
        runtime_->CountEvent();
      }
      scheduler_.FinishDecodeIterations(n, end_times_);
      // Plan the next run about twice as long as this instance's runs last:
      // end times computed past an interruption are wasted cost-model work.
      run_limit_ =
          std::min(max_decode_run_,
                   n < run ? std::max(kMinDecodeRun, 2 * n) : 2 * run_limit_);
    }
    runtime_->AfterIteration(this);
  }
}

void Runtime::BuildPlatform() {
  // One star zone: every machine hangs off a non-blocking switch through
  // its own split-duplex scale-out link (per-machine NIC bandwidth), so
  // concurrent KV transfers from or to one machine share its link.
  auto* zone = sg4::create_star_zone("fleet");
  auto add_machine = [zone](const std::string& name, double bytes_per_s,
                            double latency_s) {
    // Host speed is unused: compute time comes from the LatencyModel.
    sg4::Host* host = zone->create_host(name, 1e9);
    sg4::SplitDuplexLink* link =
        zone->create_split_duplex_link(name + "/nic", bytes_per_s);
    link->set_latency(latency_s);
    link->seal();
    // Symmetrical: traffic leaving the host uses the link's UP half,
    // traffic entering it the DOWN half.
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                    {{link, sg4::LinkInRoute::Direction::UP}}, true);
    return host;
  };
  // The router and the KV movers run here; they send no simulated bytes.
  add_machine("router", 1e12, 0);
  for (size_t p = 0; p < fleet_.pools.size(); ++p) {
    const PoolSpec& pool = fleet_.pools[p];
    for (int m = 0; m < pool.machines; ++m) {
      sg4::Host* host =
          add_machine(absl::StrCat(pool.name, "/", m),
                      pool.scale_out_bytes_per_s, pool.scale_out_latency_s);
      for (int i = 0; i < pool.instances_per_machine; ++i) {
        int index = static_cast<int>(instances_.size());
        instances_.push_back(std::make_unique<Instance>(
            this, index, &pool, host, memoized_[p].get(), inputs_));
        Instance* instance = instances_.back().get();
        (pool.role == POOL_ROLE_DECODE ? decoders_ : entry_)
            .push_back(instance);
      }
    }
  }
  zone->seal();
}

void Runtime::StartActors() {
  done_mutex_ = sg4::Mutex::create();
  done_ = sg4::ConditionVariable::create();
  for (auto& instance : instances_) {
    Instance* raw = instance.get();
    sg4::ActorPtr actor =
        sg4::Actor::create(absl::StrCat("instance/", raw->index()), raw->host(),
                           [raw] { (*raw)(); });
    actor->daemonize();
  }
  sg4::Actor::create("router", sg4::Host::by_name("router"),
                     [this] { RouterLoop(); });
}

void Runtime::RouterLoop() {
  workloads::Request request;
  while (true) {
    absl::StatusOr<bool> more = source_->Next(&request);
    if (!more.ok()) {
      source_status_ = more.status();
      break;
    }
    if (!*more) break;
    if (request.arrival_s > sg4::Engine::get_clock()) {
      sg4::this_actor::sleep_until(request.arrival_s);
      ++events_;
    }
    LiveRequestPtr live = MakeLiveRequest(request);
    ++emitted_;
    Instance* target = PickPrefillTarget(*live);
    live->prefill_instance = target->index();
    // Colocated, or a decode instance taking a prompt (mixed pool): it
    // decodes the request too.
    if (target->pool().role != POOL_ROLE_PREFILL)
      live->decode_instance = target->index();
    target->scheduler().Enqueue(std::move(live));
    target->Wake();
  }
  arrivals_done_ = true;
  std::unique_lock<sg4::Mutex> lock(*done_mutex_);
  while (finished_ < emitted_) done_->wait(lock);
}

Instance* Runtime::PickLeast(const std::vector<Instance*>& candidates,
                             bool by_kv, bool skip_lent) {
  Instance* best = nullptr;
  double best_load = std::numeric_limits<double>::infinity();
  for (Instance* instance : candidates) {
    if (skip_lent && instance->lent()) continue;
    double load = by_kv ? instance->KvLoad()
                        : static_cast<double>(
                              instance->scheduler().pending_prefill_tokens() +
                              instance->scheduler().outstanding_requests());
    if (load < best_load) {
      best_load = load;
      best = instance;
    }
  }
  return best;
}

Instance* Runtime::PickPrefillTarget(const LiveRequest& request) {
  switch (fleet_.router) {
    case ROUTER_POLICY_ROUND_ROBIN:
      return entry_[round_robin_++ % entry_.size()];
    case ROUTER_POLICY_LEAST_KV_LOAD:
      return PickLeast(entry_, /*by_kv=*/true);
    default: {
      Instance* best = PickLeast(entry_, /*by_kv=*/false);
      if (decoders_.empty() || fleet_.mixed_pool_prefill_queue_tokens <= 0 ||
          !QueueLong(best, request)) {
        return best;
      }
      // SplitwiseSim's mixed pool (MixedPoolScheduler): the prefill pool's
      // least-loaded instance has a long queue, so the prompt goes to a
      // decode instance already lent to prompts unless its queue is long
      // too, else the least-loaded decode instance is lent. A lent instance
      // keeps taking prompts (and serves them end to end) until it runs
      // empty (AfterIteration); if every decode instance is lent, the
      // least-loaded instance of either kind takes the prompt.
      Instance* mixed = PickLeast(mixed_, /*by_kv=*/false);
      if (mixed != nullptr && !QueueLong(mixed, request)) return mixed;
      Instance* lend =
          PickLeast(decoders_, /*by_kv=*/false, /*skip_lent=*/true);
      if (lend != nullptr &&
          lend->scheduler().CanEverHold(request.input_tokens +
                                        request.output_tokens)) {
        lend->set_lent(true);
        mixed_.push_back(lend);
        return lend;
      }
      return mixed != nullptr && PickLeast({best, mixed}, false) == mixed
                 ? mixed
                 : best;
    }
  }
}

bool Runtime::QueueLong(Instance* instance, const LiveRequest& request) const {
  const BatchScheduler& s = instance->scheduler();
  return s.has_waiting() && s.pending_prefill_tokens() + request.input_tokens >
                                fleet_.mixed_pool_prefill_queue_tokens;
}

void Runtime::OnPrefillDone(Instance* from, LiveRequestPtr request) {
  LiveRequest* raw = request.get();
  pending_transfers_.emplace_back(from, std::move(request));
  PlacePendingTransfers();
  // SplitwiseSim's mixed pool, the other way round: when no decode instance
  // has room, the prefill instance decodes the request itself (no KV
  // transfer) rather than keep it waiting.
  if (fleet_.mixed_pool_prefill_queue_tokens > 0 &&
      !pending_transfers_.empty() &&
      pending_transfers_.back().second.get() == raw) {
    if (from->scheduler().KeepForDecode(&pending_transfers_.back().second)) {
      raw->decode_instance =
          from->index();  // still alive: the scheduler owns it
      pending_transfers_.pop_back();
    }
  }
}

void Runtime::PlacePendingTransfers() {
  // FIFO, so no prefilled request starves; each goes to the least
  // KV-loaded decode instance with room for it, one lent to prompts (the
  // mixed pool) only when no other has room, as SplitwiseSim places tokens.
  while (!pending_transfers_.empty()) {
    auto& [from, request] = pending_transfers_.front();
    Instance* best = nullptr;
    for (bool lent : {false, true}) {
      for (Instance* candidate : decoders_) {
        if (candidate->lent() == lent &&
            candidate->scheduler().CanReserveForTransfer(*request) &&
            (best == nullptr || candidate->KvLoad() < best->KvLoad())) {
          best = candidate;
        }
      }
      if (best != nullptr || mixed_.empty()) break;
    }
    if (best == nullptr) return;
    best->scheduler().ReserveForTransfer(*request);
    Instance* source = from;
    LiveRequestPtr moving = std::move(request);
    pending_transfers_.pop_front();
    StartTransfer(source, best, std::move(moving));
  }
}

void Runtime::StartTransfer(Instance* from, Instance* to,
                            LiveRequestPtr request) {
  request->decode_instance = to->index();
  double bytes = static_cast<double>(from->pool().kv_bytes_per_token) *
                 request->input_tokens;
  if (fleet_.layerwise_kv_transfer) {
    // Layer-wise streaming (Splitwise): each layer's KV leaves as soon as
    // the layer is done, so only what the link could not move during the
    // prefill, and at least the last layer, remains after it
    // (operators.md §2.10). Approximation: the overlapped part is assumed
    // uncontended; the remainder is a real, contending flow.
    double path_bytes_per_s = std::min(from->pool().scale_out_bytes_per_s,
                                       to->pool().scale_out_bytes_per_s);
    double prefill_s = request->prefill_done_s - request->first_scheduled_s;
    bytes = std::max(bytes / fleet_.model.num_layers(),
                     bytes - path_bytes_per_s * prefill_s);
  }
  KvTransfer transfer{from, to, request->kv_blocks, bytes, std::move(request)};
  if (idle_movers_.empty()) {
    // A new mover only when every existing one is busy: the pool grows to
    // the peak number of concurrent transfers and its actors are reused.
    movers_.push_back(std::make_unique<KvMover>());
    KvMover* mover = movers_.back().get();
    mover->job = std::move(transfer);
    sg4::ActorPtr actor = sg4::Actor::create(
        absl::StrCat("kv-mover/", movers_.size() - 1),
        sg4::Host::by_name("router"), [this, mover] { MoverLoop(mover); });
    actor->daemonize();
    return;
  }
  KvMover* mover = idle_movers_.back();
  idle_movers_.pop_back();
  mover->job = std::move(transfer);
  mover->wake->notify_all();
}

void Runtime::MoverLoop(KvMover* mover) {
  std::unique_lock<sg4::Mutex> lock(*mover->mutex);
  while (true) {
    if (!mover->job.request) {
      idle_movers_.push_back(mover);
      mover->wake->wait(lock);
      continue;
    }
    KvTransfer job = std::move(mover->job);
    mover->job = KvTransfer();
    // A real SimGrid flow over both machines' scale-out links, so
    // concurrent transfers share bandwidth.
    double start = sg4::Engine::get_clock();
    sg4::Comm::sendto(job.from->host(), job.to->host(),
                      static_cast<uint64_t>(job.bytes));
    ++events_;
    double now = sg4::Engine::get_clock();
    LiveRequestPtr moving = std::move(job.request);
    moving->kv_transfer_s = now - start;
    metrics_.AddKvTransfer(now - start);
    job.from->scheduler().ReleaseBlocks(job.prefill_blocks);
    job.from->Wake();
    moving->kv_blocks = 0;
    double first_token =
        fleet_.ttft_includes_kv_transfer ? now : moving->prefill_done_s;
    moving->first_token_s = first_token;
    moving->last_token_s = first_token;
    job.to->scheduler().AddTransferred(std::move(moving));
    job.to->Wake();
  }
}

void Runtime::OnComplete(LiveRequestPtr request) {
  double now = sg4::Engine::get_clock();
  RequestRecord record = MetricsCollector::MakeRecord(*request, now);
  if (slo_) slo_->Observe(&record);
  metrics_.AddRecord(record);
  if (sink_) sink_(record);
  ++finished_;
  if (arrivals_done_ && finished_ >= emitted_) done_->notify_all();
}

void Runtime::AfterIteration(Instance* instance) {
  if (instance->pool().role != POOL_ROLE_DECODE) return;
  ReturnIfEmpty(instance);
  if (!pending_transfers_.empty()) PlacePendingTransfers();
}

void Runtime::ReturnIfEmpty(Instance* instance) {
  if (!instance->lent() || !instance->scheduler().idle()) return;
  instance->set_lent(false);  // back from the mixed pool
  auto it = std::find(mixed_.begin(), mixed_.end(), instance);
  assert(it != mixed_.end());
  mixed_.erase(it);
}

SimulationResult Runtime::Result(double wall_s) const {
  SimulationResult result;
  result.set_requests(emitted_);
  metrics_.FillResult(&result);
  double span = metrics_.last_completion_s();
  result.set_simulated_s(span);
  if (span > 0) {
    result.set_throughput_rps(static_cast<double>(metrics_.completed()) / span);
    result.set_output_tokens_per_s(
        static_cast<double>(metrics_.output_tokens()) / span);
    result.set_goodput_rps(static_cast<double>(metrics_.good_requests()) /
                           span);
  }
  result.set_fleet_cost(fleet_.NormalizedCost(inputs_.h100));
  result.set_fleet_tdp_w(fleet_.TdpW());
  double energy = 0;
  int64_t preemptions = 0;
  for (const PoolSpec& pool : fleet_.pools) {
    PoolUsage* usage = result.add_pools();
    usage->set_name(pool.name);
    usage->set_role(PoolRoleName(pool.role));
    usage->set_chip(pool.chip.name());
    usage->set_machines(pool.machines);
    usage->set_instances(pool.instances());
    double busy = 0, iterations = 0, batched = 0, peak_kv = 0, pool_energy = 0;
    int chips = pool.tp * pool.pp;
    double active_w = pool.chip.tdp_w() * chips;  // ASSUMPTION: TDP while busy
    double idle_w = hardware::IdlePowerW(pool.chip) * chips;
    for (const auto& instance : instances_) {
      if (&instance->pool() != &pool) continue;
      const InstanceUsage& u = instance->scheduler().usage();
      busy += u.busy_s;
      iterations += static_cast<double>(u.iterations);
      batched += static_cast<double>(u.batched_requests);
      peak_kv =
          std::max(peak_kv, static_cast<double>(u.peak_kv_blocks) /
                                static_cast<double>(pool.kv_capacity_blocks));
      pool_energy +=
          u.busy_s * active_w + std::max(0.0, span - u.busy_s) * idle_w;
      preemptions += u.preemptions;
      usage->set_preemptions(usage->preemptions() + u.preemptions);
      usage->set_prompts_served(usage->prompts_served() + u.prompts_served);
      usage->set_decodes_kept(usage->decodes_kept() + u.decodes_kept);
    }
    usage->set_busy_fraction(span > 0 ? busy / (span * pool.instances()) : 0);
    usage->set_mean_batch_size(iterations > 0 ? batched / iterations : 0);
    usage->set_peak_kv_fraction(peak_kv);
    usage->set_energy_j(pool_energy);
    energy += pool_energy;
  }
  result.set_energy_j(energy);
  result.set_preemptions(preemptions);
  result.set_rejected(metrics_.rejected());
  if (slo_ && !slo_->empty()) {
    bool all_met = true;
    for (const SloAttainment& attainment : slo_->Finish(metrics_.tbt())) {
      *result.add_slo() = attainment;
      all_met &= attainment.met();
    }
    result.set_slo_met(all_met && metrics_.rejected() == 0);
    result.set_slo_attainment(
        emitted_ > 0 ? static_cast<double>(metrics_.good_requests()) /
                           static_cast<double>(emitted_)
                     : 0);
  }
  result.set_events(events_);
  result.set_wall_s(wall_s);
  return result;
}

}  // namespace

absl::StatusOr<SimulationResult> RunSimulation(const SimulationInputs& inputs,
                                               const RequestSink& sink) {
  auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<hardware::LatencyModel>> latency;
  for (const PoolSpec& pool : inputs.fleet.pools) {
    auto model = CreateLatencyModel(inputs.fleet, pool.chip, pool.tp, pool.pp);
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
  auto source = workloads::RequestSource::Create(inputs.workload);
  if (!source.ok()) return source.status();

  xbt_log_control_set("root.thresh:critical");
  sg4::Engine engine("fleetsim");
  // CM02 without TCP windowing or cross traffic: a transfer takes latency +
  // bytes / fair-share bandwidth, as the links are specified.
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/TCP-gamma:1e18");
  sg4::Engine::set_config("network/crosstraffic:0");
  // Actors here are shallow (no recursion, the cost model allocates no
  // stack arrays): small stacks without guard pages keep the one short
  // actor per KV transfer cheap to create.
  sg4::Engine::set_config("contexts/stack-size:256");
  sg4::Engine::set_config("contexts/guard-size:0");
  for (const std::string& option : inputs.simgrid_config)
    sg4::Engine::set_config(option);

  Runtime runtime(inputs, sink, std::move(*source), std::move(latency),
                  std::move(slo));
  runtime.BuildPlatform();
  runtime.StartActors();
  engine.run();
  if (!runtime.source_status().ok()) return runtime.source_status();
  double wall_s = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - wall_start)
                      .count();
  return runtime.Result(wall_s);
}

}  // namespace fleetsim::sim
