// File: service/study_job.h
//
// RunStudyJob: what a Study call's job process does (worker_jobs.h): run
// the study (study/study_runner.h), write its outputs into a private
// temporary folder, hand each file to the caller whole, and remove the
// folder. Runs in a single-threaded job process, so the planner may fork
// its simulations and Chromium may be spawned; all of them share the job's
// process group and die with it when the call is cancelled.
#ifndef FLEETSIM_SERVICE_STUDY_JOB_H_
#define FLEETSIM_SERVICE_STUDY_JOB_H_

#include <functional>

#include "absl/status/status.h"
#include "fleetsim/v1/planning_service.pb.h"
#include "service/request_checks.h"

namespace fleetsim::service {

using StudyProgressSink = std::function<void(const v1::StudyProgress&)>;
using ReportFileSink = std::function<void(const v1::ReportFile&)>;

// `checked` comes from CheckStudyRequest, with jobs set to the call's
// slots; the study runs on limits.data_dir and its catalogs. Calls `progress`
// while the plans run, then `file` once per output in writing order. Errors:
// the study's, Chromium's, Internal when the temporary folder cannot be made or
// read.
absl::Status RunStudyJob(const v1::StudyRequest& checked,
                         const RequestLimits& limits,
                         const StudyProgressSink& progress,
                         const ReportFileSink& file);

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_STUDY_JOB_H_
