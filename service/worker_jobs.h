// File: service/worker_jobs.h
//
// What a PlanningService job process does with its socket (fork_server.h):
// read one request frame, run it, write the answer frames. Shared by the
// backend (which submits jobs and reads answers) and the job processes.
//
// Request frame payload: one byte kind ('S' Simulate, 'P' Plan, 'T' Study)
// followed by
// the serialized, already checked request (request_checks.h). A request's
// inline trace_bytes become an in-memory file (memfd) of the job process,
// which the planner's forked simulations inherit; nothing is written to
// disk.
// Answer frames:
//   Simulate: one kSimulationResultFrame, or one kErrorFrame.
//   Plan: zero or more kPlanProgressFrame, then one kPlanResultFrame or
//         kErrorFrame.
//   Study: zero or more kStudyProgressFrame, then zero or more
//          kReportFileFrame, then one kStudyDoneFrame or kErrorFrame.
// An error frame's payload is one byte absl::StatusCode then the message.
#ifndef FLEETSIM_SERVICE_WORKER_JOBS_H_
#define FLEETSIM_SERVICE_WORKER_JOBS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "service/plan_job.h"
#include "service/request_checks.h"

namespace fleetsim::service {

inline constexpr char kSimulateJob = 'S';
inline constexpr char kPlanJob = 'P';
inline constexpr char kStudyJob = 'T';

inline constexpr uint8_t kSimulationResultFrame = 1;
inline constexpr uint8_t kPlanProgressFrame = 2;
inline constexpr uint8_t kPlanResultFrame = 3;
inline constexpr uint8_t kErrorFrame = 4;
inline constexpr uint8_t kStudyProgressFrame = 5;
inline constexpr uint8_t kReportFileFrame = 6;
inline constexpr uint8_t kStudyDoneFrame = 7;

std::string EncodeError(const absl::Status& status);
absl::Status DecodeError(const std::string& payload);

// The body of every job process. Runs in a single-threaded process of its
// own (fork_server.h), so it may start a SimGrid engine or fork.
void RunServiceJob(const RequestLimits& limits, const PlannerFn& planner,
                   int fd);

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_WORKER_JOBS_H_
