// File: planner/simulation_pool.h
//
// SimulationPool runs batches of independent simulations, each in its own
// forked child process (sim/isolated_run.h), up to `jobs` at a time. This is
// how the planner uses every core while honouring SimGrid's one engine per
// process; each job is a self-contained SimulationInputs -> SimulationResult,
// so the same jobs could go to MPI ranks or another machine later.
//
// Not thread-safe: use from one thread that has no other threads running
// when RunBatch is called (fork copies only the calling thread).
#ifndef FLEETSIM_PLANNER_SIMULATION_POOL_H_
#define FLEETSIM_PLANNER_SIMULATION_POOL_H_

#include <atomic>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/result.pb.h"
#include "sim/simulation.h"

namespace fleetsim::planner {

class SimulationPool final {
 public:
  // `jobs` <= 0 means one per online core.
  explicit SimulationPool(int jobs);

  // Optional: polled while waiting; when it returns true, running children
  // are killed and RunBatch returns Cancelled.
  void set_cancelled(std::function<bool()> cancelled) {
    cancelled_ = std::move(cancelled);
  }

  // Runs every input; results come back in input order. A failed
  // simulation yields its error in place (it does not stop the others). An
  // Internal one (a crashed child process) is run kAttempts times before
  // its error stands, the message then saying so.
  // Errors: Cancelled (then no partial results).
  absl::StatusOr<std::vector<absl::StatusOr<SimulationResult>>> RunBatch(
      const std::vector<const sim::SimulationInputs*>& inputs);

  static constexpr int kAttempts = 2;

  int jobs() const { return jobs_; }
  int64_t simulations() const { return simulations_; }

 private:
  int jobs_;
  int64_t simulations_ = 0;
  std::function<bool()> cancelled_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_SIMULATION_POOL_H_
