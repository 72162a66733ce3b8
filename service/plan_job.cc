#include "service/plan_job.h"

#include "planner/planner.h"

namespace fleetsim::service {

absl::StatusOr<v1::PlanResult> RunPlanner(const v1::PlanRequest& checked,
                                          const std::string& data_dir,
                                          const PlanProgressSink& progress) {
  planner::PlannerOptions options;
  options.data_dir = data_dir;
  options.progress = progress;
  // No `cancelled` poll: a cancelled call SIGKILLs this job's whole process
  // group (fork_server.h), the planner's simulations included.
  return planner::PlanFleet(checked, options);
}

}  // namespace fleetsim::service
