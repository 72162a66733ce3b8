// Planner tests on real simulations (short windows keep them quick).
#include "planner/planner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::planner {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

v1::PlanRequest Request(const std::string& model, const std::string& trace,
                        double rate, double duration) {
  v1::PlanRequest request;
  request.set_model(model);
  v1::Workload* workload = request.mutable_workload();
  workload->set_trace_path(kData + "/traces/" + trace);
  workload->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload->set_rate_per_s(rate);
  workload->set_duration_s(duration);
  workload->set_seed(1);
  request.set_slo_preset("normal");
  return request;
}

PlannerOptions Options() {
  PlannerOptions options;
  options.data_dir = kData;
  return options;
}

int Machines(const v1::PlannedFleet& fleet) {
  int n = 0;
  for (const v1::PlannedPool& pool : fleet.pools()) n += pool.machines();
  return n;
}

const v1::PlannedFleet* FindFleet(const v1::PlanResult& result,
                                  const std::string& system, int machines) {
  for (const v1::PlannedFleet& fleet : result.fleets()) {
    if (fleet.system() == system && Machines(fleet) == machines) return &fleet;
  }
  return nullptr;
}

TEST(PlannerTest, ColocatedMinimumIsFeasibleAndOneLessIsNot) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 10, 60);
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  const v1::PlannedFleet& best = result->cheapest();
  EXPECT_TRUE(best.feasible());
  EXPECT_TRUE(best.result().slo_met());
  int n = Machines(best);
  ASSERT_GT(n, 1);
  // The search must have seen n - 1 fail (that is how it knows n is least).
  const v1::PlannedFleet* smaller = FindFleet(*result, best.system(), n - 1);
  ASSERT_NE(smaller, nullptr);
  EXPECT_FALSE(smaller->feasible());
  EXPECT_FALSE(smaller->miss().empty());
  EXPECT_EQ(best.cost(), n);  // H100 machines
}

// Stopping simulations at a certain SLO miss finds the same fleets as
// running every one to the end, and stops some.
TEST(PlannerTest, EarlyStopsFindTheSameFleets) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 10, 60);
  request.add_chips("h100");
  request.add_chips("a100");
  absl::StatusOr<v1::PlanResult> early = PlanFleet(request, Options());
  request.set_run_to_end(true);
  absl::StatusOr<v1::PlanResult> full = PlanFleet(request, Options());
  ASSERT_TRUE(early.ok()) << early.status();
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->simulations_stopped_early(), 0);
  EXPECT_GT(early->simulations_stopped_early(), 0);
  EXPECT_EQ(early->simulations(), full->simulations());
  auto pools = [](const v1::PlannedFleet& fleet) {
    v1::PlannedFleet only_pools;
    *only_pools.mutable_pools() = fleet.pools();
    return only_pools.SerializeAsString();
  };
  ASSERT_TRUE(full->feasible());
  EXPECT_EQ(pools(early->cheapest()), pools(full->cheapest()));
  EXPECT_EQ(pools(early->recommended()), pools(full->recommended()));
  ASSERT_EQ(early->fleets_size(), full->fleets_size());
  for (int i = 0; i < full->fleets_size(); ++i) {
    EXPECT_EQ(pools(early->fleets(i)), pools(full->fleets(i))) << i;
    EXPECT_EQ(early->fleets(i).feasible(), full->fleets(i).feasible()) << i;
    if (early->fleets(i).feasible()) {  // feasible runs are never stopped
      EXPECT_EQ(early->fleets(i).result().completed(),
                full->fleets(i).result().completed());
    }
  }
}

// Extending an owned fleet: the search adds machines to the owned ones, and
// only what it adds is bought.
TEST(PlannerTest, ExtendingAnOwnedFleetBuysOnlyWhatIsAdded) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 10, 60);
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.set_objective(v1::PLAN_OBJECTIVE_TCO);
  absl::StatusOr<v1::PlanResult> green = PlanFleet(request, Options());
  ASSERT_TRUE(green.ok()) << green.status();
  ASSERT_TRUE(green->feasible()) << green->explanation();
  const int needed = Machines(green->recommended());
  ASSERT_GT(needed, 1);

  // Owning one machine fewer than needed: the plan adds at least one.
  v1::PlannedPool* owned = request.add_existing_pools();
  owned->set_role("colocated");
  owned->set_chip("h100");
  owned->set_machines(needed - 1);
  owned->set_tp(8);
  absl::StatusOr<v1::PlanResult> extended = PlanFleet(request, Options());
  ASSERT_TRUE(extended.ok()) << extended.status();
  ASSERT_TRUE(extended->feasible()) << extended->explanation();
  const v1::PlannedFleet& best = extended->recommended();
  ASSERT_EQ(best.pools_size(), 2);
  EXPECT_TRUE(best.pools(0).owned());
  EXPECT_EQ(best.pools(0).machines(), needed - 1);
  EXPECT_FALSE(best.pools(1).owned());
  const int added = best.pools(1).machines();
  EXPECT_GE(added, 1);
  EXPECT_EQ(best.system(), "colocated h100 tp8 + owned fleet");
  // Cost in H100 machines counts the added ones; the owned ones are sunk.
  EXPECT_DOUBLE_EQ(best.cost(), added);
  const v1::Tco& tco = best.result().tco();
  EXPECT_NEAR(tco.owned_capex_usd() / tco.capex_usd(),
              static_cast<double>(needed - 1) / added, 1e-9);
  // Adding nothing was simulated and missed the SLO.
  bool saw_as_is = false;
  for (const v1::PlannedFleet& fleet : extended->fleets()) {
    if (fleet.system() != "owned fleet as is") continue;
    saw_as_is = true;
    EXPECT_FALSE(fleet.feasible());
  }
  EXPECT_TRUE(saw_as_is);

  // Owning enough already: nothing to buy.
  owned->set_machines(needed + 1);
  extended = PlanFleet(request, Options());
  ASSERT_TRUE(extended.ok()) << extended.status();
  ASSERT_TRUE(extended->feasible()) << extended->explanation();
  EXPECT_EQ(extended->recommended().system(), "owned fleet as is");
  EXPECT_EQ(extended->recommended().result().tco().capex_usd(), 0);
  EXPECT_GT(extended->recommended().result().tco().tco_usd(), 0);

  // Additions serve in the owned fleet's mode.
  request.clear_modes();
  request.add_modes(v1::SERVING_MODE_DISAGGREGATED);
  EXPECT_THAT(PlanFleet(request, Options()).status().message(),
              HasSubstr("the existing fleet serves colocated"));
}

TEST(PlannerTest, ExistingPoolsAreChecked) {
  v1::PlanRequest request = Request("bloom-176b", "azure_2023_conv.csv", 1, 10);
  v1::PlannedPool* owned = request.add_existing_pools();
  owned->set_role("colocated");
  owned->set_chip("h100");
  owned->set_machines(2);
  owned->set_tp(3);
  EXPECT_THAT(PlanFleet(request, Options()).status().message(),
              HasSubstr("existing_pools[0].tp"));
  owned->set_tp(8);
  owned->set_role("both");
  EXPECT_THAT(PlanFleet(request, Options()).status().message(),
              HasSubstr("existing_pools[0].role"));
  owned->set_role("colocated");
  owned->set_chip("h900");
  EXPECT_EQ(PlanFleet(request, Options()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PlannerTest, InfeasibleBudgetExplainsTheClosestMiss) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 40, 30);
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.set_budget_machines(2);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->feasible());
  EXPECT_THAT(result->explanation(),
              HasSubstr("no fleet within the budget of 2 machines"));
  EXPECT_THAT(result->explanation(), HasSubstr("closest: 2 h100 colocated"));
  EXPECT_THAT(result->explanation(), HasSubstr("slowdown"));
}

// DeepSeek-V3 at BF16 (~1.34 TB of weights) fits no 8-chip H100 machine
// (618 GB usable): its instances span the fewest whole machines that hold
// one, 4 (EP32), and every fleet searched (4 req/s: more than one
// instance's worth) has a multiple of 4 machines. Within a
// budget of 3 machines no instance fits, and the plan says why.
TEST(PlannerTest, AModelThatFitsNoMachineSpansWholeMachines) {
  v1::PlanRequest request =
      Request("deepseek-v3", "azure_2023_conv.csv", 4, 10);
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  EXPECT_EQ(result->recommended().pools(0).ep(), 32);
  EXPECT_THAT(result->recommended().system(), HasSubstr("ep32"));
  ASSERT_GT(result->fleets_size(), 1);
  for (const v1::PlannedFleet& fleet : result->fleets()) {
    EXPECT_EQ(fleet.pools(0).machines() % 4, 0) << fleet.system();
  }
  EXPECT_THAT(result->explanation(),
              HasSubstr("h100 tp8: capacity probe: pool 'colocated': model "
                        "deepseek-v3 does not fit"));

  request.set_budget_machines(3);
  result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->feasible());
  EXPECT_THAT(result->explanation(), HasSubstr("does not fit"));
}

// An MoE model's plan searches an expert-parallel system beside the TP one
// (Mixtral-8x7B on 8-GPU H100 machines: ep 8, one expert per GPU) and
// recommends whichever the simulations find cheaper at the SLO. At 10 req/s
// that is EP; why is read from the simulations: the TP system at the EP
// fleet's size misses a target the EP fleet meets. A dense model's plan
// has no expert-parallel system.
TEST(PlannerTest, AnMoeModelsPlanWeighsExpertAgainstTensorParallelism) {
  v1::PlanRequest request =
      Request("mixtral-8x7b", "azure_2023_conv.csv", 10, 30);
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  const v1::PlannedFleet* tp = nullptr;
  const v1::PlannedFleet* ep = nullptr;
  for (const v1::PlannedFleet& best : result->best_per_system())
    (best.pools(0).ep() > 1 ? ep : tp) = &best;
  ASSERT_NE(tp, nullptr);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(tp->system(), "colocated h100 tp8");
  EXPECT_EQ(ep->pools(0).ep(), 8);
  EXPECT_EQ(result->cheapest().system(),
            ep->cost() < tp->cost() ? ep->system() : tp->system());

  ASSERT_LT(Machines(*ep), Machines(*tp));
  EXPECT_EQ(result->cheapest().system(), ep->system());
  const v1::PlannedFleet* tp_as_small =
      FindFleet(*result, tp->system(), Machines(*ep));
  ASSERT_NE(tp_as_small, nullptr);  // the search saw it fail
  EXPECT_FALSE(tp_as_small->feasible());
  int missed = 0;
  for (const v1::SloAttainment& target : tp_as_small->result().slo()) {
    if (target.observed() <= target.limit()) continue;
    ++missed;
    for (const v1::SloAttainment& same : ep->result().slo()) {
      if (same.metric() == target.metric() &&
          same.percentile() == target.percentile()) {
        EXPECT_LE(same.observed(), same.limit()) << same.metric();
      }
    }
  }
  EXPECT_GT(missed, 0) << tp_as_small->miss();

  v1::PlanRequest dense = Request("llama-3-8b", "azure_2023_conv.csv", 2, 20);
  dense.add_chips("h100");
  dense.add_modes(v1::SERVING_MODE_COLOCATED);
  absl::StatusOr<v1::PlanResult> plain = PlanFleet(dense, Options());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_GT(plain->fleets_size(), 0);
  for (const v1::PlannedFleet& fleet : plain->fleets()) {
    EXPECT_EQ(fleet.pools(0).ep(), 0) << fleet.system();
  }
}

TEST(PlannerTest, UnknownChipIsAnError) {
  v1::PlanRequest request = Request("bloom-176b", "azure_2023_conv.csv", 1, 10);
  request.add_chips("h900");
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

// A reduced SPAD Table 4 (30 s of the coding trace instead of 600 s). The
// paper's coding costs: SPAD 14.7 < Splitwise H100-only 25 ~ H100 + A100
// 25.5 < Sarathi 36, SPAD saving 41 %. The two Splitwise fleets are a
// near-tie in the paper (2 %); fleetsim's 600 s run has them in the paper's
// order a machine apart, shorter windows within a machine either way
// (docs/validation.md), so the test holds that pair to 10 % and SPAD's
// saving to 15 points (a 30 s window shifts counts by a machine).
TEST(PlannerTest, SpadTable4OrderingOnAShortWindow) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_code.csv", 70, 30);
  for (const char* chip : {"h100", "a100", "spad_prefill", "spad_decode"}) {
    request.add_chips(chip);
  }
  request.set_cost_basis(v1::COST_BASIS_DIE);  // SPAD's unit
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  std::map<std::string, double> cost;
  for (const v1::PlannedFleet& fleet : result->best_per_system()) {
    cost[fleet.system()] = fleet.cost();
  }
  double spad = cost["disaggregated spad_prefill->spad_decode tp8"];
  double homo = cost["disaggregated h100->h100 tp8"];
  double hetero = cost["disaggregated h100->a100 tp8"];
  double sarathi = cost["colocated h100 tp8"];
  ASSERT_GT(spad, 0);
  ASSERT_GT(homo, 0);
  ASSERT_GT(hetero, 0);
  ASSERT_GT(sarathi, 0);
  EXPECT_LT(spad, std::min(homo, hetero));
  EXPECT_NEAR(hetero / homo, 1.0, 0.10);
  EXPECT_LT(std::max(homo, hetero), sarathi);
  EXPECT_NEAR(1 - spad / homo, 0.41, 0.15);
}

TEST(PlannerTest, ReallocationFindsASustainedRate) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 10, 30);
  v1::Cluster* fleet = request.mutable_fixed_fleet();
  v1::Pool* prefill = fleet->add_pools();
  prefill->set_role(v1::POOL_ROLE_PREFILL);
  prefill->mutable_machine()->set_chip("spad_prefill");
  prefill->set_machines(3);
  v1::Pool* decode = fleet->add_pools();
  decode->set_role(v1::POOL_ROLE_DECODE);
  decode->mutable_machine()->set_chip("spad_decode");
  decode->set_machines(2);
  request.set_cost_basis(
      v1::COST_BASIS_DIE);  // SPAD's chips have no list price
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->has_reallocation()) << result->explanation();
  EXPECT_GT(result->max_rate_per_s(), 0);
  EXPECT_TRUE(result->reallocation().feasible());
  EXPECT_EQ(Machines(result->reallocation()), 5);
}

TEST(PlannerTest, AChipWithoutAPriceIsAnErrorNotAFreeChip) {
  v1::PlanRequest request = Request("bloom-176b", "azure_2023_conv.csv", 1, 10);
  request.add_chips("h100");
  request.add_chips("spad_decode");  // never sold: no list price
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("'spad_decode'"));
  EXPECT_THAT(result.status().message(), HasSubstr("pricing.purchase_usd"));

  request.clear_chips();
  request.add_chips("ascend_910c");  // no public rental price
  request.set_cost_basis(v1::COST_BASIS_RENTAL);
  result = PlanFleet(request, Options());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(),
              HasSubstr("pricing.rental_on_demand_usd_per_chip_hour"));
}

// Every fleet carries its TCO, and the objective picks among the feasible
// ones: the TCO pick has the lowest TCO of all feasible fleets.
TEST(PlannerTest, TcoObjectiveRecommendsTheLowestTco) {
  v1::PlanRequest request =
      Request("bloom-176b", "azure_2023_conv.csv", 10, 30);
  request.add_chips("h100");
  request.add_chips("h200");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.set_objective(v1::PLAN_OBJECTIVE_TCO);
  request.mutable_site()->mutable_usd_per_kwh()->set_value(0.12);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  EXPECT_EQ(result->objective(), v1::PLAN_OBJECTIVE_TCO);
  const v1::Tco& best = result->recommended().result().tco();
  EXPECT_GT(best.tco_usd(), best.capex_usd());
  EXPECT_EQ(best.site().usd_per_kwh().value(), 0.12);
  int feasible = 0;
  for (const v1::PlannedFleet& fleet : result->fleets()) {
    if (!fleet.feasible()) continue;
    ++feasible;
    EXPECT_GT(fleet.result().tco().tco_usd(), 0);
    EXPECT_LE(best.tco_usd(), fleet.result().tco().tco_usd());
  }
  EXPECT_GE(feasible, 2);
}

// Absolute bounds as a user states them, for a small model on one GPU
// (slowdown presets against an H100 TP8 reference do not fit such models).
TEST(PlannerTest, InlineAbsoluteSloPlansASmallModel) {
  v1::PlanRequest request = Request("qwen2.5-7b", "azure_2023_conv.csv", 2, 30);
  request.set_slo_preset("ttft_p99=2s,tpot_p90=50ms");
  request.add_tp(1);
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  const v1::SimulationResult& best = result->cheapest().result();
  ASSERT_EQ(best.slo_size(), 2);
  EXPECT_EQ(best.slo(0).metric(), "ttft");
  EXPECT_DOUBLE_EQ(best.slo(0).limit(), 2.0);  // seconds, not a slowdown
  EXPECT_LE(best.ttft_s().p99(), 2.0);

  request.set_slo_preset("ttft_p99=2 seconds");
  EXPECT_EQ(PlanFleet(request, Options()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A pure-SSM model (no per-token KV, a fixed state per sequence) plans in
// both serving modes: its memory is counted in states, not KV tokens.
TEST(PlannerTest, PureSsmModelPlans) {
  v1::PlanRequest request =
      Request("mamba2-2.7b", "azure_2023_conv.csv", 5, 20);
  request.set_slo_preset("ttft_p99=2s,tpot_p90=50ms");
  request.add_tp(1);
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible()) << result->explanation();
  const v1::SimulationResult& best = result->cheapest().result();
  EXPECT_GT(best.completed(), 50);
  EXPECT_EQ(best.rejected(), 0);
}

// Speculative decoding from the template cluster reaches every candidate:
// the same fleet decodes faster with a draft.
TEST(PlannerTest, SpeculativeDecodingPlans) {
  v1::PlanRequest request = Request("llama-3-8b", "azure_2023_conv.csv", 5, 20);
  request.set_slo_preset("ttft_p99=2s,tpot_p90=50ms");
  request.add_tp(1);
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.mutable_template_cluster()->set_name("template");
  absl::StatusOr<v1::PlanResult> plain = PlanFleet(request, Options());
  v1::SpeculativeDecoding* speculative =
      request.mutable_template_cluster()->mutable_speculative_decoding();
  speculative->set_draft_model("llama-3.2-1b");
  speculative->set_draft_tokens(4);
  speculative->set_acceptance_rate(0.8);
  absl::StatusOr<v1::PlanResult> drafted = PlanFleet(request, Options());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  ASSERT_TRUE(plain->feasible()) << plain->explanation();
  ASSERT_TRUE(drafted->feasible()) << drafted->explanation();
  ASSERT_EQ(Machines(drafted->cheapest()), Machines(plain->cheapest()));
  EXPECT_LT(drafted->cheapest().result().tpot_s().mean(),
            plain->cheapest().result().tpot_s().mean() / 1.2);
}

// DeepSeek-V3's MTP module as the template cluster's draft reaches every
// candidate: each planned fleet's simulation holds the module's own FP8
// weights with its BF16 projection (under data-parallel attention, all but
// its routed experts once per attention group) and its one MLA layer's KV
// in every instance (the KV cache sized after them), and the same fleet
// decodes faster.
TEST(PlannerTest, MultiTokenPredictionPlansWithTheModulesMemory) {
  v1::PlanRequest request =
      Request("deepseek-v3", "azure_2023_conv.csv", 1, 20);
  request.set_slo_preset("ttft_p99=10s,tpot_p90=200ms");
  request.add_tp(8);
  request.add_chips("h200");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  v1::Cluster* cluster = request.mutable_template_cluster();
  cluster->set_name("template");
  v1::Pool* pool = cluster->add_pools();
  pool->set_role(v1::POOL_ROLE_COLOCATED);
  pool->set_weight_dtype(v1::DTYPE_FP8);
  absl::StatusOr<v1::PlanResult> plain = PlanFleet(request, Options());
  v1::SpeculativeDecoding* mtp = cluster->mutable_speculative_decoding();
  mtp->set_multi_token_prediction(true);
  mtp->set_draft_tokens(1);
  mtp->set_acceptance_rate(0.85);
  absl::StatusOr<v1::PlanResult> drafted = PlanFleet(request, Options());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  ASSERT_TRUE(plain->feasible()) << plain->explanation();
  ASSERT_TRUE(drafted->feasible()) << drafted->explanation();
  EXPECT_FALSE(plain->cheapest().result().pools(0).has_draft_weight_bytes());
  for (const v1::PlannedFleet& fleet : drafted->best_per_system()) {
    const v1::PoolUsage& usage = fleet.result().pools(0);
    const int groups = std::max(1, fleet.pools(0).ep() / fleet.pools(0).tp());
    // (11,610,065,920 - 102,760,448) x 1 B + 102,760,448 x 2 B, and all
    // but the 11,274,289,152 B of routed experts per further group.
    EXPECT_DOUBLE_EQ(usage.draft_weight_bytes(),
                     11712826368.0 + (groups - 1) * 438537216.0)
        << fleet.system();
    EXPECT_EQ(usage.draft_kv_bytes_per_token(), 1152) << fleet.system();
  }
  ASSERT_EQ(Machines(drafted->cheapest()), Machines(plain->cheapest()));
  EXPECT_LT(drafted->cheapest().result().tpot_s().mean(),
            plain->cheapest().result().tpot_s().mean() / 1.2);
}

// Test-time scaling from the template cluster reaches every candidate and
// its samples' decoding and KV count: 8 samples a request need more
// machines than one.
TEST(PlannerTest, TestTimeScalingPlansForEverySample) {
  v1::PlanRequest request =
      Request("llama-3-8b", "azure_2023_conv.csv", 60, 20);
  request.set_slo_preset("ttft_p99=5s");
  request.add_tp(1);
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  request.mutable_template_cluster()->set_name("template");
  request.mutable_template_cluster()->set_context_limit(
      v1::CONTEXT_LIMIT_TRUNCATE);
  absl::StatusOr<v1::PlanResult> plain = PlanFleet(request, Options());
  v1::TestTimeScaling* scaling =
      request.mutable_template_cluster()->mutable_test_time_scaling();
  scaling->set_samples(8);
  scaling->set_rounds(2);
  scaling->set_barrier(v1::TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS);
  absl::StatusOr<v1::PlanResult> sampled = PlanFleet(request, Options());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  ASSERT_TRUE(plain->feasible()) << plain->explanation();
  ASSERT_TRUE(sampled->feasible()) << sampled->explanation();
  EXPECT_GT(Machines(sampled->cheapest()), Machines(plain->cheapest()));
  EXPECT_EQ(sampled->cheapest().result().rejected(), 0);
}

// A diffusion LM plans from the template cluster's diffusion_serving:
// vanilla LLaDA-8B (every step recomputes prompt and canvas) needs more
// machines than Fast-dLLM's dual cache with parallel decoding for the
// same load.
TEST(PlannerTest, DiffusionModelPlans) {
  const std::string trace =
      ::testing::TempDir() + "/" + std::to_string(getpid()) + "_dllm.csv";
  {
    std::ofstream out(trace);
    out << "arrived_at,num_prefill_tokens,num_decode_tokens\n0,256,200\n";
  }
  v1::PlanRequest request = Request("llada-8b", "", 10, 20);
  request.mutable_workload()->set_trace_path(trace);
  request.set_slo_preset("ttft_p99=60s");
  request.add_tp(1);
  request.add_chips("h100");
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  v1::DiffusionServing* serving =
      request.mutable_template_cluster()->mutable_diffusion_serving();
  serving->set_canvas_tokens(256);
  serving->set_block_tokens(32);
  serving->set_cache(v1::DIFFUSION_CACHE_NONE);
  absl::StatusOr<v1::PlanResult> vanilla = PlanFleet(request, Options());
  serving->set_cache(v1::DIFFUSION_CACHE_DUAL);
  serving->set_tokens_per_step(4);
  absl::StatusOr<v1::PlanResult> fast = PlanFleet(request, Options());
  ASSERT_TRUE(vanilla.ok()) << vanilla.status();
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(vanilla->feasible()) << vanilla->explanation();
  ASSERT_TRUE(fast->feasible()) << fast->explanation();
  EXPECT_EQ(fast->cheapest().result().rejected(), 0);
  EXPECT_GT(fast->cheapest().result().completed(), 100);
  EXPECT_GT(Machines(vanilla->cheapest()), Machines(fast->cheapest()));
  // Disaggregated systems are skipped, said once, rather than searched and
  // refused fleet by fleet.
  request.add_modes(v1::SERVING_MODE_DISAGGREGATED);
  absl::StatusOr<v1::PlanResult> both = PlanFleet(request, Options());
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_THAT(both->explanation(),
              HasSubstr("skipped: disaggregated: a diffusion LM is not "
                        "simulated on disaggregated pools"));
  for (const v1::PlannedFleet& fleet : both->fleets())
    EXPECT_THAT(fleet.system(), Not(HasSubstr("disaggregated")));
}

// A simulation that crashes (here: killed by the polling hook, every time)
// is an error naming the candidate and its inputs, never an infeasible
// candidate.
TEST(PlannerTest, ACrashedSimulationIsAnErrorNotAnInfeasibleFleet) {
  v1::PlanRequest request =
      Request("qwen2.5-7b", "azure_2023_conv.csv", 2, 20000);
  request.set_slo_preset("ttft_p99=2s,tpot_p90=50ms");
  request.add_tp(1);
  request.add_modes(v1::SERVING_MODE_COLOCATED);
  PlannerOptions options = Options();
  options.cancelled = [] {
    for (pid_t child : testutil::ChildrenOf(getpid())) kill(child, SIGKILL);
    return false;
  };
  absl::StatusOr<v1::PlanResult> result = PlanFleet(request, options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), HasSubstr("signal 9"));
  EXPECT_THAT(result.status().message(), HasSubstr("attempts"));
  EXPECT_THAT(result.status().message(),
              HasSubstr("its inputs: model 'qwen2.5-7b'"));
}

TEST(PlannerTest, PlanCommandWritesPlanJson) {
  std::string out =
      ::testing::TempDir() + "/plan_cli_" + std::to_string(getpid());
  std::string command =
      std::string(FLEETSIM_BINARY_DIR) +
      "/fleetsim plan --model bloom-176b --trace " + kData +
      "/traces/azure_2023_conv.csv --rate 5 --duration 20 --slo normal "
      "--modes colocated --out " +
      out + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out + "/plan.json");
  std::string json((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  for (const char* key :
       {"\"fleets\"", "\"cheapest\"", "\"lowest_tdp\"", "\"pools\"", "\"role\"",
        "\"machines\"", "\"tp\"", "\"feasible\"", "\"cost\"", "\"tdp_w\"",
        "\"recommended\"", "\"tco\"", "\"tco_usd\"",
        "\"usd_per_million_output_tokens\""}) {
    EXPECT_THAT(json, HasSubstr(key));
  }
  std::ifstream csv_in(out + "/plan.csv");
  std::string header;
  ASSERT_TRUE(std::getline(csv_in, header));
  EXPECT_THAT(header, HasSubstr("system,pools,machines,feasible,cost_basis,"
                                "capex_usd,tco_usd"));
  std::string row;
  ASSERT_TRUE(std::getline(csv_in, row));
  EXPECT_THAT(row, HasSubstr("\"colocated h100 tp8\""));
  EXPECT_THAT(row, HasSubstr(",list,"));
}

}  // namespace
}  // namespace fleetsim::planner
