#include "planner/local_simulation_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "planner/batch_attempts.h"
#include "sim/isolated_run.h"

namespace fleetsim::planner {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct RunningChild {
  size_t job = 0;
  sim::SimulationChild child;
  Clock::time_point started;
};

}  // namespace

LocalSimulationPool::LocalSimulationPool(int jobs) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  jobs_ = jobs > 0 ? jobs : static_cast<int>(cores > 0 ? cores : 1);
}

absl::StatusOr<BatchResults> LocalSimulationPool::RunBatch(
    const std::vector<SimulationJob>& jobs) {
  const Clock::time_point batch_start = Clock::now();
  BatchAttempts attempts(jobs.size(), kAttempts);
  std::map<int, RunningChild> running;  // by read fd
  auto kill_all = [&running] {
    for (auto& [fd, run] : running) {
      kill(run.child.pid, SIGKILL);
      close(fd);
      waitpid(run.child.pid, nullptr, 0);
    }
    running.clear();
  };
  while (attempts.has_next() || !running.empty()) {
    while (attempts.has_next() && static_cast<int>(running.size()) < jobs_) {
      size_t job = attempts.Next();
      absl::StatusOr<sim::SimulationChild> child =
          sim::StartSimulationChild(*jobs[job].inputs);
      if (!child.ok()) {
        attempts.Finish(job, child.status());
        continue;
      }
      running[child->read_fd] = {job, *child, Clock::now()};
      ++simulations_;
    }
    if (running.empty()) continue;
    std::vector<pollfd> fds;
    for (const auto& [fd, run] : running) fds.push_back({fd, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), 100);
    if (cancelled()) {
      kill_all();
      batch_s_ += SecondsSince(batch_start);
      return absl::CancelledError("planning cancelled");
    }
    if (ready <= 0) continue;
    for (const pollfd& p : fds) {
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      // The child writes its whole result once, at the end, so a readable
      // pipe means it is finishing; reading to EOF blocks only briefly.
      RunningChild run = running[p.fd];
      running.erase(p.fd);
      absl::StatusOr<v1::SimulationResult> result =
          sim::FinishSimulationChild(run.child);
      busy_s_ += SecondsSince(run.started);
      attempts.Finish(run.job, std::move(result));
    }
  }
  batch_s_ += SecondsSince(batch_start);
  return attempts.TakeResults();
}

}  // namespace fleetsim::planner
