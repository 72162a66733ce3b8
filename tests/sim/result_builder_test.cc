// BuildResult: rates, per-pool usage and energy, worked out by hand.
#include "sim/result_builder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "tests/catalog_test_util.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {
namespace {

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

// Two pools: 2 machines x 2 instances of TP2 on a 500 W chip idling at
// 100 W, and 1 machine x 1 instance of TP8 on a 700 W chip (idle power
// from the catalog's default fraction).
FleetSpec TwoPools() {
  FleetSpec fleet;
  PoolSpec& prefill = fleet.pools.emplace_back();
  prefill.name = "prefill";
  prefill.role = v1::POOL_ROLE_PREFILL;
  prefill.chip.set_name("small");
  prefill.chip.set_tdp_w(500);
  prefill.chip.set_idle_power_w(100);
  prefill.machines = 2;
  prefill.chips_per_machine = 4;
  prefill.tp = 2;
  prefill.pp = 1;
  prefill.instances_per_machine = 2;
  prefill.kv_capacity_blocks = 1000;
  PoolSpec& decode = fleet.pools.emplace_back();
  decode.name = "decode";
  decode.role = v1::POOL_ROLE_DECODE;
  decode.chip.set_name("big");
  decode.chip.set_tdp_w(700);
  decode.machines = 1;
  decode.chips_per_machine = 8;
  decode.tp = 8;
  decode.pp = 1;
  decode.instances_per_machine = 1;
  decode.kv_capacity_blocks = 4000;
  return fleet;
}

InstanceUsage Usage(double busy_s, int64_t iterations, int64_t batched,
                    int64_t peak_kv_blocks, int64_t preemptions) {
  InstanceUsage u;
  u.busy_s = busy_s;
  u.iterations = iterations;
  u.batched_requests = batched;
  u.peak_kv_blocks = peak_kv_blocks;
  u.preemptions = preemptions;
  u.prompts_served = iterations;
  return u;
}

// Two requests finished by 10 s (5 + 3 output tokens), one met the SLO.
MetricsCollector TwoRequests() {
  MetricsCollector metrics;
  RequestRecord a;
  a.output_tokens = a.sequence_tokens = 5;
  a.completion_s = 8;
  RequestRecord b;
  b.output_tokens = b.sequence_tokens = 3;
  b.completion_s = 10;
  b.met_slo = false;
  metrics.AddRecord(a);
  metrics.AddRecord(b);
  return metrics;
}

TEST(ResultBuilderTest, PoolUsageAndEnergyFollowBusyTime) {
  FleetSpec fleet = TwoPools();
  std::vector<std::vector<InstanceUsage>> usage = {
      {Usage(2, 10, 30, 100, 1), Usage(4, 20, 20, 500, 0), Usage(0, 0, 0, 0, 0),
       Usage(6, 10, 50, 250, 2)},
      {Usage(10, 100, 800, 3000, 4)}};
  v1::SimulationResult r =
      BuildResult(fleet, TwoRequests(), nullptr, usage, RunCounts{3, 77, 1.25});
  EXPECT_EQ(r.requests(), 3);
  EXPECT_EQ(r.completed(), 2);
  EXPECT_DOUBLE_EQ(r.simulated_s(), 10);  // the last completion
  EXPECT_DOUBLE_EQ(r.throughput_rps(), 0.2);
  EXPECT_DOUBLE_EQ(r.output_tokens_per_s(), 0.8);
  EXPECT_DOUBLE_EQ(r.goodput_rps(), 0.1);  // one record met its SLO
  EXPECT_EQ(r.events(), 77);
  EXPECT_DOUBLE_EQ(r.wall_s(), 1.25);
  EXPECT_DOUBLE_EQ(r.fleet_tdp_w(), 2 * 4 * 500 + 8 * 700);
  EXPECT_EQ(r.fleet_cost(), 0);  // priced later, on the run's cost basis

  ASSERT_EQ(r.pools_size(), 2);
  const v1::PoolUsage& prefill = r.pools(0);
  EXPECT_EQ(prefill.name(), "prefill");
  EXPECT_EQ(prefill.role(), "prefill");
  EXPECT_EQ(prefill.chip(), "small");
  EXPECT_EQ(prefill.instances(), 4);
  // 12 busy seconds of 4 instances x 10 s.
  EXPECT_DOUBLE_EQ(prefill.busy_fraction(), 0.3);
  EXPECT_DOUBLE_EQ(prefill.mean_batch_size(), 100.0 / 40);
  EXPECT_DOUBLE_EQ(prefill.peak_kv_fraction(), 0.5);
  EXPECT_EQ(prefill.preemptions(), 3);
  EXPECT_EQ(prefill.prompts_served(), 40);
  // Per instance 2 chips: 1,000 W busy, 200 W idle. Busy 12 s, idle 28 s.
  EXPECT_DOUBLE_EQ(prefill.energy_j(), 12 * 1000 + 28 * 200);
  const v1::PoolUsage& decode = r.pools(1);
  EXPECT_DOUBLE_EQ(decode.busy_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(decode.peak_kv_fraction(), 0.75);
  EXPECT_DOUBLE_EQ(decode.energy_j(), 10 * 8 * 700);  // never idle
  EXPECT_DOUBLE_EQ(r.energy_j(), prefill.energy_j() + decode.energy_j());
  EXPECT_EQ(r.preemptions(), 7);
  EXPECT_EQ(r.rejected(), 0);
  EXPECT_EQ(r.slo_size(), 0);  // no SLO: no verdicts
  EXPECT_FALSE(r.slo_met());
}

TEST(ResultBuilderTest, IdlePowerDefaultsToAFractionOfTdp) {
  FleetSpec fleet = TwoPools();
  std::vector<std::vector<InstanceUsage>> usage = {
      {Usage(10, 1, 1, 0, 0), Usage(10, 1, 1, 0, 0), Usage(10, 1, 1, 0, 0),
       Usage(10, 1, 1, 0, 0)},
      {Usage(0, 0, 0, 0, 0)}};
  v1::SimulationResult r =
      BuildResult(fleet, TwoRequests(), nullptr, usage, RunCounts{2, 0, 0});
  // The decode instance idled all 10 s on 8 chips.
  EXPECT_DOUBLE_EQ(r.pools(1).energy_j(),
                   10 * 8 * hardware::IdlePowerW(fleet.pools[1].chip));
  EXPECT_LT(r.pools(1).energy_j(), 10 * 8 * 700);
  EXPECT_EQ(r.pools(1).busy_fraction(), 0);
  EXPECT_EQ(r.pools(1).mean_batch_size(), 0);  // no iterations
}

TEST(ResultBuilderTest, SloVerdictsAndAttainmentOverAllRoutedRequests) {
  hardware::ChipCatalog chips =
      testutil::LoadedOrFail(hardware::LoadChipCatalog(kData));
  workloads::ModelCatalog models =
      testutil::LoadedOrFail(workloads::LoadModelCatalog(kData));
  FleetSpec fleet = TwoPools();
  fleet.model = testutil::FindOrFail(models, "bloom-176b");
  const v1::Chip& h100 = testutil::FindOrFail(chips, "h100");
  v1::Slo slo;
  v1::SloTarget* target = slo.add_targets();
  target->set_metric(v1::SLO_METRIC_TTFT);
  target->set_percentile(50);
  target->set_max_s(5);
  auto evaluator = SloEvaluator::Create(slo, fleet, h100);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  // TTFTs of 1 s and 7 s: the second request misses its bound, the median
  // (4 s) is within it.
  MetricsCollector metrics;
  for (double ttft_s : {1.0, 7.0}) {
    RequestRecord record;
    record.output_tokens = record.sequence_tokens = 2;
    record.ttft_s = ttft_s;
    record.completion_s = 10;
    (*evaluator)->Observe(&record);
    metrics.AddRecord(record);
  }
  std::vector<std::vector<InstanceUsage>> usage = {
      std::vector<InstanceUsage>(4), std::vector<InstanceUsage>(1)};
  v1::SimulationResult r =
      BuildResult(fleet, metrics, evaluator->get(), usage, RunCounts{3, 0, 0});
  ASSERT_EQ(r.slo_size(), 1);
  EXPECT_EQ(r.slo(0).metric(), "ttft");
  EXPECT_NEAR(r.slo(0).observed(), 4, 4 * 5e-4);
  EXPECT_TRUE(r.slo(0).met());
  EXPECT_TRUE(r.slo_met());
  // One good request of the three routed (one still in flight).
  EXPECT_DOUBLE_EQ(r.slo_attainment(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.goodput_rps(), 0.1);
  // A rejected request fails the SLO whatever the percentiles say.
  RequestRecord rejected;
  rejected.rejected = true;
  metrics.AddRecord(rejected);
  r = BuildResult(fleet, metrics, evaluator->get(), usage, RunCounts{4, 0, 0});
  EXPECT_TRUE(r.slo(0).met());
  EXPECT_FALSE(r.slo_met());
  EXPECT_DOUBLE_EQ(r.slo_attainment(), 0.25);
}

}  // namespace
}  // namespace fleetsim::sim
