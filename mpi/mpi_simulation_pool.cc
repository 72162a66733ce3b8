#include "mpi/mpi_simulation_pool.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "mpi/mpi_messages.h"
#include "mpi/mpi_worker.h"
#include "planner/batch_attempts.h"
#include "planner/portable_job.h"
#include "util/sha256.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::mpi {
namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

MpiSimulationPool::MpiSimulationPool(int world_size)
    : ranks_(static_cast<size_t>(world_size)) {}

absl::StatusOr<std::string> MpiSimulationPool::Ship(
    const std::string& path, Rank& rank, v1::WorkerAssignment* assignment) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    v1::ShippedFile file;
    FLEETSIM_RETURN_IF_ERROR(ReadFileToString(path, file.mutable_content()));
    file.set_sha256(Sha256Hex(file.content()));
    file.set_name(std::filesystem::path(path).filename().string());
    it = files_.emplace(path, std::move(file)).first;
  }
  if (rank.files.insert(it->second.sha256()).second)
    *assignment->add_files() = it->second;
  return it->second.sha256();
}

absl::StatusOr<v1::WorkerAssignment> MpiSimulationPool::AssignmentFor(
    const planner::SimulationJob& job, Rank& rank) {
  v1::WorkerAssignment assignment;
  v1::SimulationContext context = planner::ContextOf(*job.inputs);
  if (!context.workload().trace_path().empty()) {
    FLEETSIM_ASSIGN_OR_RETURN(
        *context.mutable_trace_sha256(),
        Ship(context.workload().trace_path(), rank, &assignment));
  }
  const std::string context_id = Sha256Hex(context.SerializeAsString());
  if (rank.contexts.insert(context_id).second)
    (*assignment.mutable_contexts())[context_id] = std::move(context);
  assignment.set_context_id(context_id);
  FLEETSIM_ASSIGN_OR_RETURN(*assignment.mutable_task(), planner::TaskOf(job));
  const std::string& table = assignment.task().cluster().iteration_time_table();
  if (!table.empty()) {
    FLEETSIM_ASSIGN_OR_RETURN(
        *assignment.mutable_task()->mutable_iteration_table_sha256(),
        Ship(table, rank, &assignment));
  }
  assignment.set_task_id(next_task_id_++);
  return assignment;
}

int MpiSimulationPool::IdleRank(int avoid) const {
  int found = 0;
  for (int r = 1; r < static_cast<int>(ranks_.size()); ++r) {
    if (ranks_[r].busy) continue;
    if (r != avoid) return r;
    found = r;
  }
  return found;
}

absl::StatusOr<bool> MpiSimulationPool::TryReceive(v1::WorkerReport* report,
                                                   int* rank) {
  FLEETSIM_ASSIGN_OR_RETURN(bool received,
                            TryReceiveMessage(kReportTag, report, rank));
  if (!received) return false;
  if (*rank <= 0 || *rank >= static_cast<int>(ranks_.size()) ||
      !ranks_[*rank].busy || ranks_[*rank].task_id != report->task_id()) {
    return absl::InternalError(absl::StrCat("rank ", *rank, " reported task ",
                                            report->task_id(),
                                            " it was not running"));
  }
  return true;
}

absl::StatusOr<planner::BatchResults> MpiSimulationPool::RunBatch(
    const std::vector<planner::SimulationJob>& jobs) {
  const Clock::time_point batch_start = Clock::now();
  planner::BatchAttempts attempts(jobs.size(), kAttempts);
  std::vector<int> last_rank(jobs.size(), 0);
  int in_flight = 0;  // this batch's
  ProbeBackoff backoff;
  while (attempts.has_next() || in_flight > 0) {
    while (attempts.has_next()) {
      // Peek: a job waits in the queue until a rank is free for it.
      int rank = IdleRank(0);
      if (rank == 0) break;
      size_t job = attempts.Next();
      rank = IdleRank(last_rank[job]);
      absl::StatusOr<v1::WorkerAssignment> assignment =
          AssignmentFor(jobs[job], ranks_[rank]);
      if (!assignment.ok()) {
        attempts.Finish(job, assignment.status());
        continue;
      }
      // Before the send: a large one returns only once the rank has it.
      const Clock::time_point sent = Clock::now();
      FLEETSIM_RETURN_IF_ERROR(SendMessage(*assignment, rank, kAssignmentTag));
      bytes_sent_ += static_cast<int64_t>(assignment->ByteSizeLong());
      Rank& r = ranks_[rank];
      r.busy = true;
      r.stale = false;
      r.task_id = assignment->task_id();
      r.job = job;
      r.sent = sent;
      last_rank[job] = rank;
      ++in_flight;
      ++simulations_;
    }
    v1::WorkerReport report;
    int from = 0;
    FLEETSIM_ASSIGN_OR_RETURN(bool received, TryReceive(&report, &from));
    if (!received) {
      if (cancelled()) {
        for (Rank& r : ranks_) r.stale = r.busy;
        batch_s_ += Seconds(Clock::now() - batch_start);
        return absl::CancelledError("planning cancelled");
      }
      backoff.Wait();
      continue;
    }
    backoff.Reset();
    Rank& r = ranks_[from];
    r.busy = false;
    if (r.stale) continue;  // a cancelled batch's
    --in_flight;
    const double round_trip_s = Seconds(Clock::now() - r.sent);
    busy_s_ += round_trip_s;
    overhead_s_ += round_trip_s - report.child_wall_s();
    attempts.Finish(r.job, ResultOfReport(report));
  }
  batch_s_ += Seconds(Clock::now() - batch_start);
  return attempts.TakeResults();
}

absl::Status MpiSimulationPool::Stop() {
  ProbeBackoff backoff;
  while (true) {
    bool busy = false;
    for (const Rank& r : ranks_) busy = busy || r.busy;
    if (!busy) break;
    v1::WorkerReport report;
    int from = 0;
    FLEETSIM_ASSIGN_OR_RETURN(bool received, TryReceive(&report, &from));
    if (received) {
      ranks_[from].busy = false;
    } else {
      backoff.Wait();
    }
  }
  v1::WorkerAssignment stop;
  stop.set_stop(true);
  for (int r = 1; r < static_cast<int>(ranks_.size()); ++r)
    FLEETSIM_RETURN_IF_ERROR(SendMessage(stop, r, kAssignmentTag));
  return absl::OkStatus();
}

}  // namespace fleetsim::mpi
