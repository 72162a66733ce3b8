#include "service/fork_server.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace fleetsim::service {
namespace {

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

std::string FrameHeader(uint8_t kind, uint32_t length) {
  std::string header(5, '\0');
  header[0] = static_cast<char>(kind);
  for (int i = 0; i < 4; ++i)
    header[1 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return header;
}

uint32_t DecodeLength(const char* bytes) {
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i)
    length |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]))
              << (8 * i);
  return length;
}

// send() with MSG_NOSIGNAL so a closed peer is EPIPE, not SIGPIPE.
bool SendAll(int fd, const char* data, size_t size, int flags = 0) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = send(fd, data + done, size - done, flags | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string DescribeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    return absl::StrCat("died with signal ", sig, " (", strsignal(sig), ")");
  }
  return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
}

// ---- The helper process ----------------------------------------------------

struct HelperState {
  int control_fd = -1;
  int signal_fd = -1;
  std::map<pid_t, int> jobs;  // job pid -> helper's copy of its socket (-1 once
                              // the caller hung up and the job was killed)
};

[[noreturn]] void RunJobProcess(HelperState& state, int job_fd,
                                const JobMain& job_main) {
  setpgid(0, 0);  // own group: a kill reaches the job's children too
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  CloseFd(state.control_fd);
  CloseFd(state.signal_fd);
  for (auto& [pid, fd] : state.jobs) CloseFd(fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  job_main(job_fd);
  std::fflush(nullptr);
  close(job_fd);
  _exit(0);
}

void StartJob(HelperState& state, int job_fd, const JobMain& job_main) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {  // the caller sees EOF and reports the job as failed
    close(job_fd);
    return;
  }
  if (pid == 0) RunJobProcess(state, job_fd, job_main);
  setpgid(pid, pid);  // also done by the child; whichever runs first wins
  state.jobs[pid] = job_fd;
}

// Reaps every exited child: jobs (killing what is left of their process
// group and telling the caller how the job ended) and orphaned grandchildren
// this subreaper inherited.
void ReapChildren(HelperState& state) {
  while (true) {
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == 0) {
      return;
    }
    pid_t pid = info.si_pid;
    auto it = state.jobs.find(pid);
    if (it != state.jobs.end()) kill(-pid, SIGKILL);  // leftovers, if any
    int wait_status = 0;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    if (it == state.jobs.end()) continue;
    if (it->second >= 0) {
      std::string frame = FrameHeader(kExitFrame, 4);
      for (int i = 0; i < 4; ++i)
        frame.push_back(static_cast<char>((wait_status >> (8 * i)) & 0xff));
      // Never block the helper on a caller that is not reading.
      SendAll(it->second, frame.data(), frame.size(), MSG_DONTWAIT);
      close(it->second);
    }
    state.jobs.erase(it);
  }
}

[[noreturn]] void Shutdown(HelperState& state) {
  for (auto& [pid, fd] : state.jobs) {
    kill(-pid, SIGKILL);
    CloseFd(fd);
  }
  while (true) {  // reap jobs and inherited grandchildren until none is left
    pid_t pid = waitpid(-1, nullptr, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;
    if (state.jobs.count(pid) != 0) kill(-pid, SIGKILL);
  }
  _exit(0);
}

[[noreturn]] void HelperMain(int control_fd, pid_t server_pid,
                             const JobMain& job_main) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server_pid) _exit(1);  // the server died before prctl
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  HelperState state;
  state.control_fd = control_fd;
  state.signal_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (state.signal_fd < 0) _exit(1);

  std::vector<pollfd> fds;
  std::vector<pid_t> fd_owner;
  while (true) {
    fds.clear();
    fd_owner.clear();
    fds.push_back({state.control_fd, POLLIN, 0});
    fds.push_back({state.signal_fd, POLLIN, 0});
    for (const auto& [pid, fd] : state.jobs) {
      if (fd < 0) continue;
      fds.push_back({fd, POLLRDHUP, 0});  // the caller hung up
      fd_owner.push_back(pid);
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Shutdown(state);
    }
    if (fds[1].revents != 0) {
      signalfd_siginfo info;
      while (read(state.signal_fd, &info, sizeof(info)) > 0) {
      }
      ReapChildren(state);
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = state.jobs.find(fd_owner[i - 2]);
      if (it == state.jobs.end() || it->second != fds[i].fd) continue;
      kill(-it->first, SIGKILL);  // reaped on its SIGCHLD
      CloseFd(it->second);
    }
    if (fds[0].revents != 0) {
      char byte;
      char control[CMSG_SPACE(sizeof(int))];
      iovec iov{&byte, 1};
      msghdr msg;
      std::memset(&msg, 0, sizeof(msg));
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      ssize_t n = recvmsg(state.control_fd, &msg, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Shutdown(state);  // the server closed the socket or died
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      if (cmsg != nullptr && cmsg->cmsg_type == SCM_RIGHTS) {
        int job_fd;
        std::memcpy(&job_fd, CMSG_DATA(cmsg), sizeof(int));
        StartJob(state, job_fd, job_main);
      }
    }
  }
}

}  // namespace

// ---- Frames ----------------------------------------------------------------

absl::Status WriteFrame(int fd, uint8_t kind, const std::string& payload) {
  if (payload.size() > kMaxFrameBytes) {
    return absl::InternalError(
        absl::StrCat("frame of ", payload.size(), " bytes is over the limit"));
  }
  std::string header = FrameHeader(kind, static_cast<uint32_t>(payload.size()));
  if (!SendAll(fd, header.data(), header.size()) ||
      !SendAll(fd, payload.data(), payload.size())) {
    return Errno("write frame");
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> ReadFrame(int fd) {
  char header[5];
  if (!ReadAll(fd, header, sizeof(header))) {
    return absl::InternalError("read frame: peer closed");
  }
  uint32_t length = DecodeLength(header + 1);
  if (length > kMaxFrameBytes) {
    return absl::InternalError(
        absl::StrCat("frame of ", length, " bytes is over the limit"));
  }
  Frame frame;
  frame.kind = static_cast<uint8_t>(header[0]);
  frame.payload.resize(length);
  if (!ReadAll(fd, frame.payload.data(), length)) {
    return absl::InternalError("read frame: peer closed mid-frame");
  }
  return frame;
}

// ---- Job -------------------------------------------------------------------

Job::~Job() { Kill(); }

Job& Job::operator=(Job&& other) noexcept {
  if (this != &other) {
    Kill();
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

void Job::Kill() { CloseFd(fd_); }

absl::Status Job::Send(const std::string& request) {
  if (fd_ < 0) return absl::FailedPreconditionError("job already killed");
  absl::Status status = WriteFrame(fd_, kRequestFrame, request);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("could not hand the request to its worker process: ",
                     status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Frame> Job::Next(const std::function<absl::Status()>& stop,
                                std::chrono::milliseconds poll_interval) {
  if (fd_ < 0) return absl::FailedPreconditionError("job already killed");
  char chunk[1 << 16];
  while (true) {
    if (buffer_.size() >= 5) {
      uint32_t length = DecodeLength(buffer_.data() + 1);
      if (length > kMaxFrameBytes) {
        return absl::InternalError("worker process wrote an oversized frame");
      }
      if (buffer_.size() >= 5 + static_cast<size_t>(length)) {
        Frame frame;
        frame.kind = static_cast<uint8_t>(buffer_[0]);
        frame.payload = buffer_.substr(5, length);
        buffer_.erase(0, 5 + static_cast<size_t>(length));
        if (frame.kind != kExitFrame) return frame;
        int wait_status = 0;
        for (int i = 0; i < 4 && i < static_cast<int>(frame.payload.size());
             ++i) {
          wait_status |= static_cast<unsigned char>(frame.payload[i])
                         << (8 * i);
        }
        return absl::InternalError(absl::StrCat(
            "worker process ", DescribeExit(wait_status), " before answering"));
      }
    }
    pollfd pfd{fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(poll_interval.count()));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    if (ready <= 0) {
      absl::Status stopped = stop ? stop() : absl::OkStatus();
      if (!stopped.ok()) return stopped;
      continue;
    }
    ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read from worker process");
    if (n == 0) {
      return absl::InternalError(
          "worker process ended without answering (killed or crashed)");
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

// ---- ForkServer ------------------------------------------------------------

absl::StatusOr<std::unique_ptr<ForkServer>> ForkServer::Start(
    JobMain job_main) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Errno("socketpair");
  }
  pid_t server_pid = getpid();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Errno("fork");
  }
  if (pid == 0) {
    close(fds[0]);
    HelperMain(fds[1], server_pid, job_main);
  }
  close(fds[1]);
  return std::unique_ptr<ForkServer>(new ForkServer(pid, fds[0]));
}

ForkServer::~ForkServer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    CloseFd(control_fd_);
  }
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool ForkServer::WaitForHelperExit(int wake_fd) const {
  // The helper never writes on the control socket, so the socket turns
  // readable (end of file) only when the helper's end closes: it exited.
  pollfd fds[2] = {{control_fd_, POLLIN | POLLRDHUP, 0}, {wake_fd, POLLIN, 0}};
  while (true) {
    int ready = poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

absl::StatusOr<Job> ForkServer::Submit() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Errno("socketpair");
  }
  Job job(fds[0]);
  char byte = 'j';
  iovec iov{&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof(control));
  msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fds[1], sizeof(int));
  ssize_t sent;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (control_fd_ < 0) {
      close(fds[1]);
      return absl::UnavailableError("the worker helper has shut down");
    }
    do {
      sent = sendmsg(control_fd_, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
  }
  close(fds[1]);  // the helper holds its own copy now
  if (sent != 1) {
    return absl::UnavailableError(
        absl::StrCat("the worker helper process is gone (",
                     std::strerror(errno), "); restart the server"));
  }
  return job;
}

}  // namespace fleetsim::service
