#include "planner/simulation_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <map>

#include "absl/strings/str_cat.h"
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
  std::vector<int> attempts(inputs.size(), 0);
  std::deque<size_t> queue;
  for (size_t i = 0; i < inputs.size(); ++i) queue.push_back(i);
  std::map<int, std::pair<size_t, sim::SimulationChild>> running;  // fd -> job
  auto kill_all = [&running] {
    for (auto& [fd, job] : running) {
      kill(job.second.pid, SIGKILL);
      close(fd);
      waitpid(job.second.pid, nullptr, 0);
    }
    running.clear();
  };
  // A job that ended in Internal (its process crashed, or the simulation
  // found itself inconsistent) runs once more before its error stands.
  auto finish = [&](size_t job, absl::StatusOr<SimulationResult> result) {
    if (result.status().code() == absl::StatusCode::kInternal &&
        attempts[job] < kAttempts) {
      queue.push_back(job);
      return;
    }
    if (!result.ok() && attempts[job] > 1) {
      result = absl::Status(result.status().code(),
                            absl::StrCat(result.status().message(), " (",
                                         attempts[job], " attempts)"));
    }
    results[job] = std::move(result);
  };
  while (!queue.empty() || !running.empty()) {
    while (!queue.empty() && static_cast<int>(running.size()) < jobs_) {
      size_t job = queue.front();
      queue.pop_front();
      ++attempts[job];
      absl::StatusOr<sim::SimulationChild> child =
          sim::StartSimulationChild(*inputs[job]);
      if (!child.ok()) {
        finish(job, child.status());
        continue;
      }
      running[child->read_fd] = {job, *child};
      ++simulations_;
    }
    if (running.empty()) continue;
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
      finish(job.first, sim::FinishSimulationChild(job.second));
    }
  }
  return results;
}

}  // namespace fleetsim::planner
