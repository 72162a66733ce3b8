#include "sim/prefix_affinity.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "sim/load_index.h"
#include "sim/prefix_cache.h"

namespace fleetsim::sim {
namespace {

class PrefixAffinity final : public RoutingPolicy {
 public:
  PrefixAffinity(const std::vector<RouteTarget*>& entry, int instances)
      : index_(instances, LoadSignal::kOutstanding),
        targets_(instances, nullptr),
        entry_(entry) {
    for (RouteTarget* target : entry_) {
      index_.Put(target);
      targets_[target->index] = target;
      PrefixCache* cache = target->scheduler->prefix_cache();
      if (cache == nullptr) continue;
      int instance = target->index;
      cache->set_on_change([this, instance](uint64_t hash, bool cached) {
        std::vector<int>& holders = holders_[hash];
        if (cached) {
          holders.push_back(instance);
          return;
        }
        auto it = std::find(holders.begin(), holders.end(), instance);
        *it = holders.back();
        holders.pop_back();
        if (holders.empty()) holders_.erase(hash);
      });
    }
  }
  ~PrefixAffinity() override {
    for (RouteTarget* target : entry_) {
      if (PrefixCache* cache = target->scheduler->prefix_cache())
        cache->set_on_change(nullptr);
    }
  }

  RouteTarget* Pick(const LiveRequest& request) override {
    RouteTarget* best = index_.Least();
    if (request.prefix_hashes.empty()) return best;
    auto holders = holders_.find(request.prefix_hashes.front());
    if (holders == holders_.end()) return best;
    // Instances holding none of the prompt score their load: the least
    // loaded of all is the best of them.
    double best_score = best->OutstandingLoad();
    for (int instance : holders->second) {
      RouteTarget* target = targets_[instance];
      double score =
          target->OutstandingLoad() -
          static_cast<double>(target->scheduler->CachedPrefixTokens(request));
      if (score < best_score ||
          (score == best_score && instance < best->index)) {
        best = target;
        best_score = score;
      }
    }
    return best;
  }
  void LoadChanged(RouteTarget* target) override { index_.Put(target); }

 private:
  LoadIndex index_;
  std::vector<RouteTarget*> targets_;  // by instance index
  const std::vector<RouteTarget*> entry_;
  // Prefix hash -> entry instances whose cache holds it.
  absl::flat_hash_map<uint64_t, std::vector<int>> holders_;
};

}  // namespace

std::unique_ptr<RoutingPolicy> CreatePrefixAffinity(
    const std::vector<RouteTarget*>& entry, int instances) {
  return std::make_unique<PrefixAffinity>(entry, instances);
}

}  // namespace fleetsim::sim
