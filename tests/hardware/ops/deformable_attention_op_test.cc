// Tests for hardware/ops/deformable_attention_op.h: MSDA's sampler counts
// by hand (Deformable DETR's C = 256, M = 8, L = 4, K = 4) and its bytes
// under a cache-hit fraction.
#include "hardware/ops/deformable_attention_op.h"

#include "gtest/gtest.h"

namespace fleetsim::hardware {
namespace {

MsdaShape DeformableDetrShape(double hit) {
  MsdaShape s;
  s.d_model = 256;
  s.heads = 8;
  s.levels = 4;
  s.points = 4;
  s.cache_hit_fraction = hit;
  return s;
}

TEST(DeformableAttentionOpTest, CountsPerQueryByHand) {
  const MsdaCounts n = MsdaPerQuery(DeformableDetrShape(0.5));
  EXPECT_EQ(n.sampled_points, 128);  // 8 heads x 4 levels x 4 points
  // 4 neighbours x 128 points x 32 channels a head.
  EXPECT_EQ(n.gathered_elements, 16384);
  EXPECT_EQ(n.gathered_bytes, 32768);  // bf16
  // 5 multiply-adds per channel and point: 2 x 5 x 16 x 256.
  EXPECT_EQ(n.flops, 40960);
  // Offsets and weights (3 x 128) read, 256 outputs written, bf16.
  EXPECT_EQ(n.io_bytes, 1280);
}

TEST(DeformableAttentionOpTest, MissesFollowTheHitFraction) {
  const OpCost half = MsdaSamplingCost(DeformableDetrShape(0.5), kTokens, 0,
                                       v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_EQ(half.bytes[kTokens], 16384 + 1280);
  EXPECT_EQ(half.vector_flops[kTokens], 40960);
  EXPECT_EQ(half.flops[kTokens], 0);  // no tensor-core work
  EXPECT_EQ(half.op_class, v1::OPERATOR_CLASS_ATTENTION_DECODE);
  const OpCost local = MsdaSamplingCost(DeformableDetrShape(0.9), kTokens, 0,
                                        v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_NEAR(local.bytes[kTokens], 0.1 * 32768 + 1280, 1e-9);
  // Arithmetic intensity stays a few FLOPs per byte even at 90 % hits.
  EXPECT_LT(local.vector_flops[kTokens] / local.bytes[kTokens], 10);
}

// The encoder's queries read their own value map: never fewer misses than
// one value row (256 x 2 B) per query.
TEST(DeformableAttentionOpTest, MissesNeverBelowTheValueMapOnce) {
  const OpCost all_hits =
      MsdaSamplingCost(DeformableDetrShape(0.999), kPrefillTokens, 512,
                       v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_EQ(all_hits.bytes[kPrefillTokens], 512 + 1280);
  EXPECT_EQ(all_hits.gate, kPrefillTokens);
  EXPECT_EQ(all_hits.rows, kPrefillTokens);
}

}  // namespace
}  // namespace fleetsim::hardware
