// File: sim/run_guard.h
//
// RunGuard: the gate between one simulation's computed times and SimGrid.
// SimGrid aborts the whole process (xbt_assert "duration is not finite") on
// a NaN or infinite wait, and a worker process is shared by nothing but its
// run; a time that got past load-time validation (an extreme but finite
// chip or network figure, an extrapolated iteration table) must end this
// run with an error result instead. Every wait an actor hands to SimGrid is
// checked here first, and the run's events are counted against
// kMaxEventsPerRun (util/run_limits.h). The first failure is recorded, every
// other actor is killed and the failing actor exits, so the engine returns
// and RunSimulation reports the error.
//
// The checks are only usable from inside SimGrid actors.
#ifndef FLEETSIM_SIM_RUN_GUARD_H_
#define FLEETSIM_SIM_RUN_GUARD_H_

#include <cstdint>

#include "absl/status/status.h"
#include "util/run_limits.h"

namespace fleetsim::sim {

class RunGuard final {
 public:
  // Returns when the calling actor may wait until `end_s` (finite and at
  // most kMaxSimulatedSeconds); otherwise fails the run. `what` names the
  // wait in the error ("an iteration").
  void CheckWaitUntil(double end_s, const char* what);
  // As above for a wait of `seconds` from now, which must also be >= 0.
  void CheckWaitFor(double seconds, const char* what);
  // Checks a transfer of `bytes` over a path of `bytes_per_s` and
  // `latency_s` before it is handed to SimGrid as a whole number of bytes.
  void CheckTransfer(double bytes, double bytes_per_s, double latency_s);
  // Counts one event; fails the run past kMaxEventsPerRun.
  void CountEvent() {
    if (++events_ > kMaxEventsPerRun) FailEvents();
  }
  // CountEvent() for SimGrid's kernel (a completion callback), where no
  // actor can exit: past the limit it records the failure and kills every
  // actor, and returns false (the caller then changes nothing more).
  bool CountKernelEvent();
  // Records `status` (the first failure wins), kills every other actor and
  // ends the calling one. REQUIRES: !status.ok(); called from an actor.
  [[noreturn]] void Fail(absl::Status status);

  // OK, or the failure that stopped the run.
  const absl::Status& status() const { return status_; }
  int64_t events() const { return events_; }

 private:
  [[noreturn]] void FailEvents();
  absl::Status EventsExhausted() const;

  absl::Status status_;
  int64_t events_ = 0;
};

// The guard of this process's simulation: SimGrid runs one engine per
// process, so there is one run to guard, and every actor (instances, the
// arrivals) and the KV transfers' completion callback reach it without
// plumbing. RunSimulation resets it before the engine starts.
RunGuard& ThisRunGuard();

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_RUN_GUARD_H_
