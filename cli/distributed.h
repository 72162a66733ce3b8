// File: cli/distributed.h
//
// `mpirun -np N fleetsim plan|study ...` (or `srun`): rank 0 runs the
// command with an MpiSimulationPool (mpi/mpi_simulation_pool.h) and ranks
// 1..N-1 serve its simulations (mpi/mpi_worker.h) instead of running the
// command. Without a launcher, with one rank, or in a build without MPI,
// every process runs its command with the local pool (--jobs).
#ifndef FLEETSIM_CLI_DISTRIBUTED_H_
#define FLEETSIM_CLI_DISTRIBUTED_H_

#include <optional>

#include "planner/simulation_pool.h"

namespace fleetsim::cli {

// Called first in main. Under a launcher, initialises MPI; on a worker rank
// serves until rank 0 is done and returns the exit code for main to return.
// nullopt: this process runs the command.
std::optional<int> StartDistributed(int* argc, char*** argv);

// The pool plan and study run on: rank 0's MPI pool, or null (the local pool
// of --jobs).
planner::SimulationPool* DistributedPool();

// On rank 0: stops the workers, prints what the MPI pool did to stderr and
// finalises MPI. Runs at exit too, so every way out of a command stops the
// workers; a second call does nothing.
void StopDistributed();

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_DISTRIBUTED_H_
