#include "planner/pareto.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace fleetsim::planner {

void FillFront(PlanResult* result) {
  std::vector<const PlannedFleet*> feasible;
  std::map<std::string, const PlannedFleet*> best_per_system;
  auto better = [](const PlannedFleet* a, const PlannedFleet* b) {
    return a->cost() != b->cost() ? a->cost() < b->cost()
                                  : a->tdp_w() < b->tdp_w();
  };
  for (const PlannedFleet& fleet : result->fleets()) {
    if (!fleet.feasible()) continue;
    feasible.push_back(&fleet);
    const PlannedFleet*& best = best_per_system[fleet.system()];
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
  for (const PlannedFleet* fleet : feasible) {
    if (result->pareto().empty() || fleet->tdp_w() < best_tdp) {
      *result->add_pareto() = *fleet;
      best_tdp = fleet->tdp_w();
    }
  }
  *result->mutable_lowest_tdp() = result->pareto(result->pareto_size() - 1);
}

}  // namespace fleetsim::planner
