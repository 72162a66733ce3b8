#include "mpi/mpi_session.h"

#include <mpi.h>

#include <cstdlib>

namespace fleetsim::mpi {

bool LaunchedByMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

absl::StatusOr<MpiWorld> InitMpi(int* argc, char*** argv) {
  if (MPI_Init(argc, argv) != MPI_SUCCESS)
    return absl::UnavailableError("MPI_Init failed");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MpiWorld world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  return world;
}

void FinalizeMpi() { MPI_Finalize(); }

}  // namespace fleetsim::mpi
