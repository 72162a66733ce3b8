// The planner's search (docs/planner.md "Search") on real simulations:
// what it finds equals an exhaustive search, and the plan does not depend
// on how many simulations run at once.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "planner/candidate.h"
#include "planner/local_simulation_pool.h"
#include "planner/planner.h"

namespace fleetsim::planner {
namespace {

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";
constexpr int kBudget = 10;

// A small search: BLOOM-176B on h100 and a100 (two colocated and four
// disaggregated systems) within 10 machines, where prefill and decode
// counts both matter.
v1::PlanRequest SmallSearch() {
  v1::PlanRequest request;
  request.set_model("bloom-176b");
  v1::Workload* workload = request.mutable_workload();
  workload->set_trace_path(kData + "/traces/azure_2023_conv.csv");
  workload->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload->set_rate_per_s(10);
  workload->set_duration_s(60);
  workload->set_seed(1);
  request.set_slo_preset("normal");
  request.add_chips("h100");
  request.add_chips("a100");
  request.set_budget_machines(kBudget);
  request.set_jobs(2);
  return request;
}

PlannerOptions Options() {
  PlannerOptions options;
  options.data_dir = kData;
  return options;
}

v1::PlannedPool Pool(const std::string& role, const std::string& chip,
                     int machines) {
  v1::PlannedPool pool;
  pool.set_role(role);
  pool.set_chip(chip);
  pool.set_machines(machines);
  pool.set_tp(8);
  return pool;
}

// The cheapest feasible fleet of a system (ties: lower TDP), by pools.
using Best = std::map<std::string, std::string>;
void KeepCheaper(const v1::PlannedFleet& fleet, Best* best,
                 std::map<std::string, std::pair<double, double>>* cost) {
  if (!fleet.feasible()) return;
  auto it = cost->find(fleet.system());
  const std::pair<double, double> mine{fleet.cost(), fleet.tdp_w()};
  if (it != cost->end() && it->second <= mine) return;
  (*cost)[fleet.system()] = mine;
  v1::PlannedFleet pools;
  *pools.mutable_pools() = fleet.pools();
  (*best)[fleet.system()] = pools.ShortDebugString();
}

// Every fleet within the budget simulated: each system's cheapest feasible
// one must be what the search found (a warm start that skipped the true
// minimum finds a dearer one).
TEST(SearchTest, FindsWhatAnExhaustiveSearchFinds) {
  v1::PlanRequest request = SmallSearch();
  absl::StatusOr<v1::PlanResult> plan = PlanFleet(request, Options());
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(plan->feasible()) << plan->explanation();

  std::vector<v1::PlannedFleet> grid;
  for (const char* p_chip : {"h100", "a100"}) {
    for (int n = 1; n <= kBudget; ++n) {
      v1::PlannedFleet fleet;
      *fleet.add_pools() = Pool("colocated", p_chip, n);
      grid.push_back(fleet);
    }
    for (const char* d_chip : {"h100", "a100"}) {
      for (int p = 1; p < kBudget; ++p) {
        for (int d = 1; p + d <= kBudget; ++d) {
          v1::PlannedFleet fleet;
          *fleet.add_pools() = Pool("prefill", p_chip, p);
          *fleet.add_pools() = Pool("decode", d_chip, d);
          grid.push_back(fleet);
        }
      }
    }
  }
  absl::StatusOr<std::vector<v1::PlannedFleet>> evaluated =
      EvaluateFleets(request, grid, Options());
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  Best exhaustive, searched;
  std::map<std::string, std::pair<double, double>> cost_e, cost_s;
  for (const v1::PlannedFleet& fleet : *evaluated)
    KeepCheaper(fleet, &exhaustive, &cost_e);
  for (const v1::PlannedFleet& fleet : plan->best_per_system())
    KeepCheaper(fleet, &searched, &cost_s);
  ASSERT_FALSE(exhaustive.empty());
  EXPECT_EQ(searched, exhaustive);
  // And it simulated far fewer fleets than the grid.
  EXPECT_LT(plan->simulations(), static_cast<int>(grid.size()) / 2);
}

// The plan.json of any width is the same, wall times aside: the searches
// ask for the same fleets whatever runs at once, and speculative
// simulations that fill idle slots are reported only when asked for.
TEST(SearchTest, ThePlanDoesNotDependOnTheWidth) {
  std::vector<std::string> plans;
  for (int jobs : {1, 2, 4, 7}) {
    v1::PlanRequest request = SmallSearch();
    request.set_jobs(jobs);
    absl::StatusOr<v1::PlanResult> plan = PlanFleet(request, Options());
    ASSERT_TRUE(plan.ok()) << plan.status();
    plan->clear_wall_s();
    for (v1::PlannedFleet& fleet : *plan->mutable_fleets())
      fleet.mutable_result()->clear_wall_s();
    for (v1::PlannedFleet& fleet : *plan->mutable_pareto())
      fleet.mutable_result()->clear_wall_s();
    for (v1::PlannedFleet& fleet : *plan->mutable_best_per_system())
      fleet.mutable_result()->clear_wall_s();
    for (v1::PlannedFleet* fleet :
         {plan->mutable_cheapest(), plan->mutable_lowest_tdp(),
          plan->mutable_recommended()}) {
      fleet->mutable_result()->clear_wall_s();
    }
    plans.push_back(plan->SerializeAsString());
  }
  for (size_t i = 1; i < plans.size(); ++i) EXPECT_EQ(plans[i], plans[0]) << i;
}

// A speculative simulation counts and reports nothing until asked for,
// and then costs no second run.
TEST(SearchTest, SpeculativeRunsAreKeptAsideUntilAskedFor) {
  absl::StatusOr<PlanContext> context = BuildPlanContext(SmallSearch(), kData);
  ASSERT_TRUE(context.ok()) << context.status();
  LocalSimulationPool pool(2);
  CandidateEvaluator evaluator(&*context, &pool);
  const Candidate asked = {{v1::POOL_ROLE_COLOCATED, "h100", 2, 8}};
  const Candidate what_if = {{v1::POOL_ROLE_COLOCATED, "h100", 3, 8}};
  ASSERT_TRUE(evaluator.EvaluateAll({asked}, {what_if}).ok());
  EXPECT_EQ(pool.simulations(), 2);
  EXPECT_EQ(evaluator.simulations(), 1);
  EXPECT_TRUE(evaluator.Has(asked));
  EXPECT_FALSE(evaluator.Has(what_if));
  EXPECT_TRUE(evaluator.HasOrAside(what_if));
  EXPECT_EQ(evaluator.all().size(), 1u);
  EXPECT_EQ(evaluator.speculative_unused(), 1);

  ASSERT_TRUE(evaluator.EvaluateAll({what_if}).ok());
  EXPECT_EQ(pool.simulations(), 2);  // not run again
  EXPECT_EQ(evaluator.simulations(), 2);
  EXPECT_TRUE(evaluator.Has(what_if));
  EXPECT_TRUE(evaluator.Get(what_if).fleet.has_result());
  EXPECT_EQ(evaluator.speculative_unused(), 0);
}

}  // namespace
}  // namespace fleetsim::planner
