#include "sim/routing_policy.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "sim/load_index.h"
#include "sim/prefix_affinity.h"

namespace fleetsim::sim {
namespace {

class RoundRobin final : public RoutingPolicy {
 public:
  explicit RoundRobin(const std::vector<RouteTarget*>& entry) : entry_(entry) {}
  RouteTarget* Pick(const LiveRequest& /*request*/) override {
    return entry_[next_++ % entry_.size()];
  }

 private:
  const std::vector<RouteTarget*> entry_;
  size_t next_ = 0;
};

// The least-loaded entry instance by `kSignal`, the first on ties.
template <LoadSignal kSignal>
class LeastLoaded final : public RoutingPolicy {
 public:
  LeastLoaded(const std::vector<RouteTarget*>& entry, int instances)
      : index_(instances, kSignal) {
    for (RouteTarget* target : entry) index_.Put(target);
  }
  RouteTarget* Pick(const LiveRequest& /*request*/) override {
    return index_.Least();
  }
  void LoadChanged(RouteTarget* target) override { index_.Put(target); }

 private:
  LoadIndex index_;
};

std::unique_ptr<RoutingPolicy> CreateRoundRobin(
    const std::vector<RouteTarget*>& entry, int /*instances*/) {
  return std::make_unique<RoundRobin>(entry);
}

template <LoadSignal kSignal>
std::unique_ptr<RoutingPolicy> CreateLeastLoaded(
    const std::vector<RouteTarget*>& entry, int instances) {
  return std::make_unique<LeastLoaded<kSignal>>(entry, instances);
}

constexpr RoutingPolicyInfo kPolicies[] = {
    {v1::ROUTER_POLICY_ROUND_ROBIN, false, &CreateRoundRobin},
    {v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, true,
     &CreateLeastLoaded<LoadSignal::kOutstanding>},
    {v1::ROUTER_POLICY_LEAST_KV_LOAD, false,
     &CreateLeastLoaded<LoadSignal::kKv>},
    {v1::ROUTER_POLICY_PREFIX_AFFINITY, false, &CreatePrefixAffinity},
};

}  // namespace

absl::StatusOr<const RoutingPolicyInfo*> FindRoutingPolicy(
    v1::RouterPolicy policy, int64_t mixed_pool_prefill_queue_tokens) {
  for (const RoutingPolicyInfo& info : kPolicies) {
    if (info.policy != policy) continue;
    if (mixed_pool_prefill_queue_tokens > 0 && !info.supports_mixed_pool) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field 'router': ", v1::RouterPolicy_Name(policy),
          " does not support the mixed pool (field "
          "'mixed_pool_prefill_queue_tokens' is ",
          mixed_pool_prefill_queue_tokens, "; set it to 0 or use ",
          v1::RouterPolicy_Name(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS),
          ")"));
    }
    return &info;
  }
  const std::string& name = v1::RouterPolicy_Name(policy);
  return absl::InvalidArgumentError(absl::StrCat(
      "field 'router': no routing policy ",
      name.empty() ? absl::StrCat(static_cast<int>(policy)) : name));
}

}  // namespace fleetsim::sim
