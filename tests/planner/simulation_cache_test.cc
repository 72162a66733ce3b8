// The planner's simulation cache: what its key sees and ignores, and that
// a plan at other prices re-prices cached simulations instead of running
// new ones, to the same dollars a fresh plan computes.
#include "planner/simulation_cache.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "planner/planner.h"

namespace fleetsim::planner {
namespace {

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

struct KeyParts {
  v1::Cluster cluster;
  v1::Model model;
  v1::Chip chip;
  v1::Workload workload;
  v1::Slo slo;
  std::string Key() const {
    SimulationKeyInputs inputs;
    inputs.cluster = &cluster;
    inputs.model = &model;
    inputs.chips = {&chip};
    inputs.workload = &workload;
    inputs.slo = &slo;
    return SimulationCache::Key(inputs);
  }
};

KeyParts Parts() {
  KeyParts parts;
  parts.cluster.set_name("c");
  parts.cluster.add_pools()->set_machines(3);
  parts.model.set_name("llama-3-8b");
  parts.chip.set_name("h100");
  parts.chip.set_tdp_w(700);
  parts.chip.mutable_pricing()->mutable_purchase_usd()->set_value(25000);
  parts.workload.set_rate_per_s(5);
  parts.workload.set_seed(1);
  parts.slo.set_name("normal");
  return parts;
}

TEST(SimulationCacheTest, KeyIgnoresPricesButNotWhatIsSimulated) {
  const std::string key = Parts().Key();
  EXPECT_EQ(key.size(), 64u);

  KeyParts priced = Parts();
  priced.chip.mutable_pricing()->mutable_purchase_usd()->set_value(1);
  priced.chip.set_manufacturing_cost_usd(7);
  priced.chip.mutable_die_cost()->set_die_area_mm2(800);
  EXPECT_EQ(priced.Key(), key);

  KeyParts seed = Parts();
  seed.workload.set_seed(2);
  EXPECT_NE(seed.Key(), key);
  KeyParts machines = Parts();
  machines.cluster.mutable_pools(0)->set_machines(4);
  EXPECT_NE(machines.Key(), key);
  KeyParts tdp = Parts();
  tdp.chip.set_tdp_w(1000);
  EXPECT_NE(tdp.Key(), key);
  KeyParts model = Parts();
  model.model.set_name("llama-3-70b");
  EXPECT_NE(model.Key(), key);
  KeyParts slo = Parts();
  slo.slo.set_name("strict");
  EXPECT_NE(slo.Key(), key);
}

TEST(SimulationCacheTest, FindCountsHits) {
  SimulationCache cache;
  EXPECT_EQ(cache.Find("k"), nullptr);
  v1::SimulationResult result;
  result.set_requests(42);
  cache.Insert("k", result);
  ASSERT_NE(cache.Find("k"), nullptr);
  EXPECT_EQ(cache.Find("k")->requests(), 42);
  EXPECT_EQ(cache.hits(), 2);
  EXPECT_EQ(cache.size(), 1u);
}

v1::PlanRequest SmallRequest() {
  v1::PlanRequest request;
  request.set_model("llama-3-8b");
  v1::Workload* workload = request.mutable_workload();
  workload->set_trace_path(kData + "/traces/azure_2023_conv.csv");
  workload->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload->set_rate_per_s(6);
  workload->set_duration_s(20);
  workload->set_seed(1);
  request.set_slo_preset("normal");
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.set_budget_machines(4);
  request.set_objective(v1::PLAN_OBJECTIVE_TCO);
  request.set_jobs(2);
  return request;
}

TEST(SimulationCacheTest, PlanAtAnotherPriceReusesEverySimulation) {
  SimulationCache cache;
  PlannerOptions options;
  options.data_dir = kData;
  options.cache = &cache;
  absl::StatusOr<v1::PlanResult> first = PlanFleet(SmallRequest(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->feasible());
  EXPECT_GT(first->simulations(), 0);
  EXPECT_EQ(first->simulations_reused(), 0);
  EXPECT_EQ(cache.size(), static_cast<size_t>(first->simulations()));

  v1::PlanRequest dearer = SmallRequest();
  dearer.mutable_site()->mutable_usd_per_kwh()->set_value(0.5);
  dearer.mutable_site()->mutable_usd_per_kwh()->set_source("test");
  absl::StatusOr<v1::PlanResult> second = PlanFleet(dearer, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->simulations(), 0);
  EXPECT_EQ(second->simulations_reused(), first->simulations());

  // Re-priced from the cache, the dollars are those of a fresh plan.
  PlannerOptions fresh_options;
  fresh_options.data_dir = kData;
  absl::StatusOr<v1::PlanResult> fresh = PlanFleet(dearer, fresh_options);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_GT(fresh->simulations(), 0);
  const v1::Tco& cached = second->recommended().result().tco();
  const v1::Tco& computed = fresh->recommended().result().tco();
  EXPECT_EQ(cached.tco_usd(), computed.tco_usd());
  EXPECT_EQ(cached.energy_usd_per_year(), computed.energy_usd_per_year());
  // And the energy bill moved with the price alone: same kWh, new $/kWh.
  const v1::Tco& cheap = first->recommended().result().tco();
  EXPECT_EQ(cached.energy_kwh_per_year(), cheap.energy_kwh_per_year());
  EXPECT_NEAR(cached.energy_usd_per_year(), cheap.energy_kwh_per_year() * 0.5,
              1e-6 * cached.energy_usd_per_year());
}

}  // namespace
}  // namespace fleetsim::planner
