// Condensing one fleet's per-seed simulations, and the TCO-power front.
#include "study/fleet_summary.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::study {
namespace {

v1::PlannedFleet Seed(bool feasible, double tco_usd, double facility_w,
                      double ttft_observed, double busy) {
  v1::PlannedFleet fleet;
  fleet.set_system("colocated h100 tp8");
  v1::PlannedPool* pool = fleet.add_pools();
  pool->set_role("colocated");
  pool->set_chip("h100");
  pool->set_machines(3);
  pool->set_tp(8);
  fleet.set_feasible(feasible);
  if (!feasible) fleet.set_miss("p90 ttft slowdown 3.3 vs limit 3 (+10%)");
  v1::SimulationResult* r = fleet.mutable_result();
  r->mutable_tco()->set_tco_usd(tco_usd);
  r->mutable_tco()->set_facility_power_w(facility_w);
  r->mutable_ttft_s()->set_p99(ttft_observed);
  v1::SloAttainment* slo = r->add_slo();
  slo->set_metric("ttft");
  slo->set_percentile(90);
  slo->set_limit(3);
  slo->set_observed(ttft_observed);
  slo->set_met(ttft_observed <= 3);
  v1::PoolUsage* usage = r->add_pools();
  usage->set_name("colocated-h100");
  usage->set_busy_fraction(busy);
  return fleet;
}

TEST(SpreadOfTest, MinMedianMax) {
  v1::Spread s = SpreadOf({39, 36, 39});
  EXPECT_EQ(s.min(), 36);
  EXPECT_EQ(s.median(), 39);
  EXPECT_EQ(s.max(), 39);
  EXPECT_EQ(SpreadOf({1, 2}).median(), 1.5);
  EXPECT_EQ(SpreadOf({}).max(), 0);
}

TEST(SummarizeFleetTest, RobustOnlyWhenEverySeedMeetsTheSlo) {
  std::vector<v1::PlannedFleet> seeds = {Seed(true, 100, 5000, 2.0, 0.5),
                                         Seed(true, 120, 6000, 2.5, 0.7),
                                         Seed(true, 110, 5500, 2.2, 0.6)};
  v1::StudyFleet fleet = SummarizeFleet(seeds, {1, 2, 3});
  EXPECT_EQ(fleet.key(), "colocated:h100x3@tp8");
  EXPECT_EQ(fleet.machines(), 3);
  EXPECT_TRUE(fleet.robust());
  EXPECT_EQ(fleet.seeds_met(), 3);
  EXPECT_EQ(fleet.tco_usd().min(), 100);
  EXPECT_EQ(fleet.tco_usd().median(), 110);
  EXPECT_EQ(fleet.tco_usd().max(), 120);
  EXPECT_EQ(fleet.facility_power_kw().median(), 5.5);
  EXPECT_EQ(fleet.tco().tco_usd(), 110);  // the median seed's block
  ASSERT_EQ(fleet.slo_size(), 1);
  EXPECT_TRUE(fleet.slo(0).met_every_seed());
  EXPECT_EQ(fleet.slo(0).observed().max(), 2.5);
  EXPECT_DOUBLE_EQ(fleet.slo(0).fraction_of_limit().max(), 2.5 / 3);
  ASSERT_EQ(fleet.utilisation_size(), 1);
  EXPECT_EQ(fleet.utilisation(0).busy_fraction().median(), 0.6);

  seeds[1] = Seed(false, 120, 6000, 3.3, 0.9);
  fleet = SummarizeFleet(seeds, {1, 2, 3});
  EXPECT_FALSE(fleet.robust());
  EXPECT_EQ(fleet.seeds_met(), 2);
  EXPECT_FALSE(fleet.slo(0).met_every_seed());
  EXPECT_EQ(fleet.miss(), "seed 2: p90 ttft slowdown 3.3 vs limit 3 (+10%)");
}

TEST(MarkFrontTest, NoRobustFleetBeatsAFrontFleetOnBoth) {
  auto fleet = [](double tco, double kw, bool robust) {
    v1::StudyFleet f;
    f.mutable_tco_usd()->set_median(tco);
    f.mutable_facility_power_kw()->set_median(kw);
    f.set_robust(robust);
    return f;
  };
  std::vector<v1::StudyFleet> fleets = {
      fleet(100, 50, true),  // cheapest
      fleet(120, 40, true),  // lowest power
      fleet(130, 45, true),  // dominated by the second
      fleet(90, 30, false),  // not robust: neither on the front nor counted
  };
  std::vector<v1::StudyFleet*> pointers;
  for (v1::StudyFleet& f : fleets) pointers.push_back(&f);
  MarkFront(pointers);
  EXPECT_TRUE(fleets[0].on_front());
  EXPECT_TRUE(fleets[1].on_front());
  EXPECT_FALSE(fleets[2].on_front());
  EXPECT_FALSE(fleets[3].on_front());
}

}  // namespace
}  // namespace fleetsim::study
