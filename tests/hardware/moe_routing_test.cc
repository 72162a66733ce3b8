// Tests for hardware/moe_routing.h (the most loaded rank's share of an MoE
// layer's routed pairs: a measured fused-MoE row's, and the simulator's
// curve of it by batch size).

#include "hardware/moe_routing.h"

#include <algorithm>
#include <cstdint>

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

// The simulator's curve reads the generator's expectation at its points and
// lies between neighbours elsewhere; one rank (no expert parallelism) holds
// every pair, so only the experts touched follow the power law.
// At a decode step's size (256 tokens, 2,048 pairs over 256 experts) the
// rank with the most pairs owes them to a few hot experts; another rank
// touches more experts with fewer pairs. With a prompt's pairs every rank
// touches all its experts, and the two coincide in experts.
TEST(MoeRoutingTest, TheRankWithTheMostExpertsIsAlsoACandidate) {
  const RankLoads decode = PowerLawRankLoads(256, 256, 8, 8, 1.2);
  EXPECT_EQ(decode.most_pairs.pairs,
            PowerLawRankLoad(256, 256, 8, 8, 1.2).pairs);
  EXPECT_GT(decode.most_pairs.pairs, decode.most_experts.pairs);
  EXPECT_GT(decode.most_experts.experts, decode.most_pairs.experts + 1);
  EXPECT_LE(decode.most_experts.experts, 32);
  const RankLoads prompt = PowerLawRankLoads(8192, 256, 8, 8, 1.2);
  EXPECT_GE(prompt.most_pairs.pairs, prompt.most_experts.pairs);
  EXPECT_GE(prompt.most_experts.experts, prompt.most_pairs.experts);
  const RankLoads one_rank = PowerLawRankLoads(64, 16, 2, 1, 1.2);
  EXPECT_EQ(one_rank.most_pairs.pairs, one_rank.most_experts.pairs);
  EXPECT_EQ(one_rank.most_pairs.experts, one_rank.most_experts.experts);
}

TEST(MoeRoutingTest, RankLoadCurveTabulatesThePowerLaw) {
  const RankLoadCurve curve(256, 8, 8, 1.2);
  for (int64_t n : {1, 7, 16, 64, 4096}) {
    const RankLoad exact = PowerLawRankLoad(n, 256, 8, 8, 1.2);
    const RankLoads both = PowerLawRankLoads(n, 256, 8, 8, 1.2);
    const RankLoads at = curve.At(static_cast<double>(n));
    EXPECT_DOUBLE_EQ(at.most_pairs.pairs * static_cast<double>(n), exact.pairs)
        << n;
    EXPECT_DOUBLE_EQ(at.most_pairs.experts, exact.experts) << n;
    EXPECT_DOUBLE_EQ(at.most_experts.pairs * static_cast<double>(n),
                     both.most_experts.pairs)
        << n;
    EXPECT_DOUBLE_EQ(at.most_experts.experts, both.most_experts.experts) << n;
  }
  // 17 tokens sits between the points 16 and 19.
  const RankLoad lo = curve.At(16).most_pairs, hi = curve.At(19).most_pairs,
                 mid = curve.At(17).most_pairs;
  EXPECT_GE(mid.experts, std::min(lo.experts, hi.experts));
  EXPECT_LE(mid.experts, std::max(lo.experts, hi.experts));
  // Beyond 2^20 tokens: held at the last point.
  EXPECT_EQ(curve.At(1e7).most_pairs.pairs, curve.At(1 << 20).most_pairs.pairs);
  const RankLoadCurve one_rank(8, 2, 1, 1.01);
  for (double n : {1.0, 3.0, 100.0, 5000.0}) {
    EXPECT_DOUBLE_EQ(one_rank.At(n).most_pairs.pairs, 2) << n;
    EXPECT_DOUBLE_EQ(one_rank.At(n).most_experts.pairs, 2) << n;
  }
}

}  // namespace
}  // namespace fleetsim::hardware
