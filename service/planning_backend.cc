#include "service/planning_backend.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "report/chromium.h"
#include "service/worker_jobs.h"
#include "util/status_macros.h"

namespace fleetsim::service {

// Slots held by one call; released when it goes out of scope.
class PlanningBackend::SlotLease final {
 public:
  SlotLease(PlanningBackend* backend, int slots)
      : backend_(backend), slots_(slots) {}
  SlotLease(SlotLease&& other) noexcept
      : backend_(other.backend_), slots_(other.slots_) {
    other.backend_ = nullptr;
  }
  SlotLease& operator=(SlotLease&&) = delete;
  ~SlotLease() {
    if (backend_ != nullptr) backend_->Release(slots_);
  }
  int slots() const { return slots_; }

 private:
  PlanningBackend* backend_;
  int slots_;
};

absl::StatusOr<std::unique_ptr<PlanningBackend>> PlanningBackend::Create(
    BackendOptions options) {
  std::error_code ec;
  if (options.limits.data_dir.empty() ||
      !std::filesystem::is_directory(options.limits.data_dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data folder '", options.limits.data_dir, "' is not a directory"));
  }
  if (options.max_concurrent < 0) {
    return absl::InvalidArgumentError("max_concurrent must be >= 0");
  }
  if (options.limits.max_inline_trace_bytes < 0 ||
      options.limits.max_inline_trace_bytes > kMaxInlineTraceBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_inline_trace_bytes must be in [0, ", kMaxInlineTraceBytes,
        "] (a gRPC message is at most 2 GiB); got ",
        options.limits.max_inline_trace_bytes));
  }
  if (options.max_concurrent == 0) {
    options.max_concurrent =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  PlannerFn planner =
      options.TEST_planner ? options.TEST_planner : PlannerFn(RunPlanner);
  // Loaded once, before the helper forks, so every job shares them.
  FLEETSIM_ASSIGN_OR_RETURN(options.limits.catalogs,
                            sim::Catalogs::Load(options.limits.data_dir));
  RequestLimits limits = options.limits;
  FLEETSIM_ASSIGN_OR_RETURN(std::unique_ptr<ForkServer> helper,
                            ForkServer::Start([limits, planner](int fd) {
                              RunServiceJob(limits, planner, fd);
                            }));
  return std::unique_ptr<PlanningBackend>(
      new PlanningBackend(std::move(options), std::move(helper)));
}

PlanningBackend::~PlanningBackend() = default;

int PlanningBackend::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_in_use_;
}

int PlanningBackend::SlotsFor(int jobs) const {
  return jobs == 0 ? options_.max_concurrent
                   : std::min(jobs, options_.max_concurrent);
}

absl::StatusOr<PlanningBackend::SlotLease> PlanningBackend::Acquire(int slots) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slots_in_use_ + slots > options_.max_concurrent) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is running ", slots_in_use_, " of its ",
        options_.max_concurrent,
        " concurrent simulations (--max-concurrent); retry later"));
  }
  slots_in_use_ += slots;
  return SlotLease(this, slots);
}

void PlanningBackend::Release(int slots) {
  std::lock_guard<std::mutex> lock(mutex_);
  slots_in_use_ -= slots;
}

absl::StatusOr<Job> PlanningBackend::StartJob(const std::string& request) {
  FLEETSIM_ASSIGN_OR_RETURN(Job job, helper_->Submit());
  FLEETSIM_RETURN_IF_ERROR(job.Send(request));
  return job;
}

absl::StatusOr<v1::SimulationResult> PlanningBackend::Simulate(
    const v1::SimulateRequest& request, const StopFn& stop) {
  FLEETSIM_ASSIGN_OR_RETURN(v1::SimulateRequest checked,
                            CheckSimulateRequest(request, options_.limits));
  // Validate here, before taking a slot, so a bad request is answered
  // without a worker; the trace itself is read by the worker.
  FLEETSIM_RETURN_IF_ERROR(
      ScenarioFromRequest(checked, options_.limits, "trace_bytes").status());
  FLEETSIM_ASSIGN_OR_RETURN(SlotLease lease, Acquire(1));
  FLEETSIM_ASSIGN_OR_RETURN(Job job, StartJob(std::string(1, kSimulateJob) +
                                              checked.SerializeAsString()));
  FLEETSIM_ASSIGN_OR_RETURN(Frame frame, job.Next(stop));
  if (frame.kind == kErrorFrame) return DecodeError(frame.payload);
  v1::SimulationResult result;
  if (frame.kind != kSimulationResultFrame ||
      !result.ParseFromString(frame.payload)) {
    return absl::InternalError("worker process sent an unreadable result");
  }
  return result;
}

absl::StatusOr<v1::PlanResult> PlanningBackend::Plan(
    const v1::PlanRequest& request, const StopFn& stop,
    const PlanProgressFn& progress) {
  FLEETSIM_ASSIGN_OR_RETURN(v1::PlanRequest checked,
                            CheckPlanRequest(request, options_.limits));
  const int slots = SlotsFor(request.jobs());
  checked.set_jobs(slots);
  FLEETSIM_ASSIGN_OR_RETURN(SlotLease lease, Acquire(slots));
  FLEETSIM_ASSIGN_OR_RETURN(Job job, StartJob(std::string(1, kPlanJob) +
                                              checked.SerializeAsString()));
  while (true) {
    FLEETSIM_ASSIGN_OR_RETURN(Frame frame, job.Next(stop));
    switch (frame.kind) {
      case kPlanProgressFrame: {
        v1::PlanProgress event;
        if (!event.ParseFromString(frame.payload)) {
          return absl::InternalError("worker process sent unreadable progress");
        }
        if (progress) progress(event);
        break;
      }
      case kPlanResultFrame: {
        v1::PlanResult result;
        if (!result.ParseFromString(frame.payload)) {
          return absl::InternalError("worker process sent an unreadable plan");
        }
        return result;
      }
      case kErrorFrame:
        return DecodeError(frame.payload);
      default:
        return absl::InternalError(
            absl::StrCat("worker process sent frame kind ", frame.kind));
    }
  }
}

absl::Status PlanningBackend::Study(const v1::StudyRequest& request,
                                    const StopFn& stop,
                                    const StudyProgressFn& progress,
                                    const ReportFileFn& file) {
  FLEETSIM_ASSIGN_OR_RETURN(v1::StudyRequest checked,
                            CheckStudyRequest(request, options_.limits));
  if (checked.pdf()) {
    absl::StatusOr<std::string> chromium = report::FindChromium();
    if (!chromium.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("pdf: this server cannot print report.pdf: ",
                       chromium.status().message(), "; ask with pdf = false"));
    }
  }
  const int slots = SlotsFor(request.jobs());
  checked.set_jobs(slots);
  FLEETSIM_ASSIGN_OR_RETURN(SlotLease lease, Acquire(slots));
  FLEETSIM_ASSIGN_OR_RETURN(Job job, StartJob(std::string(1, kStudyJob) +
                                              checked.SerializeAsString()));
  while (true) {
    FLEETSIM_ASSIGN_OR_RETURN(Frame frame, job.Next(stop));
    switch (frame.kind) {
      case kStudyProgressFrame: {
        v1::StudyProgress event;
        if (!event.ParseFromString(frame.payload))
          return absl::InternalError("worker process sent unreadable progress");
        if (progress) progress(event);
        break;
      }
      case kReportFileFrame: {
        v1::ReportFile report;
        if (!report.ParseFromString(frame.payload))
          return absl::InternalError("worker process sent an unreadable file");
        if (file) file(report);
        break;
      }
      case kStudyDoneFrame:
        return absl::OkStatus();
      case kErrorFrame:
        return DecodeError(frame.payload);
      default:
        return absl::InternalError(
            absl::StrCat("worker process sent frame kind ", frame.kind));
    }
  }
}

absl::StatusOr<v1::ListChipsResponse> PlanningBackend::ListChips() const {
  v1::ListChipsResponse out;
  for (const v1::Chip* chip : options_.limits.catalogs->chips().entries())
    *out.add_chips() = *chip;
  return out;
}

absl::StatusOr<v1::ListModelsResponse> PlanningBackend::ListModels() const {
  v1::ListModelsResponse out;
  for (const v1::Model* model : options_.limits.catalogs->models().entries())
    *out.add_models() = *model;
  return out;
}

}  // namespace fleetsim::service
