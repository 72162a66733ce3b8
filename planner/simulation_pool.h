// File: planner/simulation_pool.h
//
// SimulationPool: where the planner's simulations run. A batch of
// independent simulations goes in; their results come back in input order,
// whatever order they finished in, so a plan is the same on every pool.
// Two implementations: LocalSimulationPool (planner/local_simulation_pool.h,
// a forked child per simulation on this machine, `--jobs` at a time) and
// MpiSimulationPool (mpi/mpi_simulation_pool.h, the same children forked by
// the worker ranks of an `mpirun`/`srun` launch).
#ifndef FLEETSIM_PLANNER_SIMULATION_POOL_H_
#define FLEETSIM_PLANNER_SIMULATION_POOL_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "sim/simulation.h"

namespace fleetsim::planner {

// One simulation: the resolved inputs, and the cluster they were resolved
// from (sim::ResolveFleet), which is what a pool that runs it in another
// process image sends (planner/portable_job.h).
struct SimulationJob {
  const sim::SimulationInputs* inputs = nullptr;
  const v1::Cluster* cluster = nullptr;
};

using BatchResults = std::vector<absl::StatusOr<v1::SimulationResult>>;

class SimulationPool {
 public:
  virtual ~SimulationPool() = default;

  // Polled while waiting; when it returns true, RunBatch stops and returns
  // Cancelled (simulations this process started are killed).
  void set_cancelled(std::function<bool()> cancelled) {
    cancelled_ = std::move(cancelled);
  }

  // Runs every job; results come back in job order. A failed simulation
  // yields its error in place (it does not stop the others). An Internal
  // one (a crashed child process) is run up to kAttempts times before its
  // error stands, the message then saying so (planner/batch_attempts.h).
  // Errors: Cancelled (then no partial results); a pool that can no longer
  // run simulations (an MPI rank lost) says so.
  virtual absl::StatusOr<BatchResults> RunBatch(
      const std::vector<SimulationJob>& jobs) = 0;

  // Simulations it runs at once.
  virtual int slots() const = 0;

  static constexpr int kAttempts = 2;

  // Simulations started, retries included, over the pool's life.
  int64_t simulations() const { return simulations_; }
  // Sum over simulations of their wall time in a slot, and the wall time
  // spent inside RunBatch, s: busy_s / batch_s is the mean number of
  // simulations in flight (how well a search fills the pool).
  double busy_s() const { return busy_s_; }
  double batch_s() const { return batch_s_; }

 protected:
  bool cancelled() const { return cancelled_ && cancelled_(); }

  int64_t simulations_ = 0;
  double busy_s_ = 0;
  double batch_s_ = 0;

 private:
  std::function<bool()> cancelled_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_SIMULATION_POOL_H_
