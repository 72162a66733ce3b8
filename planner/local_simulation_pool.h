// File: planner/local_simulation_pool.h
//
// LocalSimulationPool runs a batch's simulations on this machine, each in
// its own forked child process (sim/isolated_run.h), up to `jobs` at a
// time: how the planner uses every core while honouring SimGrid's one
// engine per process.
//
// Not thread-safe: use from one thread that has no other threads running
// when RunBatch is called (fork copies only the calling thread).
#ifndef FLEETSIM_PLANNER_LOCAL_SIMULATION_POOL_H_
#define FLEETSIM_PLANNER_LOCAL_SIMULATION_POOL_H_

#include <vector>

#include "planner/simulation_pool.h"

namespace fleetsim::planner {

class LocalSimulationPool final : public SimulationPool {
 public:
  // `jobs` <= 0 means one per online core.
  explicit LocalSimulationPool(int jobs);

  // Only `inputs` of each job is used.
  absl::StatusOr<BatchResults> RunBatch(
      const std::vector<SimulationJob>& jobs) override;
  int slots() const override { return jobs_; }

 private:
  int jobs_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_LOCAL_SIMULATION_POOL_H_
