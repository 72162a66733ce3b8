// File: service/plan_job.h
//
// RunPlanner: the one place the PlanningService calls the fleet planner
// (planner/planner.h). Runs inside a job process (worker_jobs.h), which is
// single-threaded, so the planner may fork its own per-simulation children;
// they share the job's process group and die with it when the call is
// cancelled.
#ifndef FLEETSIM_SERVICE_PLAN_JOB_H_
#define FLEETSIM_SERVICE_PLAN_JOB_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"

namespace fleetsim::service {

using PlanProgressSink = std::function<void(const v1::PlanProgress&)>;

// `checked` comes from CheckPlanRequest, with jobs set to the number of
// simulations the planner may run at once (the call's slots). `progress` is
// called for each progress event. Errors: the planner's.
absl::StatusOr<v1::PlanResult> RunPlanner(const v1::PlanRequest& checked,
                                          const std::string& data_dir,
                                          const PlanProgressSink& progress);

// RunPlanner's shape; tests substitute a stand-in (BackendOptions).
using PlannerFn = std::function<absl::StatusOr<v1::PlanResult>(
    const v1::PlanRequest& checked, const std::string& data_dir,
    const PlanProgressSink& progress)>;

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_PLAN_JOB_H_
