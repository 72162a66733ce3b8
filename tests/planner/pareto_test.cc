#include "planner/pareto.h"

#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

void Add(v1::PlanResult* result, const std::string& system, bool feasible,
         double cost, double tdp) {
  v1::PlannedFleet* fleet = result->add_fleets();
  fleet->set_system(system);
  fleet->set_feasible(feasible);
  fleet->set_cost(cost);
  fleet->set_tdp_w(tdp);
}

TEST(ParetoTest, FrontCheapestLowestTdpAndPerSystemBest) {
  v1::PlanResult result;
  Add(&result, "a", true, 10, 900);
  Add(&result, "a", true, 12, 700);
  Add(&result, "b", true, 11, 950);  // dominated by (10, 900)
  Add(&result, "b", true, 15, 600);
  Add(&result, "c", false, 5, 100);  // infeasible: ignored
  FillFront(&result);
  ASSERT_TRUE(result.feasible());
  EXPECT_EQ(result.cheapest().cost(), 10);
  EXPECT_EQ(result.lowest_tdp().tdp_w(), 600);
  ASSERT_EQ(result.pareto_size(), 3);
  EXPECT_EQ(result.pareto(0).cost(), 10);
  EXPECT_EQ(result.pareto(1).cost(), 12);
  EXPECT_EQ(result.pareto(2).cost(), 15);
  ASSERT_EQ(result.best_per_system_size(), 2);
  EXPECT_EQ(result.best_per_system(0).cost(), 10);
  EXPECT_EQ(result.best_per_system(1).cost(), 11);
}

TEST(ParetoTest, NothingFeasible) {
  v1::PlanResult result;
  Add(&result, "a", false, 10, 900);
  FillFront(&result);
  EXPECT_FALSE(result.feasible());
  EXPECT_EQ(result.pareto_size(), 0);
}

}  // namespace
}  // namespace fleetsim::planner
