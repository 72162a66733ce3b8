// Multi-token prediction (DeepSeek-V3's MTP module drafting) end to end: a
// DeepSeek-V3 FP8 cluster on one 8 x H200 machine is loaded, sized and
// replayed; the module's weights and KV share the instance's memory, and a
// lone request emits 1 + a_1 + a_1 a_2 + ... tokens per step, the speed-up
// the step's cost implies. Every simulation runs in a child process (one
// SimGrid engine each).

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/mtp_module.h"
#include "sim/isolated_run.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
#include "tests/sim/sim_test_util.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;
using testutil::ShippedCatalogs;

constexpr int kPrompt = 1000;
constexpr int kOutput = 257;  // 256 decoded tokens after the first

// DeepSeek-V3 in FP8 on one 8 x H200 machine, TP8, with `speculative`
// settings (empty: none).
v1::Cluster H200Tp8(const std::string& speculative) {
  v1::Cluster cluster;
  const std::string text =
      "name: \"ds-h200\"\n"
      "pools { name: \"colocated\" role: POOL_ROLE_COLOCATED\n"
      "  machine { chip: \"h200\" } machines: 1 tp: 8\n"
      "  weight_dtype: DTYPE_FP8 }\n" +
      (speculative.empty() ? std::string()
                           : "speculative_decoding { " + speculative + " }\n");
  absl::Status status = ParseTextProto(text, "ds.txtpb", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

absl::StatusOr<SimulationInputs> Load(const v1::Cluster& cluster,
                                      int requests = 1) {
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  request.cluster = cluster;
  request.model = "deepseek-v3";
  request.workload =
      testutil::BurstWorkload("mtp", requests, kPrompt, kOutput, 0.5);
  return LoadScenario(request);
}

// Mean time per output token after the first.
double MeanTpot(const v1::Cluster& cluster, int requests = 1) {
  absl::StatusOr<SimulationInputs> inputs = Load(cluster, requests);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  if (!inputs.ok()) return 0;
  absl::StatusOr<v1::SimulationResult> result = RunSimulationInChild(*inputs);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return 0;
  EXPECT_EQ(result->completed(), requests);
  EXPECT_EQ(result->preemptions(), 0);
  return result->tpot_s().mean();
}

// One decode step of a lone request at its mean context, as `cluster`'s
// pool times it (a speculative one: draft steps and verify).
double StepSeconds(const v1::Cluster& cluster) {
  auto inputs = Load(cluster);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  if (!inputs.ok()) return 0;
  auto latency = CreateLatencyModel(inputs->fleet, inputs->fleet.pools[0]);
  EXPECT_TRUE(latency.ok()) << latency.status();
  if (!latency.ok()) return 0;
  hardware::BatchShape decode;
  decode.AddDecode(kPrompt + kOutput / 2);
  return (*latency)->IterationSeconds(decode);
}

TEST(MtpSimulationTest, TheModuleSharesTheInstanceMemory) {
  auto plain = Load(H200Tp8(""));
  auto mtp = Load(H200Tp8(
      "multi_token_prediction: true draft_tokens: 2 acceptance_rate: 0.85"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(mtp.ok()) << mtp.status();
  const PoolSpec& p = plain->fleet.pools[0];
  const PoolSpec& m = mtp->fleet.pools[0];
  // The module's own weights in FP8 with its BF16 projection:
  // (11,610,065,920 - 102,760,448) x 1 B + 102,760,448 x 2 B.
  EXPECT_DOUBLE_EQ(m.weight_bytes_per_instance - p.weight_bytes_per_instance,
                   11712826368.0);
  // Its one MLA layer's BF16 latent, held by each of the 8 TP ranks.
  EXPECT_EQ(m.kv_bytes_per_token - p.kv_bytes_per_token, 1152);
  EXPECT_LT(m.kv_capacity_blocks, p.kv_capacity_blocks);
  EXPECT_EQ(m.draft_tokens, 2);
  EXPECT_NEAR(m.tokens_per_step, 1 + 0.85 + 0.7225, 1e-12);
}

// Under expert parallelism with data-parallel attention (SGLang's
// --enable-dp-attention, EP8 with attention tp 1) the module's attention
// runs in the same 8 groups and its routed experts on the same ranks:
// each group holds the module but its experts, which are held once.
TEST(MtpSimulationTest, DataParallelAttentionHoldsTheModulePerGroup) {
  v1::Cluster cluster = H200Tp8(
      "multi_token_prediction: true draft_tokens: 1 acceptance_rate: 0.85");
  cluster.mutable_pools(0)->set_tp(1);
  cluster.mutable_pools(0)->set_ep(8);
  auto mtp = Load(cluster);
  ASSERT_TRUE(mtp.ok()) << mtp.status();
  const PoolSpec& m = mtp->fleet.pools[0];
  ASSERT_EQ(m.attention_groups(), 8);
  // 11,712,826,368 B once; all but the 256 x 3 x 7168 x 2048 expert bytes
  // (11,274,289,152) again in 7 more groups.
  EXPECT_DOUBLE_EQ(m.draft_weight_bytes,
                   11712826368.0 + 7 * (11712826368.0 - 11274289152.0));
  EXPECT_EQ(m.draft_kv_bytes_per_token, 1152);
  // A draft model there is still refused (its data-parallel groups).
  cluster.mutable_speculative_decoding()->set_multi_token_prediction(false);
  cluster.mutable_speculative_decoding()->set_draft_model("llama-3.2-1b");
  auto drafted = Load(cluster);
  EXPECT_EQ(drafted.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(drafted.status().message(),
              HasSubstr("is not modelled for a draft model"));
}

// DeepSeek-V3's verify (and the module's first pass) run MLA in the
// absorbed decode form, as FlashMLA does for k + 1 query tokens: a decode
// batch runs no naive-form prefill (no up-projection of the cached latent,
// no MHA over it).
TEST(MtpSimulationTest, AnMlaVerifyRunsTheAbsorbedDecodeForm) {
  auto inputs = Load(H200Tp8(
      "multi_token_prediction: true draft_tokens: 2 acceptance_rate: 0.85"));
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  auto latency = CreateLatencyModel(inputs->fleet, inputs->fleet.pools[0]);
  ASSERT_TRUE(latency.ok()) << latency.status();
  hardware::BatchShape decode;
  for (int i = 0; i < 16; ++i) decode.AddDecode(kPrompt);
  bool decode_attention = false;
  for (const hardware::OperatorTime& op : (*latency)->Explain(decode).ops) {
    EXPECT_EQ(op.name.find("mla_kv_up"), std::string::npos) << op.name;
    EXPECT_EQ(op.name.find("attn_prefill"), std::string::npos) << op.name;
    decode_attention |= op.name == "mla_decode";
  }
  EXPECT_TRUE(decode_attention);
}

// The simulator credits E = 1 + a_1 + a_1 a_2 + a_1 a_2 a_3 tokens per
// step: a lone request's steps come out E times its time per token.
TEST(MtpSimulationTest, TokensPerStepFollowTheAcceptance) {
  const struct {
    std::string acceptance;
    double tokens_per_step;
  } cases[] = {
      {"acceptance_rate: 0.85", 1 + 0.85 + 0.7225 + 0.614125},
      {"acceptance_by_position: [0.9, 0.6, 0.3]", 1 + 0.9 + 0.54 + 0.162},
  };
  for (const auto& c : cases) {
    const v1::Cluster cluster =
        H200Tp8("multi_token_prediction: true draft_tokens: 3 " + c.acceptance);
    const double tpot = MeanTpot(cluster);
    ASSERT_GT(tpot, 0);
    // The last step is cut at the request's end, the context grows: 2 %.
    EXPECT_NEAR(StepSeconds(cluster) / tpot, c.tokens_per_step,
                0.02 * c.tokens_per_step)
        << c.acceptance;
  }
}

// A lone request at DeepSeek's second-token acceptance (85-90 %, arXiv:
// 2412.19437 §5.4.3) with one module and one draft token: the replayed
// speed-up is E times a plain step over an MTP step, and a real gain.
TEST(MtpSimulationTest, LoneRequestSpeedUpComesFromTheStepCost) {
  const v1::Cluster plain = H200Tp8("");
  const v1::Cluster mtp = H200Tp8(
      "multi_token_prediction: true draft_tokens: 1 acceptance_rate: 0.85");
  const double measured = MeanTpot(plain) / MeanTpot(mtp);
  const double expected = 1.85 * StepSeconds(plain) / StepSeconds(mtp);
  EXPECT_NEAR(measured, expected, 0.02 * expected);
  EXPECT_GT(measured, 1.3);
  EXPECT_LT(measured, 1.85);
}

// An expert-parallel instance over two machines refuses MTP as it refuses
// any speculative decoding: its cross-machine all-to-all is sized for one
// token a decode.
TEST(MtpSimulationTest, AnInstanceAcrossMachinesRefusesIt) {
  v1::Cluster cluster = H200Tp8(
      "multi_token_prediction: true draft_tokens: 1 acceptance_rate: 0.85");
  cluster.mutable_pools(0)->set_machines(2);
  cluster.mutable_pools(0)->set_tp(1);
  cluster.mutable_pools(0)->set_ep(16);
  auto inputs = Load(cluster);
  EXPECT_EQ(inputs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inputs.status().message(),
              HasSubstr("an instance spanning machines does not decode "
                        "speculatively"));
}

}  // namespace
}  // namespace fleetsim::sim
