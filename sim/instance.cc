#include "sim/instance.h"

#include <algorithm>
#include <mutex>

#include "sim/run_guard.h"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;

// Shortest decode run an instance plans after runs were cut short.
constexpr int kMinDecodeRun = 16;

}  // namespace

Instance::Instance(InstanceEvents* events, int index, int pool_index,
                   const PoolSpec* pool, sg4::Host* host,
                   const hardware::LatencyModel* latency,
                   const InstanceOptions& options)
    : events_(events),
      index_(index),
      pool_index_(pool_index),
      pool_(pool),
      host_(host),
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
    int run = scheduler_.StableDecodeIterations(run_limit_);
    if (run == 1) {
      ThisRunGuard().CheckWaitFor(seconds, "an iteration");
      sg4::this_actor::sleep_for(seconds);
      events_->CountEvent();
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
