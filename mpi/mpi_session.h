// File: mpi/mpi_session.h
//
// Starting and ending MPI in a fleetsim process. fleetsim initialises MPI
// only when an MPI launcher started it (mpirun, mpiexec, srun), so a plain
// `fleetsim plan` never touches MPI and runs its simulations locally.
#ifndef FLEETSIM_MPI_MPI_SESSION_H_
#define FLEETSIM_MPI_MPI_SESSION_H_

#include "absl/status/statusor.h"

namespace fleetsim::mpi {

// Whether a launcher started this process: Open MPI's mpirun sets
// OMPI_COMM_WORLD_SIZE, PMIx launchers (srun --mpi=pmix, prterun) set
// PMIX_RANK, PMI-1/2 launchers (srun --mpi=pmi2, MPICH's mpiexec) PMI_SIZE.
bool LaunchedByMpi();

struct MpiWorld {
  int rank = 0;
  int size = 1;
};

// MPI_Init, with MPI_COMM_WORLD's errors returned instead of aborting (a
// failed call is a Status naming the rank). Unavailable when MPI fails.
absl::StatusOr<MpiWorld> InitMpi(int* argc, char*** argv);

// MPI_Finalize.
void FinalizeMpi();

}  // namespace fleetsim::mpi

#endif  // FLEETSIM_MPI_MPI_SESSION_H_
