// File: sim/routing_policy.h
//
// Prompt routing policies (Cluster.router): which instance takes a new
// prompt, judged from the instances' BatchScheduler load signals. Plain C++
// (no SimGrid), so each rule is unit-testable. A policy that routes by load
// keeps its candidates in a LoadIndex (sim/load_index.h), which the Router
// refreshes through LoadChanged whenever an instance's load may have
// changed, so picking costs no scan of the fleet.
//
// A small registry maps each RouterPolicy to its implementation and says
// whether it supports SplitwiseSim's mixed pool (sim/mixed_pool.h). The mixed
// pool's lending rules compare the outstanding-token load that
// LEAST_OUTSTANDING_TOKENS routes by, so only that policy supports it; a
// fleet that turns the mixed pool on with another policy is refused with an
// error rather than run with the mixed pool half ignored.
#ifndef FLEETSIM_SIM_ROUTING_POLICY_H_
#define FLEETSIM_SIM_ROUTING_POLICY_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/cluster.pb.h"
#include "sim/batch_scheduler.h"
#include "sim/live_request.h"

namespace fleetsim::sim {

// What routing sees of one instance.
enum class LoadSignal { kKv, kOutstanding };

struct RouteTarget {
  int index = 0;  // instance number (requests.csv's prefill/decode_instance)
  BatchScheduler* scheduler = nullptr;
  bool lent = false;  // a decode instance lent to the mixed pool

  // Fraction of the instance's KV blocks in use.
  double KvLoad() const {
    return static_cast<double>(scheduler->used_blocks()) /
           static_cast<double>(
               std::max<int64_t>(1, scheduler->pool().kv_capacity_blocks));
  }
  // Prompt tokens queued or in progress plus requests held, SplitwiseSim's
  // "pending tokens" load.
  double OutstandingLoad() const {
    return static_cast<double>(scheduler->pending_prefill_tokens() +
                               scheduler->outstanding_requests());
  }
  double Load(LoadSignal signal) const {
    return signal == LoadSignal::kKv ? KvLoad() : OutstandingLoad();
  }
};

// One routing policy. May keep state (round robin's position).
class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  // The instance among the policy's entry instances that takes `request`'s
  // prompt.
  virtual RouteTarget* Pick(const LiveRequest& request) = 0;
  // `target`, one of the entry instances, may have a new load.
  virtual void LoadChanged(RouteTarget* /*target*/) {}
};

// A registry entry. `create` builds the policy over `entry` (non-empty: the
// colocated or prefill instances, in index order, outliving the policy;
// `instances` bounds their indices).
struct RoutingPolicyInfo {
  v1::RouterPolicy policy;
  bool supports_mixed_pool;
  std::unique_ptr<RoutingPolicy> (*create)(
      const std::vector<RouteTarget*>& entry, int instances);
};

// The registry entry of `policy`. InvalidArgument for a policy with no
// implementation (including ROUTER_POLICY_UNSPECIFIED, which ResolveFleet
// replaces by the default), and for `mixed_pool_prefill_queue_tokens` > 0
// with a policy that does not support the mixed pool.
absl::StatusOr<const RoutingPolicyInfo*> FindRoutingPolicy(
    v1::RouterPolicy policy, int64_t mixed_pool_prefill_queue_tokens);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_ROUTING_POLICY_H_
