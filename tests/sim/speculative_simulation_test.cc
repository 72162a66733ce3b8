// Speculative decoding end to end: a cluster naming a catalog draft model is
// loaded, sized and replayed, and the replay reproduces Leviathan et al.'s
// speed-up on a lone request (arXiv:2211.17192, Theorem 3.8, with c taken
// from fleetsim's own cost model) and its fading as the batch grows.
// Every simulation runs in a child process (one SimGrid engine each).

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/model_footprint.h"
#include "sim/isolated_run.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
#include "sim/speculative_decoding.h"
#include "tests/sim/sim_test_util.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

constexpr int kDraftTokens = 4;
constexpr double kAcceptance = 0.8;
constexpr int kPrompt = 512;
constexpr int kOutput = 257;  // 256 decoded tokens after the first

using testutil::ShippedCatalogs;

// One H100 serving Llama-3-8B, with Llama-3.2-1B drafting when `speculate`.
v1::Cluster OneH100(bool speculate) {
  const std::string text = testutil::OneH100ClusterText(
      speculate ? R"pb(speculative_decoding {
                         draft_model: "llama-3.2-1b"
                         draft_tokens: 4
                         acceptance_rate: 0.8
                       })pb"
                : "");
  v1::Cluster cluster;
  absl::Status status = ParseTextProto(text, "test", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

// `requests` requests of kPrompt + kOutput tokens, all arriving at once.
v1::Workload Burst(int requests) {
  return testutil::BurstWorkload("burst", requests, kPrompt, kOutput, 0.5);
}

absl::StatusOr<SimulationInputs> Load(const v1::Cluster& cluster,
                                      const v1::Workload& workload) {
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  request.cluster = cluster;
  request.model = "llama-3-8b";
  request.workload = workload;
  return LoadScenario(request);
}

// Mean time per output token after the first.
double MeanTpot(bool speculate, int requests) {
  absl::StatusOr<SimulationInputs> inputs =
      Load(OneH100(speculate), Burst(requests));
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  if (!inputs.ok()) return 0;
  absl::StatusOr<v1::SimulationResult> result = RunSimulationInChild(*inputs);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return 0;
  EXPECT_EQ(result->completed(), requests);
  EXPECT_EQ(result->preemptions(), 0);
  return result->tpot_s().mean();
}

TEST(SpeculativeSimulationTest, TheDraftSharesTheInstanceMemory) {
  auto plain = Load(OneH100(false), Burst(1));
  auto speculative = Load(OneH100(true), Burst(1));
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(speculative.ok()) << speculative.status();
  const PoolSpec& p = plain->fleet.pools[0];
  const PoolSpec& s = speculative->fleet.pools[0];
  const v1::Model& draft = **ShippedCatalogs()->models().Find("llama-3.2-1b");
  EXPECT_DOUBLE_EQ(s.weight_bytes_per_instance - p.weight_bytes_per_instance,
                   hardware::WeightBytes(draft));
  EXPECT_EQ(s.kv_bytes_per_token - p.kv_bytes_per_token,
            hardware::KvBytesPerToken(draft));
  EXPECT_LT(s.kv_capacity_blocks, p.kv_capacity_blocks);
  EXPECT_EQ(s.draft_tokens, kDraftTokens);
  EXPECT_NEAR(s.tokens_per_step, 3.3616, 1e-12);  // 1 + .8 + .64 + .512 + .4096
  EXPECT_EQ(p.draft_tokens, 0);
}

TEST(SpeculativeSimulationTest, TheVerifyLogitsCountInTheActivationReserve) {
  // A longer draft scores more positions per sequence in the verify: k + 1
  // fp32 logits rows of the full vocabulary for every request of a batch.
  v1::Cluster one_token = OneH100(true);
  one_token.mutable_speculative_decoding()->set_draft_tokens(1);
  v1::Cluster eight_tokens = OneH100(true);
  eight_tokens.mutable_speculative_decoding()->set_draft_tokens(8);
  auto one = Load(one_token, Burst(1));
  auto eight = Load(eight_tokens, Burst(1));
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(eight.ok()) << eight.status();
  const PoolSpec& a = one->fleet.pools[0];
  const PoolSpec& b = eight->fleet.pools[0];
  const v1::Model& target = **ShippedCatalogs()->models().Find("llama-3-8b");
  const double extra_bytes =
      static_cast<double>(a.max_batch_size) * 7 * target.vocab_size() * 4.0;
  const double block_bytes =
      static_cast<double>(a.kv_bytes_per_token) * a.kv_block_tokens;
  EXPECT_NEAR(static_cast<double>(a.kv_capacity_blocks - b.kv_capacity_blocks),
              extra_bytes / block_bytes, 1.0);
}

TEST(SpeculativeSimulationTest, TheDraftsOwnPrecisionIsCheckedAgainstTheChip) {
  v1::Cluster cluster = OneH100(true);
  cluster.mutable_pools(0)->mutable_machine()->set_chip("a100");
  v1::SpeculativeDecoding* speculative = cluster.mutable_speculative_decoding();
  speculative->clear_draft_model();
  *speculative->mutable_draft() =
      **ShippedCatalogs()->models().Find("llama-3.2-1b");
  speculative->mutable_draft()->set_dtype(v1::DTYPE_FP8);
  absl::StatusOr<SimulationInputs> inputs = Load(cluster, Burst(1));
  EXPECT_EQ(inputs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inputs.status().message(),
              HasSubstr("speculative decoding's draft 'llama-3.2-1b': the "
                        "model's field 'dtype': FP8 weights, but chip 'a100' "
                        "has no FP8 tensor peak"));
}

TEST(SpeculativeSimulationTest, RefusedClustersAreNamed) {
  v1::Cluster disaggregated = OneH100(true);
  disaggregated.mutable_pools(0)->set_role(v1::POOL_ROLE_PREFILL);
  *disaggregated.add_pools() = disaggregated.pools(0);
  disaggregated.mutable_pools(1)->set_role(v1::POOL_ROLE_DECODE);
  disaggregated.mutable_pools(1)->set_name("decode");
  v1::Cluster unknown_draft = OneH100(true);
  unknown_draft.mutable_speculative_decoding()->set_draft_model("tiny");
  const struct {
    v1::Cluster cluster;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {disaggregated, absl::StatusCode::kUnimplemented,
       "field 'speculative_decoding': simulated on colocated pools"},
      {unknown_draft, absl::StatusCode::kNotFound,
       "field 'speculative_decoding.draft_model': unknown name 'tiny'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SimulationInputs> inputs = Load(c.cluster, Burst(1));
    EXPECT_EQ(inputs.status().code(), c.code) << c.message;
    EXPECT_THAT(inputs.status().message(), HasSubstr(c.message));
  }
}

TEST(SpeculativeSimulationTest, LoneRequestReproducesLeviathanSpeedup) {
  const double plain_tpot = MeanTpot(false, 1);
  const double speculative_tpot = MeanTpot(true, 1);
  ASSERT_GT(speculative_tpot, 0);
  const double measured = plain_tpot / speculative_tpot;

  // c, and the verify step's cost v, from the cost model the replay used,
  // at the request's mean context.
  auto inputs = Load(OneH100(true), Burst(1));
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  const FleetSpec& fleet = inputs->fleet;
  auto target = CreateLatencyModel(fleet, fleet.pools[0].chip, 1, 1);
  FleetSpec draft_fleet = fleet;
  draft_fleet.model = fleet.speculative->draft;
  auto draft = CreateLatencyModel(draft_fleet, fleet.pools[0].chip, 1, 1);
  ASSERT_TRUE(target.ok() && draft.ok());
  const int64_t context = kPrompt + kOutput / 2;
  hardware::BatchShape decode, verify;
  decode.AddDecode(context);
  verify.AddPrefillChunk(kDraftTokens + 1, context);
  const double target_s = (*target)->IterationSeconds(decode);
  const double c = (*draft)->IterationSeconds(decode) / target_s;
  const double v = (*target)->IterationSeconds(verify) / target_s;
  const double e = fleet.pools[0].tokens_per_step;

  // Theorem 3.8 prices the verify as one target step (v = 1); the replay
  // pays v, and its last step is cut at the request's end.
  const double leviathan = LeviathanSpeedup(kAcceptance, kDraftTokens, c);
  EXPECT_NEAR(measured, e / (c * kDraftTokens + v), 0.02 * measured)
      << "c " << c << " v " << v;
  EXPECT_LE(measured, leviathan);
  EXPECT_GT(measured, 0.85 * leviathan) << "c " << c << " v " << v;
  EXPECT_GT(measured, 1.2);  // a real gain on a lone request
}

TEST(SpeculativeSimulationTest, GainFadesAsTheBatchGrows) {
  double lone = MeanTpot(false, 1) / MeanTpot(true, 1);
  double batch32 = MeanTpot(false, 32) / MeanTpot(true, 32);
  double batch128 = MeanTpot(false, 128) / MeanTpot(true, 128);
  EXPECT_LT(batch32, lone);
  EXPECT_LT(batch128, batch32);
}

}  // namespace
}  // namespace fleetsim::sim
