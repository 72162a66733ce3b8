// File: sim/instance.h
//
// Instance: one model replica (tp x pp chips, or ep x pp under expert
// parallelism) as a SimGrid actor driving a BatchScheduler. Work is pushed into
// its scheduler by the router or a finished KV transfer, which then calls
// Wake(); the actor sleeps for each predicted iteration, or for a whole run of
// identical decode iterations at once, cut short by a wake-up. What comes out
// (finished prefills, finished requests, token gaps, idleness) goes to an
// InstanceEvents, so the instance knows nothing of the router or the metrics.
//
// An expert-parallel instance may span machines (PoolSpec::
// machines_per_instance > 1). Each of its iterations is then the cost
// model's time (which prices the all-to-all among each machine's ranks) plus
// the all-to-all's cross-machine share, moved as one SimGrid communication
// per ordered machine pair carrying the whole iteration's bytes (every MoE
// layer's dispatch and combine), so it shares the scale-out links with KV
// transfers in both directions. One communication per iteration, not per
// layer, keeps the simcalls per iteration at a handful (docs/simulator.md
// "Expert parallelism across machines" states the approximation); such an
// instance runs no multi-iteration decode runs, since every iteration's
// length depends on the links.
#ifndef FLEETSIM_SIM_INSTANCE_H_
#define FLEETSIM_SIM_INSTANCE_H_

#include <cstdint>
#include <vector>

#include "hardware/latency_model.h"
#include "sim/batch_scheduler.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "sim/run_observer.h"
#include "simgrid/s4u.hpp"

namespace fleetsim::sim {

// Where an instance's events go. Called from the instance's actor.
class InstanceEvents {
 public:
  virtual ~InstanceEvents() = default;
  // A PREFILL-role instance finished `request`'s prefill (its KV blocks
  // stay allocated there until released).
  virtual void OnPrefillDone(int instance, LiveRequestPtr request) = 0;
  // `request` produced its last token, or was rejected.
  virtual void OnComplete(LiveRequestPtr request) = 0;
  // `count` inter-token gaps of `gap_s` each.
  virtual void OnTokenGaps(double gap_s, int64_t count) = 0;
  // The instance found nothing to run and is about to wait for work.
  virtual void OnIdle(int instance) = 0;
  // An iteration (or a run of decode iterations) of `instance` ended.
  virtual void AfterIteration(int instance) = 0;
  // The actor woke from a SimGrid wait (SimulationResult.events).
  virtual void CountEvent() = 0;
};

// Settings of the actor loop (SimulationInputs' fields of the same names).
struct InstanceOptions {
  int max_decode_run = 256;
  int decode_stride = 16;
  RunObserver* observer = nullptr;  // SimulationInputs.observer
};

class Instance final {
 public:
  // `pool` (`pool_index` in the fleet), `latency` and `events` outlive the
  // instance; `hosts` are its machines (pool->machines_per_instance of
  // them), the actor runs on the first.
  Instance(InstanceEvents* events, int index, int pool_index,
           const PoolSpec* pool, std::vector<simgrid::s4u::Host*> hosts,
           const hardware::LatencyModel* latency,
           const InstanceOptions& options);

  // The actor's body; never returns (the actor is a daemon).
  void Run();

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
      simgrid::s4u::this_actor::yield();
    } else {
      wake_->notify_all();
    }
  }

  // Wake() from SimGrid's kernel (a KV transfer's completion callback,
  // sim/kv_transfers.h): no actor's turn to end there, so an instance with
  // nothing to do is simply left waiting.
  void WakeFromKernel() {
    if (idle_ && !scheduler_.idle()) wake_->notify_all();
  }

  BatchScheduler& scheduler() { return scheduler_; }
  const BatchScheduler& scheduler() const { return scheduler_; }
  const PoolSpec& pool() const { return *pool_; }
  int pool_index() const { return pool_index_; }
  simgrid::s4u::Host* host() const { return hosts_[0]; }
  // The machine that holds `request`'s KV: its attention group's. Groups
  // are spread evenly over the instance's machines and a request's group is
  // not tracked (docs/cost_model.md, "Expert parallelism"), so requests are
  // spread by id, deterministically.
  simgrid::s4u::Host* HostFor(const LiveRequest& request) const {
    return hosts_[static_cast<size_t>(request.id) % hosts_.size()];
  }
  int index() const { return index_; }

 private:
  InstanceEvents* events_;
  const int index_;
  const int pool_index_;
  const PoolSpec* pool_;
  std::vector<simgrid::s4u::Host*> hosts_;
  BatchScheduler scheduler_;
  simgrid::s4u::MutexPtr mutex_ = simgrid::s4u::Mutex::create();
  simgrid::s4u::ConditionVariablePtr wake_ =
      simgrid::s4u::ConditionVariable::create();
  const int max_decode_run_;
  int run_limit_;  // adaptive, in [kMinDecodeRun, max_decode_run_]
  // Runs the planned iteration: its compute time, then, on an instance
  // spanning machines, the all-to-all's cross-machine share (SimGrid
  // communications); ends when both did.
  void RunIteration(double seconds);
  // Tells observer_ (set) about the iterations that just finished.
  void Report(double start_s, const double* end_s, int iterations);

  RunObserver* const observer_;
  std::vector<double> end_times_;
  std::vector<simgrid::s4u::CommPtr> exchanges_;  // reused every iteration
  bool idle_ = false;  // waiting for work, or in an interruptible decode run
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_INSTANCE_H_
