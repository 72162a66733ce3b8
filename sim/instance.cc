#include "sim/instance.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "sim/platform.h"
#include "sim/run_guard.h"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;

// Shortest decode run an instance plans after runs were cut short.
constexpr int kMinDecodeRun = 16;

}  // namespace

Instance::Instance(InstanceEvents* events, int index, int pool_index,
                   const PoolSpec* pool, std::vector<sg4::Host*> hosts,
                   const hardware::LatencyModel* latency,
                   const InstanceOptions& options)
    : events_(events),
      index_(index),
      pool_index_(pool_index),
      pool_(pool),
      hosts_(std::move(hosts)),
      scheduler_(*pool, latency,
                 SchedulerHooks{[this](LiveRequestPtr r) {
                                  events_->OnPrefillDone(index_, std::move(r));
                                },
                                [this](LiveRequestPtr r) {
                                  events_->OnComplete(std::move(r));
                                },
                                [this](double gap, int64_t count) {
                                  events_->OnTokenGaps(gap, count);
                                }},
                 options.decode_stride),
      max_decode_run_(std::max(1, options.max_decode_run)),
      run_limit_(max_decode_run_),
      observer_(options.observer) {
  end_times_.reserve(max_decode_run_);
}

void Instance::Run() {
  std::unique_lock<sg4::Mutex> lock(*mutex_);
  while (true) {
    double seconds = 0;
    double now = sg4::Engine::get_clock();
    if (!scheduler_.PlanIteration(now, &seconds)) {
      events_->OnIdle(index_);  // e.g. its one prompt was rejected
      if (observer_) {
        observer_->OnIdle(index_, pool_index_, now, scheduler_.used_blocks());
      }
      idle_ = true;
      wake_->wait(lock);
      idle_ = false;
      // Let every actor with work for this instant (the router holding more
      // same-time arrivals, other transfers) run first, so they batch.
      sg4::this_actor::yield();
      events_->CountEvent();
      continue;
    }
    int run =
        hosts_.size() > 1 ? 1 : scheduler_.StableDecodeIterations(run_limit_);
    if (run == 1) {
      RunIteration(seconds);
      const double end = sg4::Engine::get_clock();
      scheduler_.FinishIteration(end);
      if (observer_) Report(now, &end, 1);
    } else {
      scheduler_.DecodeRunEndTimes(run, now, &end_times_);
      ThisRunGuard().CheckWaitUntil(end_times_[run - 1],
                                    "a run of decode iterations");
      idle_ = true;  // new work must cut the run short
      wake_->wait_until(lock, end_times_[run - 1]);
      idle_ = false;
      events_->CountEvent();
      double woke = sg4::Engine::get_clock();
      // Iterations whose end is <= now are done; one in progress finishes.
      int done = static_cast<int>(
          std::upper_bound(end_times_.begin(), end_times_.end(), woke) -
          end_times_.begin());
      int n = std::min(
          run, done + ((done == 0 || end_times_[done - 1] < woke) ? 1 : 0));
      if (end_times_[n - 1] > woke) {
        sg4::this_actor::sleep_until(end_times_[n - 1]);
        events_->CountEvent();
      }
      scheduler_.FinishDecodeIterations(n, end_times_);
      if (observer_) Report(now, end_times_.data(), n);
      // Plan the next run about twice as long as this instance's runs last:
      // end times computed past an interruption are wasted cost-model work.
      run_limit_ =
          std::min(max_decode_run_,
                   n < run ? std::max(kMinDecodeRun, 2 * n) : 2 * run_limit_);
    }
    events_->AfterIteration(index_);
  }
}

void Instance::RunIteration(double seconds) {
  if (hosts_.size() == 1) {
    ThisRunGuard().CheckWaitFor(seconds, "an iteration");
    sg4::this_actor::sleep_for(seconds);
    events_->CountEvent();
    return;
  }
  // Compute, then the cross-machine exchange (no overlap: an upper bound,
  // docs/simulator.md). The SimGrid communications pay the route's latency
  // once; the iteration's other dispatch and combine phases each wait it
  // too, added here.
  const hardware::ExpertAllToAll& a2a = pool_->all_to_all;
  const double route_latency_s = RouteLatencySeconds(*pool_, *pool_);
  const double phase_latency_s = (a2a.phases() - 1) * route_latency_s;
  const double compute_s = seconds + phase_latency_s;
  ThisRunGuard().CheckWaitFor(compute_s, "an iteration");
  sg4::this_actor::sleep_for(compute_s);
  events_->CountEvent();
  const double sent_s = sg4::Engine::get_clock();
  const double bytes = a2a.MachinePairBytes(
      static_cast<double>(scheduler_.planned_shape().total_tokens()));
  exchanges_.clear();
  for (sg4::Host* from : hosts_) {
    for (sg4::Host* to : hosts_) {
      if (from == to) continue;
      ThisRunGuard().CheckTransfer(bytes, pool_->scale_out_bytes_per_s,
                                   route_latency_s);
      exchanges_.push_back(
          sg4::Comm::sendto_async(from, to, static_cast<uint64_t>(bytes)));
    }
  }
  sg4::Comm::wait_all(exchanges_);
  events_->CountEvent();
  scheduler_.AddCrossMachineAllToAll(
      sg4::Engine::get_clock() - sent_s + phase_latency_s,
      bytes * static_cast<double>(exchanges_.size()));
}

void Instance::Report(double start_s, const double* end_s, int iterations) {
  IterationSpan span;
  span.instance = index_;
  span.pool = pool_index_;
  span.start_s = start_s;
  span.end_s = end_s;
  span.iterations = iterations;
  span.batch = scheduler_.planned_shape();
  span.kv_used_blocks = scheduler_.used_blocks();
  observer_->OnIterations(span);
}

}  // namespace fleetsim::sim
