// File: hardware/moe_routing.h
//
// The routing of an MoE layer's tokens to its experts: how many (token,
// expert) pairs, and over how many distinct experts, the most loaded
// expert-parallel rank computes. Used twice: to price a measured fused-MoE
// row (hardware/calibration/row_query.h) and, through RankLoadCurve, the
// simulator's routed experts under a pool's power-law routing
// (hardware/ops/gemm_op.h MoeExpertsCost). aiconfigurator's MoE collectors
// route the tokens either evenly ("balanced": token i's j-th choice is expert
// (i + j ceil(E / k)) mod E) or by a power law, and with a power law they time
// the most loaded rank: ai-dynamo/aiconfigurator collector/helper.py
// (_generate_power_law_distribution, commit 095f58a): per-expert loads
// x_e ~ a power law of exponent alpha on [1, 0.8 N] (on [0.01, 2] when
// N k <= E), scaled to N k pairs and rounded (the remainder added to the
// largest loads), and the rank of E / ep consecutive experts with the most
// pairs swapped to rank 0. The row's time is the mean over several draws,
// so the pricer takes the expected load of the most loaded rank.
#ifndef FLEETSIM_HARDWARE_MOE_ROUTING_H_
#define FLEETSIM_HARDWARE_MOE_ROUTING_H_

#include <cstdint>
#include <vector>

namespace fleetsim::hardware {

// The measured rank's share of a routed batch.
struct RankLoad {
  double pairs = 0;    // (token, expert) pairs the rank computes
  double experts = 0;  // distinct experts of the rank they touch
};

// The two ranks of a power-law draw that can be the slowest: the one with
// the most pairs (the one aiconfigurator times) and the one touching the
// most distinct experts (ties: more pairs). At decode sizes a few hot
// experts take the first's pairs, so it streams fewer experts' weights than
// a rank of many cold experts; where the weights dominate, the second is
// the slower.
struct RankLoads {
  RankLoad most_pairs;
  RankLoad most_experts;
};

// The expected share of `ep` expert-parallel ranks a token reaches under
// balanced routing, 1 - (1 - 1/ep)^top_k (its top_k experts drawn
// independently): what the dispatch all-to-all sends of each token, and the
// share of the layer's tokens, each with all its top_k choices, that a rank
// receives.
double RanksPerToken(int top_k, int ep);

// Balanced routing: N k / ep pairs over min(E / ep, pairs) experts.
RankLoad BalancedRankLoad(int64_t tokens, int experts, int top_k, int ep);

// Power-law routing of exponent `alpha` (> 0, != 1), the most loaded of
// `ep` ranks: the mean over a fixed number of draws of the collector's
// generator from a fixed seed (deterministic; O(draws x experts)).
RankLoad PowerLawRankLoad(int64_t tokens, int experts, int top_k, int ep,
                          double alpha);

// Both candidate ranks of the same draws (each the mean over the draws).
RankLoads PowerLawRankLoads(int64_t tokens, int experts, int top_k, int ep,
                            double alpha);

// PowerLawRankLoads as a function of the batch's tokens, tabulated once so
// the simulator's hot path can read it: each candidate rank's pairs per
// token of the batch and its distinct experts at N = 1..16 tokens and then
// every quarter octave up to 2^20, linear in N between points and held
// beyond the last. Immutable; thread-compatible; At() does not allocate.
class RankLoadCurve {
 public:
  // REQUIRES: experts >= ep >= 1, top_k >= 1, alpha > 0 and != 1.
  RankLoadCurve(int experts, int top_k, int ep, double alpha);

  // The ranks' loads at `tokens` (> 0) tokens: pairs per token (top_k
  // when ep = 1; the whole batch's rank pairs are tokens times it) and
  // experts.
  RankLoads At(double tokens) const;

 private:
  std::vector<double> tokens_;
  std::vector<RankLoads> loads_;  // pairs per token, experts
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_MOE_ROUTING_H_
