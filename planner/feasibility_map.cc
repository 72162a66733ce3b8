#include "planner/feasibility_map.h"

namespace fleetsim::planner {

std::optional<bool> FeasibilityMap::Known(int p, int d) const {
  for (auto [fp, fd] : feasible_) {
    if (fp <= p && fd <= d) return true;
  }
  for (auto [ip, id] : infeasible_) {
    if (ip >= p && id >= d) return false;
  }
  return std::nullopt;
}

void FeasibilityMap::Record(int p, int d, bool feasible) {
  (feasible ? feasible_ : infeasible_).push_back({p, d});
}

}  // namespace fleetsim::planner
