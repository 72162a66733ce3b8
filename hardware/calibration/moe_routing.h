// File: hardware/calibration/moe_routing.h
//
// The routing behind a measured fused-MoE row: how many (token, expert)
// pairs, and over how many distinct experts, the measured expert-parallel
// rank computed. aiconfigurator's MoE collectors route the tokens either
// evenly ("balanced": token i's j-th choice is expert (i + j ceil(E / k))
// mod E) or by a power law, and with a power law they time the most loaded
// rank: ai-dynamo/aiconfigurator collector/helper.py
// (_generate_power_law_distribution, commit 095f58a): per-expert loads
// x_e ~ a power law of exponent alpha on [1, 0.8 N] (on [0.01, 2] when
// N k <= E), scaled to N k pairs and rounded (the remainder added to the
// largest loads), and the rank of E / ep consecutive experts with the most
// pairs swapped to rank 0. The row's time is the mean over several draws,
// so the pricer takes the expected load of the most loaded rank.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_MOE_ROUTING_H_
#define FLEETSIM_HARDWARE_CALIBRATION_MOE_ROUTING_H_

#include <cstdint>

namespace fleetsim::hardware {

// The measured rank's share of a routed batch.
struct RankLoad {
  double pairs = 0;    // (token, expert) pairs the rank computes
  double experts = 0;  // distinct experts of the rank they touch
};

// Balanced routing: N k / ep pairs over min(E / ep, pairs) experts.
RankLoad BalancedRankLoad(int64_t tokens, int experts, int top_k, int ep);

// Power-law routing of exponent `alpha` (> 0, != 1), the most loaded of
// `ep` ranks: the mean over a fixed number of draws of the collector's
// generator from a fixed seed (deterministic; O(draws x experts)).
RankLoad PowerLawRankLoad(int64_t tokens, int experts, int top_k, int ep,
                          double alpha);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_MOE_ROUTING_H_
