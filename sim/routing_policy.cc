#include "sim/routing_policy.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace fleetsim::sim {
namespace {

class RoundRobin final : public RoutingPolicy {
 public:
  RouteTarget* Pick(const LiveRequest& /*request*/,
                    const std::vector<RouteTarget*>& entry) override {
    return entry[next_++ % entry.size()];
  }

 private:
  size_t next_ = 0;
};

class LeastKvLoad final : public RoutingPolicy {
 public:
  RouteTarget* Pick(const LiveRequest& /*request*/,
                    const std::vector<RouteTarget*>& entry) override {
    return LeastLoaded(entry, LoadSignal::kKv);
  }
};

class LeastOutstandingTokens final : public RoutingPolicy {
 public:
  RouteTarget* Pick(const LiveRequest& /*request*/,
                    const std::vector<RouteTarget*>& entry) override {
    return LeastLoaded(entry, LoadSignal::kOutstanding);
  }
};

template <typename Policy>
std::unique_ptr<RoutingPolicy> Create() {
  return std::make_unique<Policy>();
}

constexpr RoutingPolicyInfo kPolicies[] = {
    {ROUTER_POLICY_ROUND_ROBIN, false, &Create<RoundRobin>},
    {ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, true,
     &Create<LeastOutstandingTokens>},
    {ROUTER_POLICY_LEAST_KV_LOAD, false, &Create<LeastKvLoad>},
};

}  // namespace

RouteTarget* LeastLoaded(const std::vector<RouteTarget*>& candidates,
                         LoadSignal signal, bool skip_lent) {
  RouteTarget* best = nullptr;
  double best_load = std::numeric_limits<double>::infinity();
  for (RouteTarget* target : candidates) {
    if (skip_lent && target->lent) continue;
    double load = signal == LoadSignal::kKv ? target->KvLoad()
                                            : target->OutstandingLoad();
    if (load < best_load) {
      best_load = load;
      best = target;
    }
  }
  return best;
}

absl::StatusOr<const RoutingPolicyInfo*> FindRoutingPolicy(
    RouterPolicy policy, int64_t mixed_pool_prefill_queue_tokens) {
  for (const RoutingPolicyInfo& info : kPolicies) {
    if (info.policy != policy) continue;
    if (mixed_pool_prefill_queue_tokens > 0 && !info.supports_mixed_pool) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field 'router': ", RouterPolicy_Name(policy),
          " does not support the mixed pool (field "
          "'mixed_pool_prefill_queue_tokens' is ",
          mixed_pool_prefill_queue_tokens, "; set it to 0 or use ",
          RouterPolicy_Name(ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS), ")"));
    }
    return &info;
  }
  const std::string& name = RouterPolicy_Name(policy);
  return absl::InvalidArgumentError(absl::StrCat(
      "field 'router': no routing policy ",
      name.empty() ? absl::StrCat(static_cast<int>(policy)) : name));
}

}  // namespace fleetsim::sim
