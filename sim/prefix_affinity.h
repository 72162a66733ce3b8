// File: sim/prefix_affinity.h
//
// ROUTER_POLICY_PREFIX_AFFINITY: cache-aware prompt routing. A prompt goes
// to the entry instance with the least outstanding prompt work once the
// part of this prompt it holds cached (sim/prefix_cache.h) is discounted:
// outstanding load (queued prompt tokens + requests held, SplitwiseSim's
// load) minus cached prefix tokens. A cached token is a prompt token that
// instance need not compute, so affinity and load weigh in one unit,
// with no tuned weight. This is the trade-off Mooncake's Conductor makes
// (Qin et al., "Mooncake", FAST'25, §5: prefill instance chosen for the
// shortest TTFT from prefix-match length and queue) and llm-d's scheduler
// makes with weighted prefix-cache and queue scorers
// (github.com/llm-d/llm-d-inference-scheduler).
//
// Cost per prompt: O(log instances) for the least-loaded instance (a
// LoadIndex, as LEAST_OUTSTANDING_TOKENS) plus, for each instance holding
// the prompt's first prefix block (a hash -> holders index the caches keep
// current), a match of its cached prefix: O(holders x matched blocks).
// Holders are not bounded by the fleet size but by how widely a prefix is
// cached, which affinity routing itself keeps narrow.
#ifndef FLEETSIM_SIM_PREFIX_AFFINITY_H_
#define FLEETSIM_SIM_PREFIX_AFFINITY_H_

#include <memory>
#include <vector>

#include "sim/routing_policy.h"

namespace fleetsim::sim {

// The policy over `entry` (see RoutingPolicyInfo::create). Entry instances
// without a prefix cache are routed by load alone.
std::unique_ptr<RoutingPolicy> CreatePrefixAffinity(
    const std::vector<RouteTarget*>& entry, int instances);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_PREFIX_AFFINITY_H_
