#include "mpi/mpi_worker.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "mpi/mpi_messages.h"
#include "planner/portable_job.h"
#include "sim/isolated_run.h"
#include "util/status_macros.h"

namespace fleetsim::mpi {
namespace {

namespace fs = std::filesystem;

// A worker's input files and contexts, kept for the launch.
class WorkerState final {
 public:
  ~WorkerState() {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  absl::Status Absorb(const v1::WorkerAssignment& assignment) {
    for (const v1::ShippedFile& file : assignment.files())
      FLEETSIM_RETURN_IF_ERROR(Store(file));
    for (const auto& [id, context] : assignment.contexts()) {
      v1::SimulationContext local = context;
      if (!context.trace_sha256().empty()) {
        FLEETSIM_ASSIGN_OR_RETURN(
            *local.mutable_workload()->mutable_trace_path(),
            PathOf(context.trace_sha256()));
      }
      contexts_[id] = std::move(local);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::SimulationResult> Run(
      const v1::WorkerAssignment& assignment, double* child_wall_s) {
    auto context = contexts_.find(assignment.context_id());
    if (context == contexts_.end()) {
      return absl::InternalError(
          absl::StrCat("context ", assignment.context_id(), " was never sent"));
    }
    v1::SimulationTask task = assignment.task();
    if (!task.iteration_table_sha256().empty()) {
      FLEETSIM_ASSIGN_OR_RETURN(
          *task.mutable_cluster()->mutable_iteration_time_table(),
          PathOf(task.iteration_table_sha256()));
    }
    FLEETSIM_ASSIGN_OR_RETURN(sim::SimulationInputs inputs,
                              planner::InputsOf(context->second, task));
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<sim::SimulationChild> child =
        sim::StartSimulationChild(inputs);
    if (!child.ok()) return child.status();
    absl::StatusOr<v1::SimulationResult> result =
        sim::FinishSimulationChild(*child);
    *child_wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    return result;
  }

 private:
  // This rank's copy of the file whose SHA-256 is `sha256`.
  absl::StatusOr<std::string> PathOf(const std::string& sha256) const {
    auto it = file_paths_.find(sha256);
    if (it == file_paths_.end()) {
      return absl::InternalError(
          absl::StrCat("file ", sha256, " was never sent by rank 0"));
    }
    return it->second;
  }

  // Writes a file under dir_/SHA/NAME (its name kept: a trace's extension
  // may give its format).
  absl::Status Store(const v1::ShippedFile& file) {
    if (dir_.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern =
          (fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
           "fleetsim-rank-XXXXXX")
              .string();
      if (mkdtemp(pattern.data()) == nullptr) {
        return absl::PermissionDeniedError(
            absl::StrCat(pattern, ": cannot create the input folder"));
      }
      dir_ = pattern;
    }
    fs::path folder = fs::path(dir_) / file.sha256();
    std::error_code error;
    fs::create_directories(folder, error);
    fs::path path = folder / fs::path(file.name()).filename();
    std::ofstream out(path, std::ios::binary);
    out.write(file.content().data(),
              static_cast<std::streamsize>(file.content().size()));
    out.close();
    if (error || !out) {
      return absl::DataLossError(
          absl::StrCat(path.string(), ": cannot write the input file"));
    }
    file_paths_[file.sha256()] = path.string();
    return absl::OkStatus();
  }

  std::string dir_;
  std::map<std::string, std::string> file_paths_;  // by sha256
  std::map<std::string, v1::SimulationContext> contexts_;
};

}  // namespace

v1::WorkerReport ReportOf(const absl::StatusOr<v1::SimulationResult>& result) {
  v1::WorkerReport report;
  if (result.ok()) {
    *report.mutable_result() = *result;
  } else {
    report.set_status_code(static_cast<int>(result.status().code()));
    report.set_status_message(std::string(result.status().message()));
  }
  return report;
}

absl::StatusOr<v1::SimulationResult> ResultOfReport(
    const v1::WorkerReport& report) {
  if (report.status_code() == 0) return report.result();
  return absl::Status(static_cast<absl::StatusCode>(report.status_code()),
                      report.status_message());
}

absl::Status RunMpiWorker() {
  WorkerState state;
  ProbeBackoff backoff;
  while (true) {
    v1::WorkerAssignment assignment;
    int from = 0;
    FLEETSIM_ASSIGN_OR_RETURN(
        bool received, TryReceiveMessage(kAssignmentTag, &assignment, &from));
    if (!received) {
      backoff.Wait();
      continue;
    }
    backoff.Reset();
    if (assignment.stop()) return absl::OkStatus();
    double child_wall_s = 0;
    absl::Status absorbed = state.Absorb(assignment);
    v1::WorkerReport report = ReportOf(
        absorbed.ok() ? state.Run(assignment, &child_wall_s)
                      : absl::StatusOr<v1::SimulationResult>(absorbed));
    report.set_task_id(assignment.task_id());
    report.set_child_wall_s(child_wall_s);
    FLEETSIM_RETURN_IF_ERROR(SendMessage(report, 0, kReportTag));
  }
}

}  // namespace fleetsim::mpi
