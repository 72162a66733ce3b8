// File: planner/feasibility_map.h
//
// FeasibilityMap: what one system's simulations said about its fleets, and
// what the planner's standing assumption implies beyond them: more machines
// never make an SLO worse (docs/planner.md), so a fleet of p prefill and d
// decode machines meets the SLO when one of p' <= p and d' <= d does, and
// misses when one of p' >= p and d' >= d misses. A colocated fleet of n
// machines is (n, 0). The planner's searches ask it first and simulate only
// what it cannot answer.
#ifndef FLEETSIM_PLANNER_FEASIBILITY_MAP_H_
#define FLEETSIM_PLANNER_FEASIBILITY_MAP_H_

#include <optional>
#include <utility>
#include <vector>

namespace fleetsim::planner {

class FeasibilityMap final {
 public:
  // Whether (p, d) meets the SLO, as simulated or implied; nullopt when
  // neither.
  std::optional<bool> Known(int p, int d) const;
  void Record(int p, int d, bool feasible);

 private:
  std::vector<std::pair<int, int>> feasible_;
  std::vector<std::pair<int, int>> infeasible_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_FEASIBILITY_MAP_H_
