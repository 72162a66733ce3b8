// File: sim/run_observer.h
//
// RunObserver: what a caller may watch of a run as it happens, beyond the
// per-request records (RequestSink): each instance's iterations with their
// batch and KV use, its idle moments, and KV transfers. Behind the outputs a
// user asks for (replay's --timeseries-interval-s, sim/timeseries.h, and
// --trace-events, sim/trace_events.h). Off (SimulationInputs.observer null,
// the default) it costs the instance loop one pointer test per iteration.
// Calls come from the run's actors, one at a time, in simulated-time order
// for each instance (not across instances: a decode run is reported when it
// ends).
#ifndef FLEETSIM_SIM_RUN_OBSERVER_H_
#define FLEETSIM_SIM_RUN_OBSERVER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "hardware/latency_model.h"

namespace fleetsim::sim {

// One iteration, or a run of identical decode iterations (sim/instance.h),
// of one instance.
struct IterationSpan {
  int instance = 0;  // index over the fleet's instances, pool by pool
  int pool = 0;      // index in FleetSpec.pools
  double start_s = 0;
  const double* end_s = nullptr;  // each iteration's end, `iterations` of them
  int iterations = 1;
  // The first iteration's batch (a decode run's later ones read one more
  // context token per request each).
  hardware::BatchShape batch;
  int64_t kv_used_blocks = 0;  // after the last iteration
};

// One request's KV moving from a prefill instance to a decode instance.
struct KvTransferSpan {
  int64_t request_id = 0;
  int from_instance = 0;
  int to_instance = 0;
  double start_s = 0;
  double end_s = 0;
  double bytes = 0;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnIterations(const IterationSpan& span) = 0;
  // The instance found nothing to run at `now_s` and waits for work.
  virtual void OnIdle(int instance, int pool, double now_s,
                      int64_t kv_used_blocks) = 0;
  virtual void OnKvTransfer(const KvTransferSpan& span) = 0;
};

// Several observers as one, each called in the order given.
class RunObservers final : public RunObserver {
 public:
  explicit RunObservers(std::vector<RunObserver*> observers)
      : observers_(std::move(observers)) {}
  void OnIterations(const IterationSpan& span) override {
    for (RunObserver* o : observers_) o->OnIterations(span);
  }
  void OnIdle(int instance, int pool, double now_s,
              int64_t kv_used_blocks) override {
    for (RunObserver* o : observers_)
      o->OnIdle(instance, pool, now_s, kv_used_blocks);
  }
  void OnKvTransfer(const KvTransferSpan& span) override {
    for (RunObserver* o : observers_) o->OnKvTransfer(span);
  }

 private:
  std::vector<RunObserver*> observers_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_RUN_OBSERVER_H_
