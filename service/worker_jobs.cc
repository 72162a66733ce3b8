#include "service/worker_jobs.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "economics/tco.h"
#include "service/fork_server.h"
#include "service/study_job.h"
#include "sim/simulation.h"
#include "util/status_macros.h"

namespace fleetsim::service {
namespace {

// Writes the inline trace to an anonymous in-memory file and returns a
// path the trace reader can open ("/proc/self/fd/N"); nothing touches disk
// and the file goes away with the process.
absl::StatusOr<std::string> InlineTraceFile(const std::string& bytes) {
  int fd = memfd_create("trace_bytes", 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("memfd_create: ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(
          absl::StrCat("write inline trace: ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::StrCat("/proc/self/fd/", fd);
}

// Runs `run(trace_path)` with the path the trace reader should open for a
// request's `trace_bytes`: "" when there are none, else an in-memory file
// (InlineTraceFile) that every process forked from here inherits, so a
// Plan's simulations all read the same bytes. An error that names the
// in-memory file names the request field `trace_bytes` instead (its code
// unchanged). `Run`: (const std::string&) -> absl::StatusOr<T>.
template <typename T, typename Run>
absl::StatusOr<T> WithInlineTrace(const std::string& trace_bytes,
                                  const Run& run) {
  std::string trace_path;
  if (!trace_bytes.empty()) {
    absl::StatusOr<std::string> path = InlineTraceFile(trace_bytes);
    if (!path.ok()) return path.status();
    trace_path = *path;
  }
  absl::StatusOr<T> result = run(trace_path);
  if (!result.ok() && !trace_path.empty()) {
    return absl::Status(result.status().code(),
                        absl::StrReplaceAll(result.status().message(),
                                            {{trace_path, "trace_bytes"}}));
  }
  return result;
}

absl::StatusOr<v1::SimulationResult> RunSimulate(
    const RequestLimits& limits, const v1::SimulateRequest& request) {
  return WithInlineTrace<v1::SimulationResult>(
      request.trace_bytes(),
      [&](const std::string& trace_path)
          -> absl::StatusOr<v1::SimulationResult> {
        FLEETSIM_ASSIGN_OR_RETURN(
            sim::SimulationInputs inputs,
            ScenarioFromRequest(request, limits, trace_path));
        inputs.operator_totals = true;  // as replay's summary.json
        FLEETSIM_ASSIGN_OR_RETURN(
            economics::TcoSettings tco,
            economics::LoadTcoSettings(limits.data_dir, request.cost_basis(),
                                       request.site(), "site"));
        FLEETSIM_RETURN_IF_ERROR(
            economics::CheckPriceable(inputs.fleet, inputs.h100, tco));
        FLEETSIM_ASSIGN_OR_RETURN(v1::SimulationResult result,
                                  sim::RunSimulation(inputs));
        FLEETSIM_RETURN_IF_ERROR(sim::RequireRequests(result, inputs.workload));
        FLEETSIM_RETURN_IF_ERROR(economics::PriceSimulation(
            inputs.fleet, inputs.h100, tco, &result));
        return result;
      });
}

absl::StatusOr<v1::PlanResult> RunPlan(const RequestLimits& limits,
                                       const PlannerFn& planner,
                                       const v1::PlanRequest& request,
                                       const PlanProgressSink& progress) {
  return WithInlineTrace<v1::PlanResult>(
      request.trace_bytes(), [&](const std::string& trace_path) {
        if (trace_path.empty()) {
          return planner(request, limits.data_dir, progress);
        }
        // The planner reads workload.trace_path only.
        v1::PlanRequest with_file = request;
        with_file.clear_trace_bytes();
        with_file.mutable_workload()->set_trace_path(trace_path);
        return planner(with_file, limits.data_dir, progress);
      });
}

void Answer(int fd, uint8_t kind, const std::string& payload) {
  // A failed write means the caller hung up; the helper kills this process.
  (void)WriteFrame(fd, kind, payload);
}

// Parses a job request; answers an error frame when it cannot.
bool Parse(int fd, const std::string& body,
           google::protobuf::Message* request) {
  if (request->ParseFromString(body)) return true;
  Answer(fd, kErrorFrame,
         EncodeError(absl::InternalError("unreadable job request")));
  return false;
}

}  // namespace

std::string EncodeError(const absl::Status& status) {
  std::string payload(1, static_cast<char>(status.code()));
  payload += std::string(status.message());
  return payload;
}

absl::Status DecodeError(const std::string& payload) {
  if (payload.empty()) return absl::InternalError("empty error frame");
  auto code =
      static_cast<absl::StatusCode>(static_cast<unsigned char>(payload[0]));
  if (code == absl::StatusCode::kOk) {
    return absl::InternalError("worker sent an error frame without an error");
  }
  return absl::Status(code, payload.substr(1));
}

void RunServiceJob(const RequestLimits& limits, const PlannerFn& planner,
                   int fd) {
  absl::StatusOr<Frame> frame = ReadFrame(fd);
  if (!frame.ok() || frame->kind != kRequestFrame || frame->payload.empty()) {
    return;  // the caller went away before sending its request
  }
  const char kind = frame->payload[0];
  const std::string body = frame->payload.substr(1);
  if (kind == kSimulateJob) {
    v1::SimulateRequest request;
    if (!Parse(fd, body, &request)) return;
    absl::StatusOr<v1::SimulationResult> result = RunSimulate(limits, request);
    if (result.ok()) {
      Answer(fd, kSimulationResultFrame, result->SerializeAsString());
    } else {
      Answer(fd, kErrorFrame, EncodeError(result.status()));
    }
    return;
  }
  if (kind == kPlanJob) {
    v1::PlanRequest request;
    if (!Parse(fd, body, &request)) return;
    absl::StatusOr<v1::PlanResult> result = RunPlan(
        limits, planner, request, [fd](const v1::PlanProgress& progress) {
          Answer(fd, kPlanProgressFrame, progress.SerializeAsString());
        });
    if (result.ok()) {
      Answer(fd, kPlanResultFrame, result->SerializeAsString());
    } else {
      Answer(fd, kErrorFrame, EncodeError(result.status()));
    }
    return;
  }
  if (kind == kStudyJob) {
    v1::StudyRequest request;
    if (!Parse(fd, body, &request)) return;
    absl::Status status = RunStudyJob(
        request, limits,
        [fd](const v1::StudyProgress& progress) {
          Answer(fd, kStudyProgressFrame, progress.SerializeAsString());
        },
        [fd](const v1::ReportFile& file) {
          Answer(fd, kReportFileFrame, file.SerializeAsString());
        });
    Answer(fd, status.ok() ? kStudyDoneFrame : kErrorFrame,
           status.ok() ? "" : EncodeError(status));
    return;
  }
  Answer(fd, kErrorFrame, EncodeError(absl::InternalError("unknown job kind")));
}

}  // namespace fleetsim::service
