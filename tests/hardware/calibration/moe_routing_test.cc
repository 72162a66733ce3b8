// Tests for hardware/calibration/moe_routing.h (the measured rank's share of
// a fused-MoE row's routed pairs).

#include "hardware/calibration/moe_routing.h"

#include "gtest/gtest.h"

namespace fleetsim::hardware {
namespace {

TEST(MoeRoutingTest, BalancedSpreadsPairsEvenly) {
  // 64 tokens x top-8 over 8 ranks of 32 experts: 64 pairs, 32 experts.
  RankLoad r = BalancedRankLoad(64, 256, 8, 8);
  EXPECT_DOUBLE_EQ(r.pairs, 64);
  EXPECT_DOUBLE_EQ(r.experts, 32);
  // 2 tokens: 16 pairs over 8 ranks, 2 per rank on 2 experts.
  r = BalancedRankLoad(2, 256, 8, 8);
  EXPECT_DOUBLE_EQ(r.pairs, 2);
  EXPECT_DOUBLE_EQ(r.experts, 2);
  // Fewer pairs than ranks: at least one pair is timed.
  r = BalancedRankLoad(1, 256, 8, 64);
  EXPECT_DOUBLE_EQ(r.pairs, 1);
  EXPECT_DOUBLE_EQ(r.experts, 1);
}

// On one rank every pair is the rank's; with ranks the most loaded one
// holds more than its even share, more so the more ranks (a power law puts
// most pairs on a few experts) and the heavier the tail (smaller alpha
// flattens it: alpha 1.2 concentrates more than 1.01 over [1, 0.8 N]).
TEST(MoeRoutingTest, PowerLawTimesTheMostLoadedRank) {
  const RankLoad one = PowerLawRankLoad(4096, 256, 8, 1, 1.2);
  EXPECT_DOUBLE_EQ(one.pairs, 4096.0 * 8);
  EXPECT_LE(one.experts, 256);
  EXPECT_GT(one.experts, 200);
  const double even8 = 4096.0 * 8 / 8;
  const RankLoad r8 = PowerLawRankLoad(4096, 256, 8, 8, 1.2);
  const RankLoad r64 = PowerLawRankLoad(4096, 256, 8, 64, 1.2);
  EXPECT_GT(r8.pairs, 1.2 * even8);
  EXPECT_LT(r8.pairs, 4096.0 * 8);
  EXPECT_GT(r64.pairs / (4096.0 * 8 / 64), r8.pairs / even8);
  EXPECT_LE(r8.experts, 32);
  // Deterministic: a fixed seed.
  const RankLoad again = PowerLawRankLoad(4096, 256, 8, 8, 1.2);
  EXPECT_EQ(again.pairs, r8.pairs);
  EXPECT_EQ(again.experts, r8.experts);
  // Few tokens (N k <= E): loads drawn on [0.01, 2], the remainder goes to
  // the largest; still at least one pair.
  const RankLoad tiny = PowerLawRankLoad(1, 256, 8, 8, 1.01);
  EXPECT_GE(tiny.pairs, 1);
  EXPECT_LE(tiny.pairs, 8);
}

}  // namespace
}  // namespace fleetsim::hardware
