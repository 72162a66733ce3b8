#include "sim/isolated_run.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace fleetsim::sim {
namespace {

// Frame written by the child: one status byte (0 = result, else the
// absl::StatusCode), then the serialized SimulationResult or the message.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void ChildMain(int write_fd, pid_t parent,
                            const SimulationInputs& inputs,
                            const std::string& requests_csv) {
  // The simulation dies with the process that started it: a planner or a
  // service worker killed by any signal, SIGKILL included, must not leave
  // simulations running. The check after prctl covers a parent that died
  // before it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(4);
  // The parent's handlers for the stop signals are not the child's.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGPIPE, SIG_DFL);
  std::ofstream csv;
  RequestSink sink;
  if (!requests_csv.empty()) {
    csv.open(requests_csv);
    csv << RequestCsvHeader();
    sink = [&csv](const RequestRecord& record) {
      csv << RequestCsvRow(record);
    };
  }
  absl::StatusOr<v1::SimulationResult> result = RunSimulation(inputs, sink);
  if (!requests_csv.empty()) {
    csv.close();
    if (!csv && result.ok()) {
      result = absl::DataLossError(
          absl::StrCat(requests_csv, ": write failed: ", std::strerror(errno)));
    }
  }
  std::string frame;
  if (result.ok()) {
    frame.push_back(0);
    frame += result->SerializeAsString();
  } else {
    frame.push_back(static_cast<char>(result.status().code()));
    frame += std::string(result.status().message());
  }
  bool written = WriteAll(write_fd, frame);
  close(write_fd);
  _exit(written ? 0 : 3);
}

}  // namespace

absl::StatusOr<SimulationChild> StartSimulationChild(
    const SimulationInputs& inputs, const std::string& requests_csv) {
  int fds[2];
  if (pipe(fds) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::fflush(nullptr);  // no buffered output duplicated into the child
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    ChildMain(fds[1], parent, inputs, requests_csv);
  }
  close(fds[1]);
  return SimulationChild{pid, fds[0]};
}

absl::StatusOr<v1::SimulationResult> FinishSimulationChild(
    const SimulationChild& child) {
  std::string frame;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = read(child.read_fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    frame.append(buffer, static_cast<size_t>(n));
  }
  close(child.read_fd);
  int wait_status = 0;
  while (waitpid(child.pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::InternalError(absl::StrCat(
        "simulation process died with signal ", WTERMSIG(wait_status), " (",
        strsignal(WTERMSIG(wait_status)), ")"));
  }
  if (frame.empty()) {
    return absl::InternalError(
        absl::StrCat("simulation process exited with status ",
                     WEXITSTATUS(wait_status), " and no result"));
  }
  if (frame[0] != 0) {
    return absl::Status(static_cast<absl::StatusCode>(frame[0]),
                        frame.substr(1));
  }
  v1::SimulationResult result;
  if (!result.ParseFromString(frame.substr(1))) {
    return absl::InternalError("simulation process wrote an unreadable result");
  }
  return result;
}

absl::StatusOr<v1::SimulationResult> RunSimulationInChild(
    const SimulationInputs& inputs, const std::string& requests_csv) {
  absl::StatusOr<SimulationChild> child =
      StartSimulationChild(inputs, requests_csv);
  if (!child.ok()) return child.status();
  return FinishSimulationChild(*child);
}

}  // namespace fleetsim::sim
