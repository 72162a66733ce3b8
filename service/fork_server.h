// File: service/fork_server.h
//
// ForkServer: a small single-threaded helper process that forks one job
// process per request, for servers whose own process is multi-threaded.
//
// Why: SimGrid allows one engine per process, and fork() from a
// multi-threaded process (a gRPC server) copies only the calling thread,
// leaving locks held by the others locked forever in the child. So the
// server forks this helper once, at start-up, BEFORE any gRPC thread exists;
// later every simulation is forked from the helper, which never has more
// than one thread. A crash in a job is contained in its process.
//
// Per job, the caller creates a socketpair and hands one end to the helper
// (SCM_RIGHTS over the control socket); the job process inherits that end,
// reads its request from it and writes its answer frames to it. The
// caller's end is the whole job handle:
//   - closing it (Job's destructor) kills the job's process group with
//     SIGKILL if the job is still running — that is how a cancelled or
//     expired call stops its simulations, grandchildren included (the
//     planner's own per-simulation children share the job's process group);
//   - the helper reaps every job, and, as a child subreaper, every orphaned
//     grandchild, so nothing is left running or as a zombie;
//   - the helper exits (killing every job) when the server closes the
//     control socket or dies (PR_SET_PDEATHSIG), and a job dies with the
//     helper.
// Frames on a job socket: 1 byte kind, 4 bytes little-endian length,
// payload (at most kMaxFrameBytes).
#ifndef FLEETSIM_SERVICE_FORK_SERVER_H_
#define FLEETSIM_SERVICE_FORK_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fleetsim::service {

// Largest frame either side accepts (the request, a result).
inline constexpr uint32_t kMaxFrameBytes = 256u << 20;  // 256 MiB

// Frame kinds this layer reserves; jobs use 1..254 for their answers.
inline constexpr uint8_t kRequestFrame = 0;  // caller -> job, exactly one
// helper -> caller after the job process ended: 4-byte wait status. Next()
// turns it into Internal ("... died with signal 11 (Segmentation fault)");
// a job that answered is never read this far.
inline constexpr uint8_t kExitFrame = 255;

struct Frame {
  uint8_t kind = 0;
  std::string payload;
};

// Blocking frame I/O on a job socket, for job processes. Errors: Internal
// (peer closed, I/O error, oversized frame).
absl::Status WriteFrame(int fd, uint8_t kind, const std::string& payload);
absl::StatusOr<Frame> ReadFrame(int fd);

// What a job process runs: read the request with ReadFrame(fd), write
// answer frames with WriteFrame(fd, ...), return. The process then exits.
// Runs in a fresh single-threaded process, so it may start a SimGrid engine
// or fork further children.
using JobMain = std::function<void(int fd)>;

// The caller's end of one running job. Move-only; thread-compatible (one
// thread uses a Job at a time). Destroying it kills the job if it is still
// running.
class Job final {
 public:
  Job() = default;
  explicit Job(int fd) : fd_(fd) {}
  ~Job();
  Job(Job&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Job& operator=(Job&& other) noexcept;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // Sends the request frame (kind 0). Errors: Internal (the job died).
  absl::Status Send(const std::string& request);

  // Waits for the next frame. Every `poll_interval` it asks `stop()`; when
  // that returns a non-OK status, Next returns it (the caller then destroys
  // the Job, which kills the process). Errors: the stop status; Internal
  // when the job process ends without a frame (it crashed or was killed).
  absl::StatusOr<Frame> Next(
      const std::function<absl::Status()>& stop,
      std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20));

  // Kills the job now (idempotent); the same as destroying it.
  void Kill();

 private:
  int fd_ = -1;
  std::string buffer_;  // bytes read but not yet returned as a frame
};

// Owns the helper process. Submit() is thread-safe.
class ForkServer final {
 public:
  // Forks the helper. `job_main` is copied into it and runs in every job
  // process. REQUIRES: the calling process has no other threads yet (start
  // it before building the gRPC server). Errors: Internal (socketpair, fork).
  static absl::StatusOr<std::unique_ptr<ForkServer>> Start(JobMain job_main);

  // Closes the control socket and waits for the helper to exit; the helper
  // kills any job still running first.
  ~ForkServer();
  ForkServer(const ForkServer&) = delete;
  ForkServer& operator=(const ForkServer&) = delete;

  // Starts a job process. Errors: Unavailable when the helper is gone;
  // Internal (socketpair).
  absl::StatusOr<Job> Submit();

  // Blocks until the helper process has ended (returns true: no job can
  // start any more) or `wake_fd` turns readable (false). For one watcher
  // thread, which must return before the ForkServer is destroyed.
  bool WaitForHelperExit(int wake_fd) const;

  // The helper's pid (tests look for its children in /proc).
  pid_t pid() const { return pid_; }

 private:
  ForkServer(pid_t pid, int control_fd) : pid_(pid), control_fd_(control_fd) {}

  const pid_t pid_;
  std::mutex mutex_;  // serialises sendmsg on control_fd_
  int control_fd_;
};

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_FORK_SERVER_H_
