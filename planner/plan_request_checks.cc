#include "planner/plan_request_checks.h"

#include "absl/strings/str_cat.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "sim/fleet.h"
#include "sim/slo_evaluator.h"
#include "util/field_checks.h"
#include "util/run_limits.h"
#include "util/status_macros.h"
#include "workloads/request_source.h"

namespace fleetsim::planner {

const FieldRanges& PlanRequestRanges() {
  static const FieldRanges* ranges = [] {
    auto* all = new FieldRanges{
        {"fleetsim.v1.PlanRequest.budget_machines", 1,
         static_cast<double>(kMaxMachinesPerFleet),
         "--budget-machines; the per-run limit, docs/limits.md"},
        {"fleetsim.v1.PlanRequest.chips_per_machine", 1, 1e4},
        {"fleetsim.v1.PlanRequest.tp", 1, 1e4, "--tp-options"},
        {"fleetsim.v1.PlanRequest.jobs", 1, 1e4, "--jobs"},
        {"fleetsim.v1.PlannedPool.machines", 1,
         static_cast<double>(kMaxMachinesPerFleet), "--existing-fleet"},
        {"fleetsim.v1.PlannedPool.tp", 1, 1e4, "--existing-fleet"},
        {"fleetsim.v1.PlannedPool.ep", 1, 1e4, "--existing-fleet"},
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

absl::Status ValidatePlanRequest(const v1::PlanRequest& request,
                                 const std::string& origin) {
  FLEETSIM_RETURN_IF_ERROR(CheckFields(request, origin, PlanRequestRanges()));
  const int chips = request.chips_per_machine() > 0
                        ? request.chips_per_machine()
                        : hardware::kDefaultChipsPerMachine;
  bool first_colocated = false;
  for (int i = 0; i < request.existing_pools_size(); ++i) {
    const v1::PlannedPool& pool = request.existing_pools(i);
    const std::string field = absl::StrCat("field 'existing_pools[", i, "]");
    absl::StatusOr<PoolChoice> choice = PoolChoiceOf(pool);
    if (!choice.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": ", field,
          ".role' (--existing-fleet): ", choice.status().message()));
    }
    if (pool.chip().empty() || pool.machines() < 1 || pool.tp() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": ", field,
          "' (--existing-fleet): needs a chip, machines >= 1 and tp >= 1"));
    }
    if (chips % pool.tp() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": ", field, ".tp' (--existing-fleet): ", pool.tp(),
          " does not divide the machine's ", chips,
          " chips (chips_per_machine)"));
    }
    const bool colocated = choice->role == v1::POOL_ROLE_COLOCATED;
    if (i == 0) first_colocated = colocated;
    if (colocated != first_colocated) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": ", field,
          ".role' (--existing-fleet): colocated pools cannot be mixed with "
          "prefill/decode pools"));
    }
  }
  if (request.existing_pools_size() > 0 && request.has_fixed_fleet()) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": fields 'existing_pools' (--existing-fleet) and 'fixed_fleet' "
        "(--fixed-fleet) are different what-ifs: give one"));
  }
  for (int tp : request.tp()) {
    if (chips % tp != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": field 'tp' (--tp-options): ", tp,
                       " does not divide the machine's ", chips,
                       " chips (chips_per_machine)"));
    }
  }
  // Costs are in reference machines (H100); no other unit is implemented.
  if (!request.normalize_to().empty() &&
      request.normalize_to() != hardware::kReferenceChip) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": field 'normalize_to' (--normalize-to): '",
                     request.normalize_to(), "' is not supported; only \"",
                     hardware::kReferenceChip, "\" is"));
  }
  return absl::OkStatus();
}

}  // namespace fleetsim::planner
