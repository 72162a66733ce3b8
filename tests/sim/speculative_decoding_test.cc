// The arithmetic of speculative decoding (sim/speculative_decoding.h), the
// cluster settings' checks, and the iteration time composed from the target
// and draft models (sim/speculative_latency.h).
#include "sim/speculative_decoding.h"

#include <cmath>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/model_footprint.h"
#include "sim/speculative_latency.h"
#include "tests/sim/sim_test_util.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

TEST(SpeculativeDecodingTest, ExpectedTokensFollowLeviathanEquationOne) {
  // (1 - alpha^(k+1)) / (1 - alpha): arXiv:2211.17192, equation (1).
  for (double alpha : {0.1, 0.5, 0.6, 0.8, 0.95}) {
    for (int k : {1, 2, 4, 7}) {
      EXPECT_NEAR(ExpectedTokensPerStep(std::vector<double>(k, alpha)),
                  (1 - std::pow(alpha, k + 1)) / (1 - alpha), 1e-12)
          << "alpha " << alpha << " k " << k;
    }
  }
  EXPECT_EQ(ExpectedTokensPerStep({1, 1, 1}), 4);  // every draft accepted
  EXPECT_EQ(ExpectedTokensPerStep({0, 0, 0}), 1);  // none: the target's own
}

TEST(SpeculativeDecodingTest, PerPositionCurveMultipliesThePrefix) {
  // Token 2 counts only when token 1 was accepted: 1 + 0.9 + 0.9 x 0.5.
  EXPECT_DOUBLE_EQ(ExpectedTokensPerStep({0.9, 0.5}), 2.35);
  EXPECT_DOUBLE_EQ(ExpectedTokensPerStep({0.9, 0.5, 0.0, 1.0}), 2.35);
}

TEST(SpeculativeDecodingTest, LeviathanSpeedupFormula) {
  // alpha 0.7, k 3, c 0.05: (1 - 0.7^4) / 0.3 / (1 + 0.15).
  EXPECT_NEAR(LeviathanSpeedup(0.7, 3, 0.05), 0.7599 / 0.3 / 1.15, 1e-12);
  // A free draft gains the expected tokens; a perfect one (k+1)/(ck+1).
  EXPECT_NEAR(LeviathanSpeedup(0.8, 4, 0), 3.3616, 1e-12);
  EXPECT_DOUBLE_EQ(LeviathanSpeedup(1.0, 4, 0.25), 2.5);
  // No acceptance: the draft steps are pure cost.
  EXPECT_DOUBLE_EQ(LeviathanSpeedup(0.0, 4, 0.25), 0.5);
}

TEST(SpeculativeDecodingTest, TokensAreCreditedAsTheFloorOfTheExpectation) {
  std::vector<int64_t> tokens;
  for (int64_t s = 0; s <= 4; ++s) tokens.push_back(TokensAfterSteps(2.5, s));
  EXPECT_EQ(tokens, (std::vector<int64_t>{0, 2, 5, 7, 10}));
  EXPECT_EQ(TokensAfterSteps(1.0, 12345), 12345);
  // Over many steps the credit tracks the mean within one token.
  EXPECT_NEAR(static_cast<double>(TokensAfterSteps(2.952, 100000)), 295200, 1);
}

TEST(SpeculativeDecodingTest, StepsToEmitIsTheFewestSteps) {
  for (double e : {1.0, 1.3, 2.5, 2.952, 3.99999, 5.0}) {
    for (int64_t done = 0; done < 40; ++done) {
      for (int64_t want = 1; want < 60; ++want) {
        int64_t steps = StepsToEmit(e, done, want);
        int64_t before = TokensAfterSteps(e, done);
        ASSERT_GE(steps, 1);
        EXPECT_GE(TokensAfterSteps(e, done + steps) - before, want)
            << e << " " << done << " " << want;
        if (steps > 1) {
          EXPECT_LT(TokensAfterSteps(e, done + steps - 1) - before, want)
              << e << " " << done << " " << want;
        }
      }
    }
  }
}

v1::Cluster WithSpeculation(const std::string& speculative) {
  v1::Cluster cluster;
  absl::Status status = ParseTextProto(
      "speculative_decoding { " + speculative + " }", "test.txtpb", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

v1::Model Llama32_1b() {
  v1::Model draft;
  absl::Status status = ReadTextProtoFile(
      std::string(FLEETSIM_SOURCE_DIR) + "/data/models/llama-3.2-1b.txtpb",
      &draft);
  EXPECT_TRUE(status.ok()) << status;
  return draft;
}

std::string ResolveError(const v1::Cluster& cluster,
                         const v1::Model& served = v1::Model()) {
  return std::string(ResolveSpeculativeDecoding(cluster, served, "c.txtpb")
                         .status()
                         .message());
}

TEST(SpeculativeDecodingTest, ResolvesAConstantAcceptanceRate) {
  v1::Cluster cluster = WithSpeculation("draft_tokens: 4 acceptance_rate: 0.8");
  *cluster.mutable_speculative_decoding()->mutable_draft() = Llama32_1b();
  auto spec = ResolveSpeculativeDecoding(cluster, v1::Model(), "c.txtpb");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->has_value());
  EXPECT_EQ((*spec)->draft.name(), "llama-3.2-1b");
  EXPECT_EQ((*spec)->draft_tokens, 4);
  EXPECT_EQ((*spec)->acceptance, std::vector<double>(4, 0.8));
  EXPECT_NEAR((*spec)->tokens_per_step, 3.3616, 1e-12);
  EXPECT_FALSE(
      ResolveSpeculativeDecoding(v1::Cluster(), v1::Model(), "c")->has_value());
}

TEST(SpeculativeDecodingTest, RefusesIncompleteSettings) {
  EXPECT_THAT(
      ResolveError(WithSpeculation("draft_tokens: 4 acceptance_rate: 0.8")),
      HasSubstr("c.txtpb: field 'speculative_decoding.draft_model': no draft "
                "model"));
  EXPECT_THAT(ResolveError(WithSpeculation(
                  "draft_model: \"llama-3.2-1b\" draft_tokens: 4 "
                  "acceptance_rate: 0.8")),
              HasSubstr("'llama-3.2-1b' was not looked up in the model "
                        "catalog"));
  auto with_draft = [](const std::string& text) {
    v1::Cluster cluster = WithSpeculation(text);
    *cluster.mutable_speculative_decoding()->mutable_draft() = Llama32_1b();
    return cluster;
  };
  EXPECT_THAT(ResolveError(with_draft("acceptance_rate: 0.8")),
              HasSubstr("field 'speculative_decoding.draft_tokens': must be "
                        "in [1, 64] (got 0)"));
  EXPECT_THAT(ResolveError(with_draft("draft_tokens: 3")),
              HasSubstr("field 'speculative_decoding.acceptance_rate': "
                        "unset"));
  EXPECT_THAT(
      ResolveError(
          with_draft("draft_tokens: 3 acceptance_by_position: [0.9, 0.8]")),
      HasSubstr("field 'speculative_decoding.acceptance_by_position': has 2 "
                "entries; it needs one per draft token (3)"));
  v1::Cluster broken = with_draft("draft_tokens: 3 acceptance_rate: 0.5");
  broken.mutable_speculative_decoding()->mutable_draft()->set_num_layers(0);
  EXPECT_THAT(ResolveError(broken),
              HasSubstr("c.txtpb: speculative_decoding.draft"));
}

v1::Model DeepSeekV3() {
  v1::Model model;
  absl::Status status = ReadTextProtoFile(
      std::string(FLEETSIM_SOURCE_DIR) + "/data/models/deepseek-v3.txtpb",
      &model);
  EXPECT_TRUE(status.ok()) << status;
  return model;
}

// Multi-token prediction drafts with the served model's own module (one
// MLA + MoE layer for DeepSeek-V3), reused for every draft token when k
// exceeds the modules; its weights are the module's own, its KV one layer
// per module.
TEST(SpeculativeDecodingTest, MultiTokenPredictionDraftsWithTheModelsModules) {
  const v1::Cluster cluster = WithSpeculation(
      "multi_token_prediction: true draft_tokens: 3 acceptance_rate: 0.85");
  auto spec = ResolveSpeculativeDecoding(cluster, DeepSeekV3(), "c.txtpb");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->has_value());
  const SpeculativeDecodingSpec& mtp = **spec;
  EXPECT_EQ(mtp.draft.name(), "deepseek-v3-mtp");
  EXPECT_EQ(mtp.draft.num_layers(), 1);
  EXPECT_EQ(mtp.mtp_modules, 1);
  EXPECT_EQ(mtp.draft_tokens, 3);
  EXPECT_NEAR(mtp.tokens_per_step, 1 + 0.85 + 0.7225 + 0.614125, 1e-12);
  // BF16: 11,610,065,920 parameters x 2 B (hardware/mtp_module.h); one
  // MLA layer's (512 + 64) x 2 B per token.
  EXPECT_DOUBLE_EQ(DraftWeightBytes(mtp, mtp.draft), 2 * 11610065920.0);
  EXPECT_EQ(DraftKvBytesPerToken(mtp, mtp.draft), 1152);
  // Two modules: twice the weights and KV, the same draft shape.
  v1::Model two = DeepSeekV3();
  two.mutable_mtp()->set_num_modules(2);
  auto spec2 = ResolveSpeculativeDecoding(cluster, two, "c.txtpb");
  ASSERT_TRUE(spec2.ok() && spec2->has_value());
  EXPECT_DOUBLE_EQ(DraftWeightBytes(**spec2, mtp.draft), 4 * 11610065920.0);
  EXPECT_EQ(DraftKvBytesPerToken(**spec2, mtp.draft), 2304);
  // A draft model's own footprint is unchanged.
  v1::Cluster drafted = WithSpeculation("draft_tokens: 2 acceptance_rate: 0.6");
  *drafted.mutable_speculative_decoding()->mutable_draft() = Llama32_1b();
  auto classic = ResolveSpeculativeDecoding(drafted, DeepSeekV3(), "c.txtpb");
  ASSERT_TRUE(classic.ok() && classic->has_value());
  EXPECT_EQ((*classic)->mtp_modules, 0);
  EXPECT_DOUBLE_EQ(DraftWeightBytes(**classic, Llama32_1b()),
                   hardware::WeightBytes(Llama32_1b()));
}

// (The line and column come with a cluster file: ReplayCommandTest.)
TEST(SpeculativeDecodingTest, MultiTokenPredictionErrorsNameTheField) {
  v1::Cluster cluster = WithSpeculation(
      "multi_token_prediction: true draft_tokens: 2 acceptance_rate: 0.8");
  // Llama-3.2-1B has no MTP modules.
  EXPECT_EQ(ResolveError(cluster, Llama32_1b()),
            "c.txtpb: field 'speculative_decoding.multi_token_prediction': "
            "'llama-3.2-1b' has no multi-token-prediction modules (its "
            "catalog entry's field 'mtp')");
  cluster.mutable_speculative_decoding()->set_draft_model("llama-3.2-1b");
  EXPECT_THAT(ResolveError(cluster, DeepSeekV3()),
              HasSubstr("field 'speculative_decoding.draft_model': "
                        "multi_token_prediction drafts with the served "
                        "model's own modules: give no draft model"));
}

TEST(SpeculativeDecodingTest, DraftModelComesFromTheCatalog) {
  workloads::ModelCatalog models;
  models.Add(Llama32_1b());
  v1::Cluster cluster = WithSpeculation(
      "draft_model: \"llama-3.2-1b\" draft_tokens: 2 acceptance_rate: 0.6");
  ASSERT_TRUE(ResolveDraftModel(models, "c.txtpb", &cluster).ok());
  EXPECT_EQ(cluster.speculative_decoding().draft().num_layers(), 16);
  EXPECT_TRUE(ResolveSpeculativeDecoding(cluster, v1::Model(), "c.txtpb").ok());

  v1::Cluster unknown =
      WithSpeculation("draft_model: \"tiny\" draft_tokens: 2");
  absl::Status status = ResolveDraftModel(models, "c.txtpb", &unknown);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(),
              HasSubstr("c.txtpb: field 'speculative_decoding.draft_model'"));
}

// Records every shape it is asked to time; a second of cost per call.
class ShapeLog final : public hardware::LatencyModel {
 public:
  explicit ShapeLog(std::vector<hardware::BatchShape>* log) : log_(log) {}
  double IterationSeconds(const hardware::BatchShape& b) const override {
    log_->push_back(b);
    return 1.0 + 1e-3 * static_cast<double>(b.total_tokens());
  }
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& b) const override {
    hardware::OperatorTime op;
    op.name = "all";
    op.seconds = IterationSeconds(b);
    return {op.seconds, {op}};
  }

 private:
  std::vector<hardware::BatchShape>* log_;
};

TEST(SpeculativeLatencyTest, VerifyIsAChunkPerSequenceAndDraftStepsAdvance) {
  std::vector<hardware::BatchShape> target_log, draft_log;
  SpeculativeLatency latency(std::make_unique<ShapeLog>(&target_log),
                             std::make_unique<ShapeLog>(&draft_log),
                             /*draft_tokens=*/3);
  hardware::BatchShape batch;
  batch.AddPrefillChunk(500, 0);
  batch.AddDecode(100);
  batch.AddDecode(200);
  double seconds = latency.IterationSeconds(batch);

  // The target: the prompt chunk and one 4-token chunk per sequence.
  hardware::BatchShape verify;
  verify.AddPrefillChunk(500, 0);
  verify.AddPrefillChunk(4, 100);
  verify.AddPrefillChunk(4, 200);
  ASSERT_EQ(target_log.size(), 1u);
  EXPECT_EQ(target_log[0].prefill_requests, verify.prefill_requests);
  EXPECT_EQ(target_log[0].prefill_tokens, verify.prefill_tokens);
  EXPECT_DOUBLE_EQ(target_log[0].prefill_attention_pairs,
                   verify.prefill_attention_pairs);
  EXPECT_EQ(target_log[0].prefill_context_tokens,
            verify.prefill_context_tokens);
  EXPECT_EQ(target_log[0].decode_requests, 0);
  // Each 4-token chunk is scored at all 4 positions: 3 rows beyond one.
  EXPECT_EQ(target_log[0].extra_logit_rows, 2 * 3);

  // The draft: its prefill with the first step, then two more steps.
  ASSERT_EQ(draft_log.size(), 3u);
  EXPECT_EQ(draft_log[0].prefill_tokens, 500);
  for (int step = 0; step < 3; ++step) {
    EXPECT_EQ(draft_log[step].decode_requests, 2);
    EXPECT_EQ(draft_log[step].decode_context_tokens, 302 + 2 * step) << step;
  }
  EXPECT_EQ(draft_log[1].prefill_tokens, 0);
  // 1 + (500 + 8) ms for the target; 1.502 + 1.002 + 1.002 for the draft.
  EXPECT_NEAR(seconds, 1.508 + 1.502 + 2 * 1.002, 1e-12);
  EXPECT_NEAR(latency.Explain(batch).seconds, seconds, 1e-12);
}

// A draft on the target's hidden states (MTP): its first pass runs the
// verify's tokens (the prompt chunk and 4 tokens per sequence, one logits
// row each), then k - 1 = 2 one-token steps.
TEST(SpeculativeLatencyTest, AnMtpDraftFirstRunsTheVerifyTokens) {
  std::vector<hardware::BatchShape> target_log, draft_log;
  SpeculativeLatency latency(std::make_unique<ShapeLog>(&target_log),
                             std::make_unique<ShapeLog>(&draft_log),
                             /*draft_tokens=*/3,
                             SpeculativeLatency::FirstDraftPass::kVerifyTokens);
  hardware::BatchShape batch;
  batch.AddPrefillChunk(500, 0);
  batch.AddDecode(100);
  batch.AddDecode(200);
  const double seconds = latency.IterationSeconds(batch);
  ASSERT_EQ(target_log.size(), 1u);
  ASSERT_EQ(draft_log.size(), 3u);
  EXPECT_EQ(draft_log[0].prefill_requests, 3);
  EXPECT_EQ(draft_log[0].prefill_tokens, 508);
  EXPECT_DOUBLE_EQ(draft_log[0].prefill_attention_pairs,
                   target_log[0].prefill_attention_pairs);
  EXPECT_EQ(draft_log[0].decode_requests, 0);
  EXPECT_EQ(draft_log[0].extra_logit_rows, 0);
  for (int step = 1; step < 3; ++step) {
    EXPECT_EQ(draft_log[step].prefill_tokens, 0);
    EXPECT_EQ(draft_log[step].decode_requests, 2);
    EXPECT_EQ(draft_log[step].decode_context_tokens, 302 + 2 * step) << step;
  }
  // 1.508 s for the target, 1.508 + 2 x 1.002 s for the module.
  EXPECT_NEAR(seconds, 1.508 + 1.508 + 2 * 1.002, 1e-12);
  EXPECT_NEAR(latency.Explain(batch).seconds, seconds, 1e-12);
}

// MLA's verify in the absorbed decode form: k + 1 = 4 decode queries a
// sequence, at contexts 101..104 and 201..204 (1,220 keys), each scored;
// an MTP draft's first pass runs the same queries.
TEST(SpeculativeLatencyTest, AnMlaVerifyIsDecodeQueries) {
  std::vector<hardware::BatchShape> target_log, draft_log;
  using Latency = SpeculativeLatency;
  Latency latency(std::make_unique<ShapeLog>(&target_log),
                  std::make_unique<ShapeLog>(&draft_log), /*draft_tokens=*/3,
                  Latency::FirstDraftPass::kVerifyTokens,
                  Latency::VerifyForm::kDecodeQueries);
  hardware::BatchShape batch;
  batch.AddPrefillChunk(500, 0);
  batch.AddDecode(100);
  batch.AddDecode(200);
  const double seconds = latency.IterationSeconds(batch);
  ASSERT_EQ(target_log.size(), 1u);
  EXPECT_EQ(target_log[0].prefill_tokens, 500);
  EXPECT_EQ(target_log[0].prefill_requests, 1);
  EXPECT_EQ(target_log[0].decode_requests, 8);
  EXPECT_EQ(target_log[0].decode_context_tokens, 410 + 810);
  EXPECT_EQ(target_log[0].extra_logit_rows, 0);
  ASSERT_EQ(draft_log.size(), 3u);
  EXPECT_EQ(draft_log[0].decode_requests, 8);
  EXPECT_EQ(draft_log[0].decode_context_tokens, 1220);
  EXPECT_EQ(draft_log[1].decode_requests, 2);
  // 1.508 s for the target and the module's first pass, 2 x 1.002 s.
  EXPECT_NEAR(seconds, 2 * 1.508 + 2 * 1.002, 1e-12);
}

TEST(SpeculativeLatencyTest, APrefillOnlyIterationRunsTheDraftPrefillOnce) {
  std::vector<hardware::BatchShape> target_log, draft_log;
  SpeculativeLatency latency(std::make_unique<ShapeLog>(&target_log),
                             std::make_unique<ShapeLog>(&draft_log), 5);
  hardware::BatchShape batch;
  batch.AddPrefillChunk(1000, 0);
  latency.IterationSeconds(batch);
  ASSERT_EQ(target_log.size(), 1u);
  EXPECT_EQ(target_log[0].prefill_tokens, 1000);
  ASSERT_EQ(draft_log.size(), 1u);
  EXPECT_EQ(draft_log[0].prefill_tokens, 1000);
  hardware::IterationBreakdown explained = latency.Explain(batch);
  ASSERT_EQ(explained.ops.size(), 2u);
  EXPECT_EQ(explained.ops[0].name, "all");
  EXPECT_EQ(explained.ops[1].name, "draft_all");
}

}  // namespace
}  // namespace fleetsim::sim
