// File: mpi/mpi_worker.h
//
// What a worker rank (1..N-1) of an `mpirun`/`srun` launch does instead of
// running the command: take assignments from rank 0 (mpi/mpi_simulation_
// pool.h), run each simulation in a forked child exactly as the local pool
// does (sim/isolated_run.h), and report the result, until told to stop.
// Traces arrive as bytes and are kept under a private temporary folder,
// removed at the end.
#ifndef FLEETSIM_MPI_MPI_WORKER_H_
#define FLEETSIM_MPI_MPI_WORKER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/simulation_job.pb.h"

namespace fleetsim::mpi {

// Serves until a stop. Errors: MPI failures (Unavailable), a temporary
// folder that cannot be written.
absl::Status RunMpiWorker();

// A simulation's outcome as a report carries it, and back.
v1::WorkerReport ReportOf(const absl::StatusOr<v1::SimulationResult>& result);
absl::StatusOr<v1::SimulationResult> ResultOfReport(
    const v1::WorkerReport& report);

}  // namespace fleetsim::mpi

#endif  // FLEETSIM_MPI_MPI_WORKER_H_
