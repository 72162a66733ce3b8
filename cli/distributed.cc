#include "cli/distributed.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/str_format.h"

#ifdef FLEETSIM_HAVE_MPI
#include "mpi/mpi_session.h"
#include "mpi/mpi_simulation_pool.h"
#include "mpi/mpi_worker.h"
#endif

namespace fleetsim::cli {
namespace {

#ifdef FLEETSIM_HAVE_MPI
bool mpi_running = false;
std::unique_ptr<mpi::MpiSimulationPool> mpi_pool;
#endif

}  // namespace

std::optional<int> StartDistributed(int* argc, char*** argv) {
#ifdef FLEETSIM_HAVE_MPI
  if (!mpi::LaunchedByMpi()) return std::nullopt;
  absl::StatusOr<mpi::MpiWorld> world = mpi::InitMpi(argc, argv);
  if (!world.ok()) {
    std::cerr << "fleetsim: " << world.status().message() << "\n";
    return 1;
  }
  mpi_running = true;
  if (world->rank > 0) {
    absl::Status served = mpi::RunMpiWorker();
    mpi::FinalizeMpi();
    mpi_running = false;
    if (served.ok()) return 0;
    std::cerr << "fleetsim rank " << world->rank << ": " << served.message()
              << "\n";
    return 1;
  }
  if (world->size > 1)
    mpi_pool = std::make_unique<mpi::MpiSimulationPool>(world->size);
  std::atexit(StopDistributed);
#else
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr ||
      std::getenv("PMIX_RANK") != nullptr) {
    std::cerr << "fleetsim: built without MPI (libopenmpi-dev), so every "
                 "rank runs the whole command on its own\n";
  }
#endif
  return std::nullopt;
}

planner::SimulationPool* DistributedPool() {
#ifdef FLEETSIM_HAVE_MPI
  return mpi_pool.get();
#else
  return nullptr;
#endif
}

void StopDistributed() {
#ifdef FLEETSIM_HAVE_MPI
  if (!mpi_running) return;
  mpi_running = false;
  if (mpi_pool != nullptr) {
    absl::Status stopped = mpi_pool->Stop();
    if (!stopped.ok()) std::cerr << "fleetsim: " << stopped.message() << "\n";
    const int64_t n = mpi_pool->simulations();
    if (n > 0) {
      std::cerr << absl::StrFormat(
          "[mpi] %d simulations on %d worker rank(s): %.2f in flight on "
          "average, %.1f ms MPI overhead per simulation, %.1f MB sent\n",
          n, mpi_pool->slots(),
          mpi_pool->batch_s() > 0 ? mpi_pool->busy_s() / mpi_pool->batch_s()
                                  : 0.0,
          1e3 * mpi_pool->overhead_s() / n, mpi_pool->bytes_sent() / 1e6);
    }
  }
  mpi::FinalizeMpi();
#endif
}

}  // namespace fleetsim::cli
