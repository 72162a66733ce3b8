#include "planner/plan_request_checks.h"

#include "absl/strings/str_cat.h"
#include "hardware/reference_machine.h"
#include "sim/fleet.h"
#include "sim/slo_evaluator.h"
#include "util/field_checks.h"
#include "util/run_limits.h"
#include "util/status_macros.h"
#include "workloads/request_source.h"

namespace fleetsim::planner {
namespace {

// The request's own fields, then those of the messages it holds.
const FieldRanges& PlanRequestRanges() {
  static const FieldRanges* ranges = [] {
    auto* all = new FieldRanges{
        {"fleetsim.PlanRequest.budget_machines", 1,
         static_cast<double>(kMaxMachinesPerFleet),
         "--budget-machines; the per-run limit, docs/limits.md"},
        {"fleetsim.PlanRequest.chips_per_machine", 1, 1e4},
        {"fleetsim.PlanRequest.tp", 1, 1e4, "--tp-options"},
        {"fleetsim.PlanRequest.jobs", 1, 1e4, "--jobs"},
    };
    for (const FieldRanges* part :
         {&sim::ClusterFieldRanges(), &sim::SloFieldRanges(),
          &workloads::WorkloadFieldRanges()}) {
      all->insert(all->end(), part->begin(), part->end());
    }
    return all;
  }();
  return *ranges;
}

}  // namespace

absl::Status ValidatePlanRequest(const PlanRequest& request,
                                 const std::string& origin) {
  FLEETSIM_RETURN_IF_ERROR(CheckFields(request, origin, PlanRequestRanges()));
  const int chips = request.chips_per_machine() > 0
                        ? request.chips_per_machine()
                        : hardware::kDefaultChipsPerMachine;
  for (int tp : request.tp()) {
    if (chips % tp != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": field 'tp' (--tp-options): ", tp,
                       " does not divide the machine's ", chips,
                       " chips (chips_per_machine)"));
    }
  }
  // Costs are in H100 machines; no other unit is implemented.
  if (!request.normalize_to().empty() && request.normalize_to() != "h100") {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ": field 'normalize_to' (--normalize-to): '",
        request.normalize_to(), "' is not supported; only \"h100\" is"));
  }
  return absl::OkStatus();
}

}  // namespace fleetsim::planner
