#include "planner/pareto.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace fleetsim::planner {

void FillFront(v1::PlanResult* result) {
  std::vector<const v1::PlannedFleet*> feasible;
  std::map<std::string, const v1::PlannedFleet*> best_per_system;
  auto better = [](const v1::PlannedFleet* a, const v1::PlannedFleet* b) {
    return a->cost() != b->cost() ? a->cost() < b->cost()
                                  : a->tdp_w() < b->tdp_w();
  };
  for (const v1::PlannedFleet& fleet : result->fleets()) {
    if (!fleet.feasible()) continue;
    feasible.push_back(&fleet);
    const v1::PlannedFleet*& best = best_per_system[fleet.system()];
    if (best == nullptr || better(&fleet, best)) best = &fleet;
  }
  result->clear_best_per_system();
  for (const auto& [system, fleet] : best_per_system)
    *result->add_best_per_system() = *fleet;
  result->clear_pareto();
  result->set_feasible(!feasible.empty());
  if (feasible.empty()) return;
  std::sort(feasible.begin(), feasible.end(), better);
  *result->mutable_cheapest() = *feasible.front();
  // Sorted by cost, a fleet is on the front when its TDP is below every
  // cheaper fleet's.
  double best_tdp = 0;
  for (const v1::PlannedFleet* fleet : feasible) {
    if (result->pareto().empty() || fleet->tdp_w() < best_tdp) {
      *result->add_pareto() = *fleet;
      best_tdp = fleet->tdp_w();
    }
  }
  *result->mutable_lowest_tdp() = result->pareto(result->pareto_size() - 1);
}

void Recommend(v1::PlanObjective objective, v1::PlanResult* result) {
  if (objective == v1::PLAN_OBJECTIVE_UNSPECIFIED)
    objective = v1::PLAN_OBJECTIVE_PARETO;
  result->set_objective(objective);
  auto score = [objective](const v1::PlannedFleet& fleet) {
    switch (objective) {
      case v1::PLAN_OBJECTIVE_TDP:
        return fleet.tdp_w();
      case v1::PLAN_OBJECTIVE_TCO:
        return fleet.result().tco().tco_usd();
      case v1::PLAN_OBJECTIVE_USD_PER_MTOK:
        return fleet.result().tco().usd_per_million_output_tokens();
      default:
        return fleet.cost();
    }
  };
  const v1::PlannedFleet* best = nullptr;
  for (const v1::PlannedFleet& fleet : result->fleets()) {
    if (!fleet.feasible()) continue;
    if (best == nullptr ||
        std::make_tuple(score(fleet), fleet.cost(), fleet.tdp_w()) <
            std::make_tuple(score(*best), best->cost(), best->tdp_w())) {
      best = &fleet;
    }
  }
  if (best != nullptr) *result->mutable_recommended() = *best;
}

}  // namespace fleetsim::planner
