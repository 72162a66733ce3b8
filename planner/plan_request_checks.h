// File: planner/plan_request_checks.h
//
// The checks every PlanRequest passes before a search starts, whoever sent
// it: `fleetsim plan` (its flags), the gRPC service before it forks a
// worker, and BuildPlanContext in the worker. Anything that can be judged
// without the catalogs is judged here, so a bad request is an error naming
// the field instead of a search that reports "infeasible".
#ifndef FLEETSIM_PLANNER_PLAN_REQUEST_CHECKS_H_
#define FLEETSIM_PLANNER_PLAN_REQUEST_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/plan.pb.h"
#include "util/field_checks.h"

namespace fleetsim::planner {

// InvalidArgument naming `origin` and the field (and the `fleetsim plan`
// flag that sets it): any number not finite or outside its sanity range,
// any undefined enum value (modes, objective, and inside the workload, SLO
// and clusters; util/field_checks.h); budget_machines past
// kMaxMachinesPerFleet; a TP degree that does not divide the machine's
// chips; a normalize_to other than "" or "h100".
absl::Status ValidatePlanRequest(const v1::PlanRequest& request,
                                 const std::string& origin);

// The sanity ranges ValidatePlanRequest applies: the request's own fields,
// then those of the cluster, SLO and workload messages it holds.
const FieldRanges& PlanRequestRanges();

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_PLAN_REQUEST_CHECKS_H_
