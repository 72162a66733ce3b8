// Tests for the MoE placements of hardware/operator_model.h: whole experts
// on ep ranks (ep = tp: the TP group; ep > tp: data-parallel attention
// groups with the dispatch and combine all-to-all), balanced and power-law
// routing (hardware/moe_routing.h), and what is refused.
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/moe_routing.h"
#include "hardware/operator_model.h"
#include "tests/hardware/cost_model_fixtures.h"
#include "tests/hardware/operator_model_test_util.h"

namespace fleetsim::hardware {
namespace {

using fleetsim::testutil::DeepSeekV3;
using fleetsim::testutil::H100;
using fleetsim::testutil::Llama2_70b;

// Expert parallelism with balanced routing: each of 8 chips holds 32 whole
// experts and computes 1 / 8 of the pairs; in expectation that is the same
// FLOPs and weight bytes as a 1 / 8 slice of every expert, but a chip reads
// and writes the hidden states (2 d per pair) and permutes (local pair
// bytes) of its own pairs only.
TEST(OperatorModelTest, ExpertParallelBalancedMatchesTensorParallelExperts) {
  OperatorModelOptions ep;
  ep.expert_parallel = 8;  // = tp: one attention group
  auto tp_experts = Make(DeepSeekV3(), H100(), 8);
  auto ep_experts = Make(DeepSeekV3(), H100(), 8, 1, ep);
  const ClassEfficiency moe =
      OperatorModelOptions::DefaultOperatorEfficiencies()[static_cast<int>(
          NamedOperator::kMoe)];
  const double d = 7168, k = 8, layers = 58;
  for (const BatchShape& batch : {Decode(4, 100), Prefill(4096)}) {
    const IterationBreakdown tb = tp_experts->Explain(batch);
    const IterationBreakdown eb = ep_experts->Explain(batch);
    const OperatorTime* a = FindOp(tb, "moe_experts");
    const OperatorTime* b = FindOp(eb, "moe_experts");
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NEAR(b->flops / a->flops, 1, 1e-12);
    const double tokens = static_cast<double>(batch.total_tokens());
    const double saved = layers * tokens * k * (1 - 1.0 / 8) *
                         (2 * 2 * d + d * moe.local_pair_bytes);
    EXPECT_NEAR((a->bytes - b->bytes) / saved, 1, 1e-9);
    // Every chip holds every token: the TP all-reduce combines, no
    // all-to-all.
    EXPECT_EQ(FindOp(eb, "ep_dispatch"), nullptr);
    EXPECT_EQ(FindOp(eb, "ep_combine"), nullptr);
    EXPECT_NE(FindOp(eb, "allreduce"), nullptr);
  }
  // Whole experts split over the chips, not their width.
  v1::Model uneven = DeepSeekV3();
  uneven.mutable_moe()->set_num_experts(252);
  EXPECT_FALSE(OperatorModel::Create(uneven, H100(), 8, 1, ep).ok());
  ep.expert_parallel = 4;
  EXPECT_TRUE(OperatorModel::Create(uneven, H100(), 4, 1, ep).ok());
}

// Power-law routing (moe_routing.h): under expert parallelism the layer
// waits for the most loaded chip, whose pairs the generator's expectation
// gives; without it every chip computes every pair and only the experts a
// batch touches change.
TEST(OperatorModelTest, PowerLawRoutingTimesTheMostLoadedChip) {
  OperatorModelOptions balanced_ep, power_ep, power_tp;
  balanced_ep.expert_parallel = 8;
  power_ep = balanced_ep;
  power_ep.moe_routing_alpha = 1.2;
  power_tp.moe_routing_alpha = 1.2;
  const BatchShape big = Prefill(4096);
  const OperatorTime b =
      *FindOp(Make(DeepSeekV3(), H100(), 8, 1, balanced_ep)->Explain(big),
              "moe_experts");
  const OperatorTime p = *FindOp(
      Make(DeepSeekV3(), H100(), 8, 1, power_ep)->Explain(big), "moe_experts");
  const double even = 4096.0 * 8 / 8;
  const double hot = PowerLawRankLoad(4096, 256, 8, 8, 1.2).pairs;
  EXPECT_GT(hot, 1.2 * even);
  // The hottest chip sets the time; the FLOPs reported are the chips' mean,
  // so a sum over the tp chips (MFU, operator totals) counts the layer once.
  EXPECT_NEAR(p.flops, b.flops, 1e-9 * b.flops);
  EXPECT_GT(p.seconds, 1.1 * b.seconds);

  const BatchShape small = Decode(4, 100);
  const OperatorTime t =
      *FindOp(Make(DeepSeekV3(), H100(), 8)->Explain(small), "moe_experts");
  const OperatorTime q =
      *FindOp(Make(DeepSeekV3(), H100(), 8, 1, power_tp)->Explain(small),
              "moe_experts");
  EXPECT_DOUBLE_EQ(q.flops, t.flops);
  // 4 tokens x top-8: random routing touches 256 (1 - (1 - 8/256)^4) ~ 31
  // experts, the power law fewer; each streams 3 d n bf16 on this chip, in
  // each of 58 MoE layers.
  const double expert_bytes = 3.0 * 7168 * (2048 / 8) * 2;
  const double random = 256 * (1 - std::pow(1 - 8.0 / 256, 4));
  const double skewed = PowerLawRankLoad(4, 256, 8, 1, 1.2).experts;
  EXPECT_LT(skewed, random);
  EXPECT_NEAR((q.bytes - t.bytes) / (58 * expert_bytes), skewed - random, 1e-6);
}

// DeepSeek-V3 with `ep`-way expert parallelism over `tp`-way attention
// groups on 8-chip H100 machines (`link_gbytes_per_s`: the chip's NVLink).
std::unique_ptr<OperatorModel> DeepSeekEp(int tp, int ep,
                                          double link_gbytes_per_s = 450) {
  OperatorModelOptions options;
  options.expert_parallel = ep;
  v1::Chip chip = H100();
  chip.set_scale_up_gbytes_per_s(link_gbytes_per_s);
  return Make(DeepSeekV3(), chip, tp, 1, options);
}

TEST(OperatorModelTest, ExpertParallelShardsTheExpertsAndAddsAllToAll) {
  const BatchShape batch = Decode(64, 1000);
  auto tp8 = Make(DeepSeekV3(), H100(), 8);
  auto ep8 = DeepSeekEp(1, 8);
  ASSERT_NE(ep8, nullptr);
  const IterationBreakdown t = tp8->Explain(batch);
  const IterationBreakdown e = ep8->Explain(batch);
  // The same expert FLOPs per chip: 1/8 of every expert (TP) or 1/8 of the
  // pairs on whole experts (EP).
  EXPECT_NEAR(FindOp(e, "moe_experts")->flops / FindOp(t, "moe_experts")->flops,
              1.0, 1e-12);
  // Each rank streams the weights of its own 32 experts that the 64 tokens
  // touch, 32 (1 - (1 - 8/256)^64) whole experts per layer, plus the
  // activations of its 64 x 8 / 8 pairs and the fused layer's permutation
  // traffic (d elements a pair): local over its own pairs, the layer term
  // over the pairs of the tokens the dispatch all-to-all brings it, 1 -
  // (7/8)^8 of the 64 tokens with all 8 choices each (where aiconfigurator's
  // rows feed every token to the rank).
  const ClassEfficiency moe =
      OperatorModelOptions::DefaultOperatorEfficiencies()[static_cast<int>(
          NamedOperator::kMoe)];
  const double expert_bytes = 3.0 * 7168 * 2048 * 2;
  const double act_bytes = 2.0 * 1 * (2 * 7168 + 3 * 2048);
  const double permute_bytes =
      1 * 7168 *
      (moe.local_pair_bytes +
       8 * (1 - std::pow(7.0 / 8, 8)) * moe.layer_pair_bytes);
  EXPECT_NEAR((FindOp(e, "moe_experts")->bytes / 58 -
               64 * (act_bytes + permute_bytes)) /
                  expert_bytes,
              32.0 * (1 - std::pow(1 - 8.0 / 256, 64)), 1e-6);
  // A token goes once to each distinct rank among its 8 experts'
  // (1 - (7/8)^8 of a rank per token), 64 tokens' hidden vectors in BF16.
  const double ranks_per_token = 1 - std::pow(7.0 / 8, 8);
  for (const char* name : {"ep_dispatch", "ep_combine"}) {
    const OperatorTime* a2a = FindOp(e, name);
    ASSERT_NE(a2a, nullptr) << name;
    EXPECT_EQ(a2a->bound, Bound::kNetwork);
    EXPECT_NEAR(a2a->bytes / 58, 64 * ranks_per_token * 7168 * 2, 1e-6);
  }
  EXPECT_EQ(FindOp(t, "ep_dispatch"), nullptr);
  // Attention runs data-parallel: each of the 8 groups decodes 8 of the 64
  // requests on one chip, as a TP1 instance would.
  auto tp1 = Make(DeepSeekV3(), H100(), 1);
  EXPECT_NEAR(FindOp(e, "mla_decode")->seconds,
              FindOp(tp1->Explain(Decode(8, 1000)), "mla_decode")->seconds,
              1e-15);
  EXPECT_EQ(FindOp(e, "allreduce"), nullptr);  // tp 1: no TP collectives
  EXPECT_DOUBLE_EQ(ep8->IterationSeconds(batch), e.seconds);
}

// The fused MoE kernels' per-pair scan (layer_pair_bytes) covers the pairs
// of the tokens a rank's kernel is handed: every token of the layer when
// every rank holds every token (ep = tp, as aiconfigurator's collector runs
// it), the 1 - (1 - 1/ep)^k of them that the dispatch all-to-all delivers
// (ep > tp), each with all its top_k choices. Under power-law routing too:
// the scan follows the tokens received, not the hot rank's pairs.
TEST(OperatorModelTest, TheDispatchHandsARankOnlyTheTokensRoutedToIt) {
  const BatchShape batch = Prefill(2048);
  auto layer_scan_bytes = [&batch](int tp, double alpha) {
    double bytes[2];
    for (int scan = 0; scan < 2; ++scan) {
      OperatorModelOptions options;
      options.expert_parallel = 8;
      options.moe_routing_alpha = alpha;
      ClassEfficiency& moe =
          options.operator_efficiency[static_cast<int>(NamedOperator::kMoe)];
      moe.local_pair_bytes = 0;
      moe.layer_pair_bytes = scan;
      bytes[scan] =
          FindOp(Make(DeepSeekV3(), H100(), tp, 1, options)->Explain(batch),
                 "moe_experts")
              ->bytes;
    }
    return (bytes[1] - bytes[0]) / 58;  // per MoE layer, 1 byte an element
  };
  const double all_pairs = 2048.0 * 8 * 7168;
  const double received = 1 - std::pow(7.0 / 8, 8);
  for (const double alpha : {0.0, 1.2}) {
    SCOPED_TRACE(alpha);
    EXPECT_NEAR(layer_scan_bytes(8, alpha) / all_pairs, 1, 1e-9);
    EXPECT_NEAR(layer_scan_bytes(1, alpha) / all_pairs, received, 1e-9);
  }
}

// A request stays whole in one attention group: a lone prompt's attention
// and projections run on one chip's group as a TP1 instance would run them
// (not 1/8 of the prompt on each group), and 8 such prompts, one per group,
// take no longer there; 9 put two in the busiest group.
TEST(OperatorModelTest, ARequestRunsWholeInOneAttentionGroup) {
  auto ep8 = DeepSeekEp(1, 8);
  auto tp1 = Make(DeepSeekV3(), H100(), 1);
  ASSERT_NE(ep8, nullptr);
  const double alone = FindOp(tp1->Explain(Prefill(2048)), "mla_kv_a")->seconds;
  EXPECT_NEAR(FindOp(ep8->Explain(Prefill(2048)), "mla_kv_a")->seconds, alone,
              1e-15);
  EXPECT_NEAR(FindOp(ep8->Explain(Prefill(2048, 8)), "mla_kv_a")->seconds,
              alone, 1e-15);
  EXPECT_NEAR(FindOp(ep8->Explain(Prefill(2048, 9)), "mla_kv_a")->seconds,
              FindOp(tp1->Explain(Prefill(2048, 2)), "mla_kv_a")->seconds,
              1e-15);
}

TEST(OperatorModelTest, AllToAllTimeFollowsTheLinkBandwidth) {
  // t = alpha + c / bandwidth: halving the link adds as much again.
  const BatchShape batch = Decode(256, 1000);
  std::vector<double> seconds;
  for (double link : {450.0, 225.0, 112.5}) {
    seconds.push_back(
        FindOp(DeepSeekEp(2, 8, link)->Explain(batch), "ep_combine")->seconds);
  }
  EXPECT_GT(seconds[1], seconds[0]);
  EXPECT_NEAR(seconds[2] - seconds[1], 2 * (seconds[1] - seconds[0]),
              1e-9 * seconds[2]);
}

// DeepSeek-V3 on TP1 EP8 H100s (eight data-parallel attention groups),
// `batch` explained under balanced and power-law (alpha 1.2) routing.
std::pair<IterationBreakdown, IterationBreakdown> BalancedAndSkewed(
    const BatchShape& batch) {
  OperatorModelOptions balanced, skewed;
  balanced.expert_parallel = skewed.expert_parallel = 8;
  skewed.moe_routing_alpha = 1.2;
  return {Make(DeepSeekV3(), H100(), 1, 1, balanced)->Explain(batch),
          Make(DeepSeekV3(), H100(), 1, 1, skewed)->Explain(batch)};
}

// Power-law routing applies to the ep ranks of data-parallel attention as
// to ep = tp: the MoE layer waits for the most loaded of the 8 ranks, its
// FLOPs reported as the ranks' mean; the rest of the iteration, the
// all-to-all's balanced bytes included, is unchanged.
TEST(OperatorModelTest, RoutingSkewSlowsTheExpertParallelMoeLayer) {
  const auto [b, p] = BalancedAndSkewed(Prefill(4096));
  const OperatorTime* b_moe = FindOp(b, "moe_experts");
  const OperatorTime* p_moe = FindOp(p, "moe_experts");
  ASSERT_NE(b_moe, nullptr);
  ASSERT_NE(p_moe, nullptr);
  // The hottest rank's pairs, against the even 4096 x 8 / 8.
  EXPECT_GT(PowerLawRankLoad(4096, 256, 8, 8, 1.2).pairs, 1.2 * 4096);
  EXPECT_GT(p_moe->seconds, 1.1 * b_moe->seconds);
  EXPECT_NEAR(p_moe->flops, b_moe->flops, 1e-9 * b_moe->flops);
  EXPECT_DOUBLE_EQ(FindOp(p, "ep_combine")->seconds,
                   FindOp(b, "ep_combine")->seconds);
  EXPECT_NEAR(p.seconds - b.seconds, p_moe->seconds - b_moe->seconds, 1e-12);
}

// At a decode step the weights dominate: the rank with the most pairs owes
// them to a few hot experts and streams fewer experts' weights than a rank
// of many cold experts, and the layer waits for the slower. (Under the
// power law fewer experts are touched at all, so skew still streams less
// than balanced routing: 29.3 of 32 experts on the widest rank.)
TEST(OperatorModelTest, AnExpertParallelDecodeWaitsForTheWidestRank) {
  const auto [b, p] = BalancedAndSkewed(Decode(256, 2000));
  const OperatorTime* b_moe = FindOp(b, "moe_experts");
  const OperatorTime* p_moe = FindOp(p, "moe_experts");
  ASSERT_NE(b_moe, nullptr);
  ASSERT_NE(p_moe, nullptr);
  // The weights dominate, so the layer's time follows the experts streamed:
  // at least (nearly) the widest rank's share of balanced routing's 32
  // (32 (1 - (1 - 8/256)^256) = 31.99); the hot rank's alone gave 0.89x
  // balanced, below it.
  const RankLoads loads = PowerLawRankLoads(256, 256, 8, 8, 1.2);
  EXPECT_GT(loads.most_experts.experts, loads.most_pairs.experts + 1);
  EXPECT_GT(p_moe->seconds / b_moe->seconds,
            0.99 * loads.most_experts.experts / 31.99);
}

TEST(OperatorModelTest, CreateRejectsBadExpertParallelism) {
  OperatorModelOptions options;
  options.expert_parallel = 8;
  auto dense = OperatorModel::Create(Llama2_70b(), H100(), 8, 1, options);
  EXPECT_THAT(std::string(dense.status().message()),
              ::testing::HasSubstr("needs a MoE model"));
  options.expert_parallel = 6;  // 256 % 6
  auto uneven = OperatorModel::Create(DeepSeekV3(), H100(), 2, 1, options);
  EXPECT_THAT(std::string(uneven.status().message()),
              ::testing::HasSubstr("does not divide the 256 routed experts"));
  options.expert_parallel = 4;
  auto groups = OperatorModel::Create(DeepSeekV3(), H100(), 8, 1, options);
  EXPECT_THAT(std::string(groups.status().message()),
              ::testing::HasSubstr("is not a multiple of tp = 8"));
  options.expert_parallel = 16;  // 8-chip machines
  auto domain = OperatorModel::Create(DeepSeekV3(), H100(), 1, 1, options);
  EXPECT_THAT(std::string(domain.status().message()),
              ::testing::HasSubstr("exceed the scale-up domain of 8"));
  options.chips_per_machine = 72;
  EXPECT_TRUE(OperatorModel::Create(DeepSeekV3(), H100(), 1, 1, options).ok());
}

}  // namespace
}  // namespace fleetsim::hardware
