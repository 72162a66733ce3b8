// ROUTER_POLICY_PREFIX_AFFINITY worked out by hand: score = outstanding
// load (queued prompt tokens + requests held) - cached prefix tokens of the
// prompt; the least score wins, the first instance on ties.
#include "sim/prefix_affinity.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "sim/batch_scheduler.h"
#include "sim/fleet.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

using testutil::AffineLatency;
using testutil::Req;

constexpr int kPrefixTokens = 64;  // 4 KV blocks of 16 tokens

LiveRequestPtr Prompt(int64_t id, int32_t input, std::vector<uint64_t> hashes) {
  LiveRequestPtr request = Req(id, input, 1);
  request->prefix_hashes = std::move(hashes);
  return request;
}

// Colocated instances with prefix caches and the policy over them, told of
// every load change as the Router tells it.
class AffinityHarness {
 public:
  explicit AffinityHarness(int instances) {
    PoolSpec pool = testutil::TestPool(v1::POOL_ROLE_COLOCATED, 1000);
    pool.prefix_block_tokens = kPrefixTokens;
    for (int i = 0; i < instances; ++i) {
      schedulers_.push_back(std::make_unique<BatchScheduler>(
          pool, &latency_,
          SchedulerHooks{[](LiveRequestPtr) {}, [](LiveRequestPtr) {},
                         [](double, int64_t) {}}));
      targets_.push_back(RouteTarget{i, schedulers_.back().get(), false});
    }
    std::vector<RouteTarget*> entry;
    for (RouteTarget& target : targets_) entry.push_back(&target);
    policy_ = CreatePrefixAffinity(entry, instances);
  }

  int Pick(const LiveRequest& request) { return policy_->Pick(request)->index; }
  // Queues `request` on instance `i` without running it.
  void Queue(int i, LiveRequestPtr request) {
    schedulers_[i]->Enqueue(std::move(request));
    policy_->LoadChanged(&targets_[i]);
  }
  // Serves `request` on instance `i` to completion: its prefix stays cached.
  void Serve(int i, LiveRequestPtr request) {
    Queue(i, std::move(request));
    double now = 0, seconds = 0;
    while (schedulers_[i]->PlanIteration(now, &seconds)) {
      now += seconds;
      schedulers_[i]->FinishIteration(now);
    }
    policy_->LoadChanged(&targets_[i]);
  }
  BatchScheduler& scheduler(int i) { return *schedulers_[i]; }

 private:
  AffineLatency latency_;
  std::vector<std::unique_ptr<BatchScheduler>> schedulers_;
  std::vector<RouteTarget> targets_;
  std::unique_ptr<RoutingPolicy> policy_;
};

TEST(PrefixAffinityTest, GoesWhereThePromptsPrefixIsCached) {
  AffinityHarness h(3);
  h.Serve(2, Prompt(0, 300, {1, 2, 3, 4, 5}));  // caches blocks 1-4
  // Idle instances score 0; instance 2 scores 0 - 4 x 64.
  EXPECT_EQ(h.Pick(*Prompt(1, 400, {1, 2, 3, 4, 6})), 2);
  // Sharing only block 1 still wins against equal load: 0 - 64.
  EXPECT_EQ(h.Pick(*Prompt(2, 400, {1, 7, 8})), 2);
  // A prompt that shares nothing, or has no hashes, goes by load (first).
  EXPECT_EQ(h.Pick(*Prompt(3, 400, {9, 10})), 0);
  EXPECT_EQ(h.Pick(*Prompt(4, 400, {})), 0);
}

TEST(PrefixAffinityTest, LoadOutweighsAffinityBeyondTheCachedTokens) {
  AffinityHarness h(2);
  h.Serve(1, Prompt(0, 300, {1, 2, 3, 4, 5}));  // 256 tokens cached on 1
  LiveRequestPtr next = Prompt(1, 400, {1, 2, 3, 4, 6});
  // 200 prompt tokens queued on 1: 201 - 256 < 0, still instance 1.
  h.Queue(1, Prompt(2, 200, {50}));
  EXPECT_EQ(h.Pick(*next), 1);
  // 100 more: 300 tokens + 2 requests - 256 = 46 > 0: instance 0.
  h.Queue(1, Prompt(3, 100, {51}));
  EXPECT_EQ(h.Pick(*next), 0);
  // Equal scores go to the first instance: 45 tokens + 1 request on 0.
  h.Queue(0, Prompt(4, 45, {52}));
  EXPECT_EQ(h.Pick(*next), 0);
  h.Queue(0, Prompt(5, 1, {53}));  // 47 + 2 = 48 > 46
  EXPECT_EQ(h.Pick(*next), 1);
}

TEST(PrefixAffinityTest, AnEvictedPrefixNoLongerAttracts) {
  AffinityHarness h(2);
  h.Serve(1, Prompt(0, 300, {1, 2, 3, 4, 5}));
  LiveRequestPtr next = Prompt(1, 400, {1, 2, 3, 4, 6});
  EXPECT_EQ(h.Pick(*next), 1);
  h.scheduler(1).prefix_cache()->Evict(1000);
  EXPECT_EQ(h.Pick(*next), 0);
}

TEST(PrefixAffinityTest, PolicyIsRegisteredAndNeedsPrefixCaching) {
  EXPECT_TRUE(FindRoutingPolicy(v1::ROUTER_POLICY_PREFIX_AFFINITY, 0).ok());
  EXPECT_FALSE(FindRoutingPolicy(v1::ROUTER_POLICY_PREFIX_AFFINITY, 8192).ok());
}

}  // namespace
}  // namespace fleetsim::sim
