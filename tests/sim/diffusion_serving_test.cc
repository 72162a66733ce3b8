// The arithmetic of a diffusion LM request's passes
// (sim/diffusion_serving.h), worked by hand.
#include "sim/diffusion_serving.h"

#include "gtest/gtest.h"
#include "hardware/latency_model.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

// A 64-token canvas in blocks of 32, 4 tokens per step (8 steps a block).
DiffusionServingSpec Spec(v1::DiffusionCache cache) {
  return testutil::TestDiffusionSpec(cache, /*tokens_per_step=*/4);
}

TEST(DiffusionServingTest, VanillaRecomputesTheWholeSequenceEveryStep) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_NONE);
  EXPECT_EQ(spec.PassesPerBlock(), 8);
  EXPECT_EQ(spec.TotalPasses(64), 16);
  for (int64_t i : {0, 1, 7, 8, 15}) {
    DiffusionPass pass = spec.Pass(i, 100, 64);
    EXPECT_EQ(pass.query_tokens, 164) << i;
    EXPECT_EQ(pass.sequence_tokens, 164) << i;
  }
  EXPECT_EQ(spec.HeldTokens(100), 0);  // no KV kept between passes
  spec.tokens_per_step = 1;            // LLaDA's steps = gen_length
  EXPECT_EQ(spec.TotalPasses(64), 64);
}

TEST(DiffusionServingTest, DualCacheRefreshesAtEachBlockThenComputesTheBlock) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_DUAL);
  EXPECT_EQ(spec.PassesPerBlock(), 8);
  EXPECT_EQ(spec.Pass(0, 100, 64).query_tokens, 164);  // refresh
  EXPECT_EQ(spec.Pass(1, 100, 64).query_tokens, 32);
  EXPECT_EQ(spec.Pass(1, 100, 64).sequence_tokens, 164);
  EXPECT_EQ(spec.Pass(8, 100, 64).query_tokens, 164);  // block 2's refresh
  EXPECT_EQ(spec.Pass(9, 100, 64).query_tokens, 32);
  EXPECT_EQ(spec.HeldTokens(100), 164);
}

TEST(DiffusionServingTest, PrefixCacheComputesTheBlockAndTheMaskedSuffix) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_PREFIX);
  EXPECT_EQ(spec.Pass(1, 100, 64).query_tokens, 64);  // blocks 1 and 2
  EXPECT_EQ(spec.Pass(9, 100, 64).query_tokens, 32);  // block 2 only
}

TEST(DiffusionServingTest, JumpShareScoresCopiesAndSkipsSteps) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_DUAL);
  spec.speculative_copies = 3;
  spec.steps_per_pass = 2;
  // The refresh does one step; the other 7 at 2 a pass: 4 passes.
  EXPECT_EQ(spec.PassesPerBlock(), 5);
  EXPECT_EQ(spec.Pass(1, 100, 64).query_tokens, 4 * 32);
  EXPECT_EQ(spec.Pass(0, 100, 64).query_tokens, 164);
}

TEST(DiffusionServingTest, AdaptiveLengthShrinksTheCanvasAfterTheFirstPass) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_DUAL);
  spec.canvas_tokens = 256;
  spec.adaptive_length = true;
  // A 40-token answer: two blocks of 32.
  EXPECT_EQ(spec.FinalCanvasTokens(40), 64);
  EXPECT_EQ(spec.TotalPasses(40), 16);
  EXPECT_EQ(spec.Pass(0, 100, 40).sequence_tokens, 356);  // sees all of L
  EXPECT_EQ(spec.Pass(8, 100, 40).sequence_tokens, 164);
  EXPECT_EQ(spec.Pass(8, 100, 40).query_tokens, 164);
  EXPECT_EQ(spec.FinalCanvasTokens(1000), 256);  // never above L
  // The K/V held: the whole canvas through the first pass, then the
  // answer's two blocks.
  EXPECT_EQ(spec.HeldTokens(100), 356);
  EXPECT_EQ(spec.HeldTokensAfterFirstPass(100, 40), 164);
  spec.adaptive_length = false;
  EXPECT_EQ(spec.TotalPasses(40), 64);
  EXPECT_EQ(spec.HeldTokensAfterFirstPass(100, 40), 356);
}

TEST(DiffusionServingTest, TokensStreamBlockByBlockAndEndWithTheLastPass) {
  DiffusionServingSpec spec = Spec(v1::DIFFUSION_CACHE_DUAL);
  EXPECT_EQ(spec.TokensAfterPasses(7, 64), 0);
  EXPECT_EQ(spec.TokensAfterPasses(8, 64), 32);
  EXPECT_EQ(spec.TokensAfterPasses(15, 64), 32);
  EXPECT_EQ(spec.TokensAfterPasses(16, 64), 64);
  // A 20-token answer on the 64-token canvas is done only after the
  // canvas: one token is held back until the last pass.
  EXPECT_EQ(spec.TokensAfterPasses(8, 20), 19);
  EXPECT_EQ(spec.TokensAfterPasses(16, 20), 20);
}

TEST(DiffusionServingTest, ABidirectionalPassCountsEveryQueryKeyPair) {
  hardware::BatchShape bidirectional;
  bidirectional.AddBidirectionalPass(32, 164);
  EXPECT_DOUBLE_EQ(bidirectional.prefill_attention_pairs, 32.0 * 164);
  EXPECT_EQ(bidirectional.prefill_context_tokens, 164);
  EXPECT_EQ(bidirectional.extra_logit_rows, 31);  // a logit row per token
  // The same chunk read causally sees fewer keys.
  hardware::BatchShape causal;
  causal.AddPrefillChunk(32, 132);
  EXPECT_LT(causal.prefill_attention_pairs,
            bidirectional.prefill_attention_pairs);
}

}  // namespace
}  // namespace fleetsim::sim
