// File: mpi/mpi_simulation_pool.h
//
// MpiSimulationPool: the SimulationPool of rank 0 in an `mpirun -np N` (or
// `srun`) launch. Ranks 1..N-1 are workers (mpi/mpi_worker.h), each running
// one simulation at a time in a forked child, as the local pool does. Each
// simulation goes to the first idle rank (simulations differ 100x in cost,
// so no static split); a retry of a crashed one prefers another rank. A
// rank gets a trace's bytes and a plan's shared inputs once
// (planner/portable_job.h), then only each simulation's cluster.
//
// A simulation already running on a worker cannot be stopped: after a
// cancelled batch its result is discarded when it arrives. A rank that dies
// ends the launch (Open MPI's mpirun aborts every rank), so a plan is never
// completed with its work missing.
//
// REQUIRES: MPI initialised (mpi/mpi_session.h); this is rank 0 of at
// least 2. Not thread-safe.
#ifndef FLEETSIM_MPI_MPI_SIMULATION_POOL_H_
#define FLEETSIM_MPI_MPI_SIMULATION_POOL_H_

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fleetsim/v1/simulation_job.pb.h"
#include "planner/simulation_pool.h"

namespace fleetsim::mpi {

class MpiSimulationPool final : public planner::SimulationPool {
 public:
  explicit MpiSimulationPool(int world_size);

  absl::StatusOr<planner::BatchResults> RunBatch(
      const std::vector<planner::SimulationJob>& jobs) override;
  // One per worker rank.
  int slots() const override { return static_cast<int>(ranks_.size()) - 1; }

  // Waits for simulations still running (a cancelled batch's), then tells
  // every worker to stop. Call once, before MPI_Finalize.
  absl::Status Stop();

  // Sum over simulations of the round trip from rank 0 less the child's own
  // fork-to-reap time, s: what the MPI path adds to each simulation.
  double overhead_s() const { return overhead_s_; }
  int64_t bytes_sent() const { return bytes_sent_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Rank {
    std::set<std::string> files;     // sha256 of the input files it holds
    std::set<std::string> contexts;  // context ids it holds
    bool busy = false;
    bool stale = false;  // running for a batch that was cancelled
    uint64_t task_id = 0;
    size_t job = 0;
    Clock::time_point sent;
  };

  // The assignment of `job` for `rank`, with what the rank lacks.
  absl::StatusOr<v1::WorkerAssignment> AssignmentFor(
      const planner::SimulationJob& job, Rank& rank);
  // Adds the file at `path` to `assignment` unless `rank` holds it already;
  // its SHA-256.
  absl::StatusOr<std::string> Ship(const std::string& path, Rank& rank,
                                   v1::WorkerAssignment* assignment);
  // An idle rank, other than `avoid` when another is idle; 0 when none.
  int IdleRank(int avoid) const;
  // Receives one report if one is waiting; sets `*rank` to its sender.
  absl::StatusOr<bool> TryReceive(v1::WorkerReport* report, int* rank);

  std::vector<Rank> ranks_;                       // by rank; [0] is this one
  std::map<std::string, v1::ShippedFile> files_;  // by path as rank 0 reads it
  uint64_t next_task_id_ = 1;
  double overhead_s_ = 0;
  int64_t bytes_sent_ = 0;
};

}  // namespace fleetsim::mpi

#endif  // FLEETSIM_MPI_MPI_SIMULATION_POOL_H_
