// File: planner/speculation.h
//
// Which what-ifs a round's idle slots run (docs/planner.md "Rounds and idle
// slots"): the fleets each search would ask for next, whichever way its
// pending probe goes, taken in whole levels only.
#ifndef FLEETSIM_PLANNER_SPECULATION_H_
#define FLEETSIM_PLANNER_SPECULATION_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "planner/candidate.h"

namespace fleetsim::planner {

// One search's what-ifs by level: [0] after its pending probe (one per
// outcome that leaves the search asking), [1] after each of those, ...
using WhatIfLevels = std::vector<std::vector<Candidate>>;

// Up to `slots` fleets to simulate speculatively: level 0 of every search,
// then level 1 of every search, and so on, each level taken only when all
// of its fleets not `known` (simulated or aside) fit, a fleet two searches
// share counted once. A whole level holds the fleet every search asks for
// next however its probe goes, so the next round needs no simulation; a
// part of one is a bet whose losing half costs CPU for nothing.
std::vector<Candidate> WholeLevels(
    const std::vector<WhatIfLevels>& per_search, size_t slots,
    const std::function<bool(const Candidate&)>& known);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_SPECULATION_H_
