// File: study/seeded_plan.h
//
// One study variant planned over several arrival seeds. Each seed is
// planned on its own (planner::PlanFleet); the fleets any seed found best
// (each system's cheapest, the capex-TDP front, the recommendation) are
// then simulated on every other seed (planner::EvaluateFleets, mostly
// answered by the shared SimulationCache), and a fleet is recommended only
// if it met the SLOs on every seed. The spread over seeds of each fleet's
// figures, and of the machine counts each seed alone would have bought,
// show how much one seed can be trusted.
#ifndef FLEETSIM_STUDY_SEEDED_PLAN_H_
#define FLEETSIM_STUDY_SEEDED_PLAN_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/study.pb.h"
#include "planner/planner.h"

namespace fleetsim::study {

// Called after each round of simulations with the seed being planned.
using SeedProgress =
    std::function<void(uint64_t seed, const v1::PlanProgress&)>;

// Plans `request` on each of `seeds` (its workload.seed replaced) and fills
// request, seeds, offered_rate_per_s, feasible, explanation, recommended
// (by request.objective among the fleets robust on every seed), fleets,
// machines_per_seed, machines, simulations_run/reused and wall_s.
// `options.cache` is required: it is what makes the cross-seed checks and
// later re-pricings cheap. Errors: the planner's.
absl::StatusOr<v1::StudyVariantResult> PlanOverSeeds(
    const v1::PlanRequest& request, const std::vector<uint64_t>& seeds,
    const planner::PlannerOptions& options, const SeedProgress& progress);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_SEEDED_PLAN_H_
