// File: service/planning_backend.h
//
// PlanningBackend: everything the gRPC PlanningService does, without gRPC —
// request checks, the concurrency limit, running simulations and plans in
// worker processes, stopping them when the caller gives up. The service
// class (planning_service.h) only translates between gRPC and this class;
// tests reach the logic through it without a server.
//
// Process model (docs/service.md): Create() forks a ForkServer helper while
// the process is still single-threaded; every Simulate and Plan then runs in
// its own job process forked by that helper, so SimGrid's one-engine-per-
// process rule holds and a crash costs one call, not the server. A call
// whose `stop` function turns non-OK (client cancelled, deadline passed)
// returns that status and its job process group is killed.
//
// Thread-safe: every method may be called from many threads at once.
#ifndef FLEETSIM_SERVICE_PLANNING_BACKEND_H_
#define FLEETSIM_SERVICE_PLANNING_BACKEND_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/planning_service.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "service/fork_server.h"
#include "service/plan_job.h"
#include "service/request_checks.h"

namespace fleetsim::service {

struct BackendOptions {
  // Data folder and request size limits.
  RequestLimits limits;
  // Simulations that may run at once, over all calls (a Simulate takes one
  // slot, a Plan min(jobs, max_concurrent)). A call that finds too few free
  // slots fails with ResourceExhausted instead of queueing. 0 = the number
  // of CPU cores. Each running simulation costs one core and its own memory
  // (tens of MB for small fleets).
  int max_concurrent = 0;
  // The planner Plan runs in its job process; null = RunPlanner
  // (plan_job.h). Tests substitute a stand-in.
  PlannerFn TEST_planner;
};

// Polled while a call waits on its worker: OK to go on; any other status
// ends the call with that status (Cancelled, DeadlineExceeded).
using StopFn = std::function<absl::Status()>;
using PlanProgressFn = std::function<void(const v1::PlanProgress&)>;
using StudyProgressFn = std::function<void(const v1::StudyProgress&)>;
using ReportFileFn = std::function<void(const v1::ReportFile&)>;

class PlanningBackend final {
 public:
  // Checks the options and starts the worker helper.
  // REQUIRES: the process has no threads besides the caller (call it before
  // starting a gRPC server or creating a channel).
  // Loads the data folder's catalogs once for every call (RequestLimits).
  // Errors: InvalidArgument (no data folder, negative limits, a bad catalog
  // file, naming file, line and field); NotFound (no chips/ or models/);
  // Internal (fork failed).
  static absl::StatusOr<std::unique_ptr<PlanningBackend>> Create(
      BackendOptions options);

  // Kills every running job and stops the helper.
  ~PlanningBackend();

  // One simulation (see SimulateRequest in
  // proto/fleetsim/v1/planning_service.proto). Errors: InvalidArgument naming
  // the bad field; PermissionDenied (a path outside the data folder);
  // ResourceExhausted (no free slot); whatever `stop` returned; Internal (the
  // worker process died).
  absl::StatusOr<v1::SimulationResult> Simulate(
      const v1::SimulateRequest& request, const StopFn& stop);

  // One planner search. `progress` is called from the calling thread for
  // each progress event, before the result is returned. Errors as Simulate,
  // plus the planner's own.
  absl::StatusOr<v1::PlanResult> Plan(const v1::PlanRequest& request,
                                      const StopFn& stop,
                                      const PlanProgressFn& progress);

  // One what-if study (StudyRequest in
  // proto/fleetsim/v1/planning_service.proto): `progress` for each progress
  // event, then `file` for each output, all from the calling thread before it
  // returns. Errors as Plan, plus FailedPrecondition (pdf without Chromium on
  // the server) and Unimplemented (base.fixed_fleet).
  absl::Status Study(const v1::StudyRequest& request, const StopFn& stop,
                     const StudyProgressFn& progress, const ReportFileFn& file);

  // The data folder's catalogs as Create loaded them, sorted by name (a
  // changed catalog is read when the server restarts). No errors today;
  // StatusOr keeps the RPC's shape.
  absl::StatusOr<v1::ListChipsResponse> ListChips() const;
  absl::StatusOr<v1::ListModelsResponse> ListModels() const;

  int max_concurrent() const { return options_.max_concurrent; }
  // Slots in use now.
  int running() const;
  // The helper process (its children are the running jobs).
  pid_t worker_helper_pid() const { return helper_->pid(); }
  // ForkServer::WaitForHelperExit: true once the helper has died, after
  // which every call fails.
  bool WaitForHelperExit(int wake_fd) const {
    return helper_->WaitForHelperExit(wake_fd);
  }

 private:
  class SlotLease;

  PlanningBackend(BackendOptions options, std::unique_ptr<ForkServer> helper)
      : options_(std::move(options)), helper_(std::move(helper)) {}

  // The slots a call asking for `jobs` simulations at once takes.
  int SlotsFor(int jobs) const;
  // Takes `slots` slots, or returns ResourceExhausted.
  absl::StatusOr<SlotLease> Acquire(int slots);
  void Release(int slots);

  // Submits `request` to a new job process and returns the job.
  absl::StatusOr<Job> StartJob(const std::string& request);

  // Constant after construction.
  const BackendOptions options_;
  const std::unique_ptr<ForkServer> helper_;

  mutable std::mutex mutex_;
  int slots_in_use_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_PLANNING_BACKEND_H_
