// File: planner/planner.h
//
// PlanFleet answers fleetsim's main question: which chips, how many machines
// of each and in which role serve a workload within its SLOs at the lowest
// hardware cost and TDP. It searches colocated fleets (one chip type) and
// disaggregated fleets (a prefill pool and a decode pool, each of any
// candidate chip), simulating candidates in parallel child processes:
//
//  1. Analytic capacity bounds from the cost model give each pool's least
//     machine count (prefill work and decode token throughput at the KV
//     capacity's batch) and the search range.
//  2. Feasibility is monotone in machine counts, so each system's minimal
//     fleets form a staircase: for disaggregated systems, the least decode
//     count d(p) is non-increasing in the prefill count p. The search finds
//     p_min and d_min, then walks p upward with a bisection for d(p) below
//     d(p-1), stopping once even d_min cannot beat the cheapest fleet found.
//     Colocated systems need one bisection.
//  3. Every simulation is cached by its pools; bisections of all systems
//     advance in lockstep, each round proposing `jobs` simulations (the
//     pool's slots when 0) so that every slot has one. Results are read in
//     the order proposed, so the plan does not depend on the pool.
//
// See docs/planner.md for the method and docs/validation.md for SPAD.
#ifndef FLEETSIM_PLANNER_PLANNER_H_
#define FLEETSIM_PLANNER_PLANNER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "planner/candidate.h"
#include "planner/local_simulation_pool.h"
#include "planner/simulation_cache.h"
#include "sim/catalogs.h"

namespace fleetsim::planner {

struct PlannerOptions {
  std::string data_dir;  // holds chips/, models/, slos/, clusters/
  // The catalogs of data_dir when the caller has them loaded already (the
  // CLI, the service); null = loaded from data_dir for each plan.
  std::shared_ptr<const sim::Catalogs> catalogs;
  // Called after each round of simulations (from the calling thread).
  std::function<void(const v1::PlanProgress&)> progress;
  // Polled while simulations run; true cancels (children are killed).
  std::function<bool()> cancelled;
  // Optional: simulations shared with other plans (a study's variants);
  // candidates found there are re-priced, not simulated again.
  SimulationCache* cache = nullptr;
  // Optional: where simulations run (the MPI pool of an `mpirun` launch);
  // null = a LocalSimulationPool of PlanRequest.jobs.
  SimulationPool* pool = nullptr;
};

// options.pool, or `*local` set to a LocalSimulationPool of request.jobs();
// either way with options.cancelled as its cancel hook.
SimulationPool& PoolFor(const v1::PlanRequest& request,
                        const PlannerOptions& options,
                        std::optional<LocalSimulationPool>* local);

// How many simulations a search proposes per round: request.jobs, or the
// pool's slots when that is 0. A plan depends on this width, not on the
// pool, so `mpirun -np 3` and `--jobs 2` plan alike.
int SearchWidth(const v1::PlanRequest& request, const SimulationPool& pool);

// Errors: InvalidArgument / NotFound for bad requests (unknown chip or
// model, bad SLO or workload), Cancelled. An infeasible problem is not an
// error: the result has feasible = false and an explanation of the
// closest miss.
// The PlanContext of `request` (planner/candidate.h) on options.catalogs,
// or on the catalogs of options.data_dir when it is null.
absl::StatusOr<PlanContext> PlanContextFor(const v1::PlanRequest& request,
                                           const PlannerOptions& options);

absl::StatusOr<v1::PlanResult> PlanFleet(const v1::PlanRequest& request,
                                         const PlannerOptions& options);

// The arrival rate the planner sizes `workload` for, req/s: the resampling
// rate, or the trace's own rate times rate_scale. Errors: the trace's.
absl::StatusOr<double> OfferedRatePerS(const v1::Workload& workload);

// Simulates and prices the given fleets (their pools: role, chip,
// machines, TP) exactly as PlanFleet would evaluate them as candidates for
// `request`, and returns them in order with result, cost, feasibility and
// miss filled. How a study checks one seed's fleets on its other seeds.
// Errors: as PlanFleet; InvalidArgument for a pool with an unknown role.
absl::StatusOr<std::vector<v1::PlannedFleet>> EvaluateFleets(
    const v1::PlanRequest& request, const std::vector<v1::PlannedFleet>& fleets,
    const PlannerOptions& options);

// Re-allocation what-if (SPAD §7): the fleet in request.fixed_fleet keeps
// its machines, each of which may serve either role. Finds the split that
// sustains the highest arrival rate within the SLO (bisection on the rate
// of a Poisson resampling of request.workload) and returns it in
// PlanResult.reallocation / max_rate_per_s.
absl::StatusOr<v1::PlanResult> PlanReallocation(const v1::PlanRequest& request,
                                                const PlannerOptions& options);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_PLANNER_H_
