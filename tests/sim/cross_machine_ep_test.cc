// Expert-parallel instances spanning machines in whole replays (DeepSeek-V3
// in FP8 on 8-GPU H200 machines): the all-to-all's cross-machine share runs
// on the scale-out links beside the KV transfers (sim/instance.h,
// docs/simulator.md "Expert parallelism across machines"). Every
// simulation runs in a child process (one SimGrid engine each).
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/isolated_run.h"
#include "sim/platform.h"
#include "sim/scenario.h"
#include "tests/sim/sim_test_util.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + std::to_string(getpid()) + "_" + name;
}

// A pool of DeepSeek-V3 in FP8 on `machines` H200 machines of
// `chips_per_machine` GPUs and a `nic_gbytes_per_s` NIC each, with `layout`
// (tp, ep) and vLLM's batching.
std::string Pool(const std::string& name, const std::string& role, int machines,
                 const std::string& layout, double nic_gbytes_per_s,
                 int chips_per_machine = 8) {
  return absl::StrCat(
      "pools { name: '", name, "' role: ", role,
      " machine { chip: 'h200' chips_per_machine: ", chips_per_machine,
      " scale_out_gbytes_per_s: ", nic_gbytes_per_s,
      " scale_out_latency_us: 5 } machines: ", machines, " ", layout,
      " weight_dtype: DTYPE_FP8 batching { policy: BATCHING_POLICY_VLLM } }");
}

// The inputs of replaying `rows` (arrival s, prompt, output) on `cluster`.
absl::StatusOr<SimulationInputs> Inputs(const std::string& cluster,
                                        const std::string& rows) {
  const std::string trace = TempPath("ep_trace.csv");
  {
    std::ofstream out(trace);
    out << "arrived_at,num_prefill_tokens,num_decode_tokens\n" << rows;
  }
  ScenarioRequest request;
  request.catalogs = testutil::ShippedCatalogs();
  FLEETSIM_RETURN_IF_ERROR(
      ParseTextProto("name: 'ep' " + cluster, "test", &request.cluster));
  request.model = "deepseek-v3";
  request.workload.set_trace_path(trace);
  return LoadScenario(request);
}

// Replays them; writes requests.csv to `csv` when given.
absl::StatusOr<v1::SimulationResult> Replay(const std::string& cluster,
                                            const std::string& rows,
                                            const std::string& csv = "") {
  FLEETSIM_ASSIGN_OR_RETURN(SimulationInputs inputs, Inputs(cluster, rows));
  return RunSimulationInChild(inputs, csv);
}

// 24 requests of a 2,000-token prompt and 100 output tokens, one every
// 0.2 s: decode batches overlap, KV transfers do not overlap each other.
std::string Arrivals() {
  std::string rows;
  for (int i = 0; i < 24; ++i) absl::StrAppend(&rows, 0.2 * i, ",2000,100\n");
  return rows;
}

// One TP8 prefill machine, and two decode machines holding either one EP16
// instance across both or two EP8 instances, one each; 2 GB/s NICs, so a
// 2,000-token prompt's KV (140 MB) takes ~70 ms and an EP16 decode
// iteration exchanges ~2 MB per batch token each way.
std::string Disaggregated(bool across) {
  return Pool("prefill", "POOL_ROLE_PREFILL", 1, "tp: 8", 2) +
         Pool("decode", "POOL_ROLE_DECODE", 2,
              across ? "tp: 1 ep: 16" : "tp: 1 ep: 8", 2);
}

TEST(CrossMachineEpTest, TheAllToAllAndKvTransfersShareTheDecodeLinks) {
  auto across = Replay(Disaggregated(true), Arrivals());
  auto within = Replay(Disaggregated(false), Arrivals());
  ASSERT_TRUE(across.ok()) << across.status();
  ASSERT_TRUE(within.ok()) << within.status();
  EXPECT_EQ(across->completed(), 24);
  EXPECT_EQ(within->completed(), 24);
  // The same bytes per transfer; across machines the decode instance's
  // exchange takes part of the decode machines' incoming links (measured
  // at commit time: 88.3 ms against 70.3 ms on average).
  EXPECT_EQ(across->kv_transfer_count(), within->kv_transfer_count());
  EXPECT_GT(across->kv_transfer_s().mean(),
            1.02 * within->kv_transfer_s().mean());
  const v1::PoolUsage& decode = across->pools(1);
  ASSERT_TRUE(decode.has_all_to_all_scale_out_s());
  EXPECT_FALSE(within->pools(1).has_all_to_all_scale_out_s());
  // The exchange slows under KV load: with layer-wise KV streaming only
  // ~1/61 of each prompt's KV is left for the links after its prefill
  // (KvTransfers::TransferBytes), and the same decode work's exchange takes
  // less time per byte than beside whole KV transfers (measured at commit
  // time: 0.279 against 0.322 ns per byte, the same 9.56 GB moved).
  auto light =
      Replay("layerwise_kv_transfer: true " + Disaggregated(true), Arrivals());
  ASSERT_TRUE(light.ok()) << light.status();
  EXPECT_EQ(light->completed(), 24);
  const v1::PoolUsage& quiet = light->pools(1);
  ASSERT_GT(quiet.all_to_all_scale_out_bytes(), 0);
  EXPECT_GT(
      decode.all_to_all_scale_out_s() / decode.all_to_all_scale_out_bytes(),
      1.1 * quiet.all_to_all_scale_out_s() /
          quiet.all_to_all_scale_out_bytes());
}

TEST(CrossMachineEpTest, AnIterationAcrossMachinesIsSlowerThanInOneDomain) {
  // EP16 on one 16-GPU scale-up domain against two 8-GPU machines joined
  // by 50 GB/s per GPU of scale-out (the h200 entry's NICs), one request.
  const std::string rows = "0,2000,50\n";
  auto one = Replay(
      Pool("colocated", "POOL_ROLE_COLOCATED", 1, "tp: 1 ep: 16", 400, 16),
      rows);
  auto two = Replay(
      Pool("colocated", "POOL_ROLE_COLOCATED", 2, "tp: 1 ep: 16", 400), rows);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(one->completed(), 1);
  ASSERT_EQ(two->completed(), 1);
  EXPECT_GT(two->ttft_s().mean(), one->ttft_s().mean());
  EXPECT_GT(two->tpot_s().mean(), one->tpot_s().mean());
}

// On idle links the simulated exchange of each iteration takes what the
// planner's bounds charge for it (ExpertAllToAll::ScaleOutSeconds with the
// platform's route latency): a lone request's prefill of 2,000 tokens, then
// one decode step per further output token, over 2 and 4 machines.
TEST(CrossMachineEpTest, TheBoundsExchangeTimeIsTheSimulatedOneOnIdleLinks) {
  for (const auto& [machines, layout] :
       {std::pair<int, std::string>{2, "tp: 1 ep: 16"},
        std::pair<int, std::string>{4, "tp: 1 ep: 32"}}) {
    SCOPED_TRACE(machines);
    const std::string cluster =
        Pool("colocated", "POOL_ROLE_COLOCATED", machines, layout, 50);
    const std::string rows = "0,2000,20\n";
    auto inputs = Inputs(cluster, rows);
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    const PoolSpec& pool = inputs->fleet.pools[0];
    ASSERT_EQ(pool.machines_per_instance, machines);
    auto step_s = [&](double tokens) {
      return pool.all_to_all.ScaleOutSeconds(tokens, pool.scale_out_bytes_per_s,
                                             RouteLatencySeconds(pool, pool));
    };
    const double expected_s = step_s(2000) + 19 * step_s(1);
    auto result = Replay(cluster, rows);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->completed(), 1);
    EXPECT_NEAR(result->pools(0).all_to_all_scale_out_s(), expected_s,
                1e-6 * expected_s);  // SimGrid's timing precision
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CrossMachineEpTest, ASeedGivesTheSameRun) {
  const std::string first = TempPath("ep_first.csv");
  const std::string second = TempPath("ep_second.csv");
  auto a = Replay(Disaggregated(true), Arrivals(), first);
  auto b = Replay(Disaggregated(true), Arrivals(), second);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(ReadFile(first), ReadFile(second));
  EXPECT_FALSE(ReadFile(first).empty());
  EXPECT_EQ(a->kv_transfer_s().mean(), b->kv_transfer_s().mean());
  EXPECT_EQ(a->pools(1).all_to_all_scale_out_s(),
            b->pools(1).all_to_all_scale_out_s());
}

}  // namespace
}  // namespace fleetsim::sim
