// File: planner/pareto.h
//
// Picks the answers out of a PlanResult's evaluated fleets: the feasible
// cost-TDP Pareto front, the cheapest fleet (ties: lower TDP) and the
// lowest-TDP fleet (ties: lower cost).
#ifndef FLEETSIM_PLANNER_PARETO_H_
#define FLEETSIM_PLANNER_PARETO_H_

#include "proto/plan.pb.h"

namespace fleetsim::planner {

// Fills pareto, cheapest, lowest_tdp and feasible from result->fleets().
void FillFront(PlanResult* result);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_PARETO_H_
