#include "planner/simulation_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "sim/isolated_run.h"

namespace fleetsim::planner {

SimulationPool::SimulationPool(int jobs) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  jobs_ = jobs > 0 ? jobs : static_cast<int>(cores > 0 ? cores : 1);
}

absl::StatusOr<std::vector<absl::StatusOr<SimulationResult>>>
SimulationPool::RunBatch(
    const std::vector<const sim::SimulationInputs*>& inputs) {
  std::vector<absl::StatusOr<SimulationResult>> results(
      inputs.size(), absl::UnknownError("not run"));
  std::map<int, std::pair<size_t, sim::SimulationChild>> running;  // fd -> job
  size_t next = 0;
  auto kill_all = [&running] {
    for (auto& [fd, job] : running) {
      kill(job.second.pid, SIGKILL);
      close(fd);
      waitpid(job.second.pid, nullptr, 0);
    }
    running.clear();
  };
  while (next < inputs.size() || !running.empty()) {
    while (next < inputs.size() && static_cast<int>(running.size()) < jobs_) {
      absl::StatusOr<sim::SimulationChild> child =
          sim::StartSimulationChild(*inputs[next]);
      if (!child.ok()) {
        results[next++] = child.status();
        continue;
      }
      running[child->read_fd] = {next++, *child};
      ++simulations_;
    }
    if (running.empty()) break;
    std::vector<pollfd> fds;
    for (const auto& [fd, job] : running) fds.push_back({fd, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), 100);
    if (cancelled_ && cancelled_()) {
      kill_all();
      return absl::CancelledError("planning cancelled");
    }
    if (ready <= 0) continue;
    for (const pollfd& p : fds) {
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      // The child writes its whole result once, at the end, so a readable
      // pipe means it is finishing; reading to EOF blocks only briefly.
      auto job = running[p.fd];
      running.erase(p.fd);
      results[job.first] = sim::FinishSimulationChild(job.second);
    }
  }
  return results;
}

}  // namespace fleetsim::planner
