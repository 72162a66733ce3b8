// LoadIndex against a scan of the same instances: the least-loaded member,
// ties to the smaller rank and then the smaller index, after every change.
#include "sim/load_index.h"

#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

using testutil::AffineLatency;
using testutil::Req;

// `n` empty instances of 1,000 KV blocks, each a RouteTarget.
class Instances {
 public:
  explicit Instances(int n) : targets_(n) {
    for (int i = 0; i < n; ++i) {
      schedulers_.push_back(std::make_unique<BatchScheduler>(
          testutil::TestPool(v1::POOL_ROLE_DECODE), &latency_,
          SchedulerHooks{}));
      targets_[i].index = i;
      targets_[i].scheduler = schedulers_.back().get();
    }
  }
  RouteTarget* target(int i) { return &targets_[i]; }
  // Holds `blocks` more KV blocks on instance i (16 tokens a block).
  void Hold(int i, int blocks) {
    schedulers_[i]->ReserveForTransfer(*Req(0, 16 * blocks, 1));
  }

 private:
  AffineLatency latency_;
  std::vector<std::unique_ptr<BatchScheduler>> schedulers_;
  std::vector<RouteTarget> targets_;
};

TEST(LoadIndexTest, TiesGoToTheSmallerRankThenTheSmallerIndex) {
  Instances in(4);
  LoadIndex index(4, LoadSignal::kKv);
  EXPECT_EQ(index.Least(), nullptr);
  EXPECT_TRUE(index.empty());
  for (int i : {3, 1, 2}) index.Put(in.target(i));
  EXPECT_EQ(index.Least(), in.target(1));  // all empty: the smallest index
  index.Put(in.target(3), /*rank=*/-1);
  EXPECT_EQ(index.Least(), in.target(3));  // same load, smaller rank
  in.Hold(3, 10);
  EXPECT_EQ(index.Least(), in.target(3));  // not re-put: the old load holds
  index.Put(in.target(3), -1);
  EXPECT_EQ(index.Least(), in.target(1));
  index.Remove(1);
  index.Remove(1);  // absent: a no-op
  EXPECT_EQ(index.Least(), in.target(2));
  index.Remove(2);
  index.Remove(3);
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.Least(), nullptr);
}

TEST(LoadIndexTest, AgreesWithAScanAfterEveryChange) {
  // 37 instances (not a power of two) under random loads, memberships and
  // ranks; few distinct loads, so ties are common.
  constexpr int kInstances = 37;
  Instances in(kInstances);
  LoadIndex index(kInstances, LoadSignal::kKv);
  std::vector<bool> member(kInstances, false);
  std::vector<int64_t> rank(kInstances, 0);
  std::mt19937 rng(7);
  for (int step = 0; step < 5000; ++step) {
    int i = static_cast<int>(rng() % kInstances);
    switch (rng() % 3) {
      case 0:
        index.Remove(i);
        member[i] = false;
        break;
      case 1:
        if (in.target(i)->scheduler->used_blocks() < 900) in.Hold(i, 1);
        [[fallthrough]];
      default:
        rank[i] = static_cast<int64_t>(rng() % 3);
        index.Put(in.target(i), rank[i]);
        member[i] = true;
    }
    const RouteTarget* expected = nullptr;
    for (int j = 0; j < kInstances; ++j) {
      if (!member[j]) continue;
      const RouteTarget* t = in.target(j);
      if (expected == nullptr || t->KvLoad() < expected->KvLoad() ||
          (t->KvLoad() == expected->KvLoad() &&
           rank[j] < rank[expected->index])) {
        expected = t;
      }
    }
    ASSERT_EQ(index.Least(), expected) << "step " << step;
  }
}

}  // namespace
}  // namespace fleetsim::sim
