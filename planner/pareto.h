// File: planner/pareto.h
//
// Picks the answers out of a PlanResult's evaluated fleets: the feasible
// cost-TDP Pareto front, the cheapest fleet (ties: lower TDP) and the
// lowest-TDP fleet (ties: lower cost), and the fleet an objective
// recommends.
#ifndef FLEETSIM_PLANNER_PARETO_H_
#define FLEETSIM_PLANNER_PARETO_H_

#include "fleetsim/v1/plan.pb.h"

namespace fleetsim::planner {

// Fills pareto, cheapest, lowest_tdp and feasible from result->fleets().
void FillFront(v1::PlanResult* result);

// Sets result->objective and result->recommended: the feasible fleet with
// the lowest capex (COST, PARETO), TDP (TDP), TCO (TCO) or $ per million
// output tokens (USD_PER_MTOK); ties go to the lower capex, then TDP.
// Leaves `recommended` unset when nothing is feasible.
void Recommend(v1::PlanObjective objective, v1::PlanResult* result);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_PARETO_H_
