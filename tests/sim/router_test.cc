// The router's decisions, worked out by hand from the instances' queues
// (no SimGrid: real BatchSchedulers, driven directly).
#include "sim/router.h"

#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/routing_policy.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testutil::AffineLatency;
using testutil::Req;

PoolSpec Pool(v1::PoolRole role, int64_t kv_blocks) {
  return testutil::TestPool(role, kv_blocks);
}

// Instances of the given pools (one per entry, in order), a router over
// them, and a record of the transfers it starts.
class RouterHarness {
 public:
  RouterHarness(v1::RouterPolicy policy, int64_t mixed_pool_tokens,
                const std::vector<PoolSpec>& pools) {
    fleet_.router = policy;
    fleet_.mixed_pool_prefill_queue_tokens = mixed_pool_tokens;
    std::vector<BatchScheduler*> raw;
    for (const PoolSpec& pool : pools) {
      schedulers_.push_back(std::make_unique<BatchScheduler>(
          pool, &latency_,
          SchedulerHooks{
              [](LiveRequestPtr) {},
              [this](LiveRequestPtr r) { completed_.push_back(r->id); },
              [](double, int64_t) {}}));
      raw.push_back(schedulers_.back().get());
    }
    auto router = Router::Create(
        fleet_, raw, [this](int from, int to, LiveRequestPtr request) {
          transfers_.emplace_back(from, to, request->id);
          EXPECT_EQ(request->decode_instance, to);
        });
    EXPECT_TRUE(router.ok()) << router.status();
    if (router.ok()) router_ = std::move(*router);
  }

  // Routes a new request and enqueues it where the router said, as the
  // simulation's arrivals actor does; returns the instance.
  int Arrive(int64_t id, int32_t input, int32_t output = 10) {
    LiveRequestPtr request = Req(id, input, output);
    int target = router_->Route(request.get());
    EXPECT_EQ(request->prefill_instance, target);
    scheduler(target).Enqueue(std::move(request));
    return target;
  }

  // Runs instance `i` until it has nothing left (its clock starts at 0).
  void RunToIdle(int i) {
    double now = 0, seconds = 0;
    while (scheduler(i).PlanIteration(now, &seconds)) {
      now += seconds;
      scheduler(i).FinishIteration(now);
    }
  }

  BatchScheduler& scheduler(int i) { return *schedulers_[i]; }
  Router& router() { return *router_; }
  const std::vector<std::tuple<int, int, int64_t>>& transfers() const {
    return transfers_;
  }

 private:
  FleetSpec fleet_;
  AffineLatency latency_;
  std::vector<std::unique_ptr<BatchScheduler>> schedulers_;
  std::unique_ptr<Router> router_;
  std::vector<std::tuple<int, int, int64_t>> transfers_;
  std::vector<int64_t> completed_;
};

const PoolSpec kColocated = Pool(v1::POOL_ROLE_COLOCATED, 1000);
const PoolSpec kPrefill = Pool(v1::POOL_ROLE_PREFILL, 1000);
const PoolSpec kDecode = Pool(v1::POOL_ROLE_DECODE, 1000);

TEST(RouterTest, LeastOutstandingTokensCountsQueuedPromptTokensPlusRequests) {
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0,
                  {kColocated, kColocated, kColocated});
  // Loads after each arrival: (101, 0, 0), (101, 31, 0), (101, 31, 31),
  // then the tie goes to the first: (101, 82, 31), (101, 82, 42).
  std::vector<int> targets;
  for (int32_t input : {100, 30, 30, 50, 10})
    targets.push_back(h.Arrive(targets.size(), input));
  EXPECT_THAT(targets, ElementsAre(0, 1, 2, 1, 2));
}

TEST(RouterTest, ColocatedInstancesDecodeWhatTheyPrefill) {
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0,
                  {kColocated, kColocated});
  LiveRequestPtr request = Req(0, 100, 10);
  int target = h.router().Route(request.get());
  EXPECT_EQ(request->prefill_instance, target);
  EXPECT_EQ(request->decode_instance, target);
}

TEST(RouterTest, RoundRobinCyclesOverThePrefillInstancesOnly) {
  // The decode pool comes first, so instance 0 must never take a prompt.
  RouterHarness h(v1::ROUTER_POLICY_ROUND_ROBIN, 0,
                  {kDecode, kPrefill, kPrefill});
  std::vector<int> targets;
  for (int i = 0; i < 5; ++i) targets.push_back(h.Arrive(i, 100 * (5 - i)));
  EXPECT_THAT(targets, ElementsAre(1, 2, 1, 2, 1));
  LiveRequestPtr request = Req(9, 10, 10);
  h.router().Route(request.get());
  EXPECT_EQ(request->decode_instance, -1);  // decided after the prefill
}

TEST(RouterTest, LeastKvLoadComparesFractionsOfCapacity) {
  // 10 of 100 blocks (10 %) against 30 of 1000 (3 %): the bigger one holds
  // more blocks but is less loaded. Outstanding tokens ignore reserved KV:
  // both are empty, the first wins.
  for (auto [policy, expected] :
       {std::pair{v1::ROUTER_POLICY_LEAST_KV_LOAD, 1},
        std::pair{v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0}}) {
    RouterHarness h(policy, 0,
                    {Pool(v1::POOL_ROLE_COLOCATED, 100),
                     Pool(v1::POOL_ROLE_COLOCATED, 1000)});
    h.scheduler(0).ReserveForTransfer(*Req(0, 160, 1));
    h.scheduler(1).ReserveForTransfer(*Req(1, 480, 1));
    EXPECT_EQ(h.Arrive(2, 100), expected) << v1::RouterPolicy_Name(policy);
  }
}

TEST(RouterTest, MixedPoolLendsDecodeInstancesWhenThePrefillQueueIsLong) {
  // One prefill instance (0), two decode instances (1, 2), 1,000 tokens.
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 1000,
                  {kPrefill, kDecode, kDecode});
  // 800 queued on 0; nothing waits yet, so the queue is not long.
  EXPECT_EQ(h.Arrive(0, 800), 0);
  // 800 + 300 > 1,000 with a request waiting: decode instance 1 is lent.
  LiveRequestPtr lent_prompt = Req(1, 300, 10);
  EXPECT_EQ(h.router().Route(lent_prompt.get()), 1);
  EXPECT_EQ(lent_prompt->decode_instance, 1);  // served end to end there
  h.scheduler(1).Enqueue(std::move(lent_prompt));
  EXPECT_TRUE(h.router().lent(1));
  EXPECT_FALSE(h.router().lent(2));
  // 800 + 100 = 900 fits the threshold: back to the prefill instance.
  EXPECT_EQ(h.Arrive(2, 100), 0);
  // 900 + 200 is long; the lent instance's 300 + 200 is not: it takes it.
  EXPECT_EQ(h.Arrive(3, 200), 1);
  // 900 + 600 and 500 + 600 are both long: instance 2 is lent too.
  EXPECT_EQ(h.Arrive(4, 600), 2);
  EXPECT_TRUE(h.router().lent(2));
  // Every decode instance is lent and every queue long: the least loaded
  // of the prefill choice (902) and the least-loaded lent one (1: 502;
  // 2: 601) takes it.
  EXPECT_EQ(h.Arrive(5, 900), 1);
}

TEST(RouterTest, MixedPoolLendsOnlyAnInstanceThatCouldHoldTheRequest) {
  // Decode instances of 20 blocks (320 tokens) cannot hold 300 + 100.
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 1000,
                  {kPrefill, Pool(v1::POOL_ROLE_DECODE, 20)});
  EXPECT_EQ(h.Arrive(0, 800), 0);
  EXPECT_EQ(h.Arrive(1, 300, 100), 0);
  EXPECT_FALSE(h.router().lent(1));
  EXPECT_EQ(h.Arrive(2, 300, 10), 1);  // 310 tokens fit
  EXPECT_TRUE(h.router().lent(1));
}

TEST(RouterTest, LentInstanceReturnsOnlyOnceItHasNothingLeft) {
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 1000,
                  {kPrefill, kDecode, kDecode});
  h.Arrive(0, 800);
  ASSERT_EQ(h.Arrive(1, 300), 1);
  // Busy: an iteration's end or idleness elsewhere does not return it.
  h.router().AfterIteration(1);
  h.router().ReturnIfEmpty(1);
  EXPECT_TRUE(h.router().lent(1));
  h.RunToIdle(1);
  h.router().AfterIteration(1);
  EXPECT_FALSE(h.router().lent(1));
  // While it was lent it took the next long-queue prompt; now returned, it
  // is lent afresh (the least-loaded decode instance, first on a tie).
  EXPECT_EQ(h.Arrive(2, 300), 1);
  EXPECT_TRUE(h.router().lent(1));
  EXPECT_FALSE(h.router().lent(2));
}

TEST(RouterTest, WithoutTheMixedPoolLongQueuesStayOnThePrefillPool) {
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0,
                  {kPrefill, kDecode});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h.Arrive(i, 5000), 0);
  EXPECT_FALSE(h.router().lent(1));
}

TEST(RouterTest, PrefilledRequestsGoToTheLeastKvLoadedDecodeWithRoomInOrder) {
  // Decode instances of 20 blocks; instance 1 starts half full.
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0,
                  {kPrefill, Pool(v1::POOL_ROLE_DECODE, 20),
                   Pool(v1::POOL_ROLE_DECODE, 20)});
  h.scheduler(1).ReserveForTransfer(*Req(99, 160, 1));  // 10 blocks
  h.router().OnPrefillDone(0, Req(0, 100, 10));         // 7 blocks -> 2 (0 %)
  h.router().OnPrefillDone(0, Req(1, 200, 10));         // 13 -> only 2 has room
  h.router().OnPrefillDone(0, Req(2, 100, 10));         // 7 -> only 1 has room
  EXPECT_THAT(h.transfers(),
              ElementsAre(std::make_tuple(0, 2, 0), std::make_tuple(0, 2, 1),
                          std::make_tuple(0, 1, 2)));
  // 13 blocks fit nowhere (3 and 0 free), and the 1-block request behind it
  // waits its turn rather than overtake.
  h.router().OnPrefillDone(0, Req(3, 200, 10));
  h.router().OnPrefillDone(0, Req(4, 16, 10));
  EXPECT_EQ(h.router().waiting_for_decode(), 2u);
  EXPECT_EQ(h.transfers().size(), 3u);
  // Instance 1 frees its 10 blocks: after its next iteration the 13-block
  // request moves there; the 1-block one still finds no room.
  h.scheduler(1).ReleaseBlocks(10);
  h.router().AfterIteration(1);
  EXPECT_EQ(h.transfers().back(), std::make_tuple(0, 1, 3));
  EXPECT_EQ(h.router().waiting_for_decode(), 1u);
  // Memory freed on instance 2 is only looked at after a decode instance's
  // iteration, not a prefill instance's.
  h.scheduler(2).ReleaseBlocks(7);
  h.router().AfterIteration(0);
  EXPECT_EQ(h.router().waiting_for_decode(), 1u);
  h.router().AfterIteration(2);
  EXPECT_EQ(h.transfers().back(), std::make_tuple(0, 2, 4));
  EXPECT_EQ(h.router().waiting_for_decode(), 0u);
}

TEST(RouterTest, LentDecodeInstancesTakePrefilledRequestsLast) {
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 1000,
                  {kPrefill, kDecode, kDecode});
  h.Arrive(0, 800);
  ASSERT_EQ(h.Arrive(1, 300), 1);  // instance 1 lent, 0 % KV used
  h.scheduler(2).ReserveForTransfer(*Req(99, 1600, 1));  // 100 blocks, 10 %
  h.router().OnPrefillDone(0, Req(2, 100, 10));
  EXPECT_THAT(h.transfers(), ElementsAre(std::make_tuple(0, 2, 2)));
  // Once instance 2 is full the lent one takes the next.
  h.scheduler(2).ReserveForTransfer(*Req(98, 16 * 893, 1));  // 1,000 blocks
  h.router().OnPrefillDone(0, Req(3, 100, 10));
  EXPECT_EQ(h.transfers().back(), std::make_tuple(0, 1, 3));
}

TEST(RouterTest, MixedPoolDecodesOnThePrefillInstanceWhenNoDecodeHasRoom) {
  // Decode instance of 10 blocks, already full; prefill instance of 1,000.
  for (int64_t mixed_pool_tokens : {0, 1000}) {
    RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS,
                    mixed_pool_tokens,
                    {kPrefill, Pool(v1::POOL_ROLE_DECODE, 10)});
    h.scheduler(1).ReserveForTransfer(*Req(99, 160, 1));
    LiveRequestPtr request = Req(0, 100, 10);
    LiveRequest* raw = request.get();
    h.router().OnPrefillDone(0, std::move(request));
    EXPECT_TRUE(h.transfers().empty());
    if (mixed_pool_tokens == 0) {
      EXPECT_EQ(h.router().waiting_for_decode(), 1u);  // waits for room
      EXPECT_EQ(h.scheduler(0).usage().decodes_kept, 0);
    } else {
      EXPECT_EQ(h.router().waiting_for_decode(), 0u);
      EXPECT_EQ(raw->decode_instance, 0);  // kept: owned by instance 0
      EXPECT_EQ(h.scheduler(0).usage().decodes_kept, 1);
    }
  }
}

TEST(RouterTest, MixedPoolKeepsOnlyWhatThePrefillInstanceCanHold) {
  // A 10-block prefill instance cannot hold 100 + 100 tokens (13 blocks).
  RouterHarness h(
      v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 1000,
      {Pool(v1::POOL_ROLE_PREFILL, 10), Pool(v1::POOL_ROLE_DECODE, 10)});
  h.scheduler(1).ReserveForTransfer(*Req(99, 160, 1));
  h.router().OnPrefillDone(0, Req(0, 100, 100));
  EXPECT_EQ(h.router().waiting_for_decode(), 1u);
  EXPECT_EQ(h.scheduler(0).usage().decodes_kept, 0);
}

// The router keeps its candidates in load indexes refreshed on each
// scheduler's change notices: after any sequence of changes its choice must
// be the one a scan of every instance makes now.
TEST(RouterTest, PromptsGoWhereAScanOfTheFleetSendsThemAfterAnyChange) {
  for (v1::RouterPolicy policy : {v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS,
                                  v1::ROUTER_POLICY_LEAST_KV_LOAD}) {
    std::vector<PoolSpec> pools;
    for (int i = 0; i < 9; ++i)
      pools.push_back(Pool(v1::POOL_ROLE_COLOCATED, 200 + 50 * (i % 3)));
    RouterHarness h(policy, 0, pools);
    std::vector<double> now(pools.size(), 0);
    std::mt19937 rng(11);
    for (int step = 0; step < 3000; ++step) {
      if (rng() % 3 == 0) {
        int expected = -1;
        double least = 0;
        for (int i = 0; i < static_cast<int>(pools.size()); ++i) {
          const BatchScheduler& s = h.scheduler(i);
          double load = policy == v1::ROUTER_POLICY_LEAST_KV_LOAD
                            ? static_cast<double>(s.used_blocks()) /
                                  s.pool().kv_capacity_blocks
                            : static_cast<double>(s.pending_prefill_tokens() +
                                                  s.outstanding_requests());
          if (expected < 0 || load < least) expected = i, least = load;
        }
        ASSERT_EQ(h.Arrive(step, 1 + rng() % 400, 1 + rng() % 30), expected)
            << v1::RouterPolicy_Name(policy) << " step " << step;
      } else {  // one iteration of a random instance
        int i = static_cast<int>(rng() % pools.size());
        double seconds = 0;
        if (h.scheduler(i).PlanIteration(now[i], &seconds)) {
          now[i] += seconds;
          h.scheduler(i).FinishIteration(now[i]);
        }
      }
    }
  }
}

TEST(RouterTest, PrefilledRequestsGoWhereAScanOfTheDecodersSendsThem) {
  // Two KV capacities; batches of at most 64 (reservations here never end,
  // so instances also run out of batch room).
  std::vector<PoolSpec> pools = {kPrefill};
  for (int i = 0; i < 6; ++i)
    pools.push_back(Pool(v1::POOL_ROLE_DECODE, i % 2 == 0 ? 300 : 500));
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0, pools);
  // The decoder a scan picks for `request` now; -1 if none has room.
  auto scan = [&](const LiveRequest& request) {
    int best = -1;
    double least = 0;
    for (int i = 1; i < static_cast<int>(pools.size()); ++i) {
      const BatchScheduler& s = h.scheduler(i);
      double load =
          static_cast<double>(s.used_blocks()) / s.pool().kv_capacity_blocks;
      if (s.CanReserveForTransfer(request) && (best < 0 || load < least))
        best = i, least = load;
    }
    return best;
  };
  std::mt19937 rng(5);
  int placed = 0;
  for (int step = 0; step < 3000; ++step) {
    if (rng() % 2 == 0) {  // a decoder frees some of its blocks
      int i = 1 + static_cast<int>(rng() % (pools.size() - 1));
      h.scheduler(i).ReleaseBlocks(
          static_cast<int64_t>(rng() % (h.scheduler(i).used_blocks() + 1)));
      h.router().AfterIteration(i);
      continue;
    }
    LiveRequestPtr request = Req(step, 16 + rng() % 3000, 10);
    bool alone = h.router().waiting_for_decode() == 0;
    int expected = scan(*request);
    h.router().OnPrefillDone(0, std::move(request));
    if (!alone) continue;  // the queue's head went first
    if (expected < 0) {
      ASSERT_EQ(h.router().waiting_for_decode(), 1u) << "step " << step;
    } else {
      ASSERT_EQ(h.transfers().back(), std::make_tuple(0, expected, step))
          << "step " << step;
      ++placed;
    }
  }
  EXPECT_GT(placed, 200);  // of at most 6 x 64
}

TEST(RoutingPolicyTest, PoliciesWithoutTheMixedPoolRefuseIt) {
  for (v1::RouterPolicy policy :
       {v1::ROUTER_POLICY_ROUND_ROBIN, v1::ROUTER_POLICY_LEAST_KV_LOAD}) {
    EXPECT_TRUE(FindRoutingPolicy(policy, 0).ok());
    auto refused = FindRoutingPolicy(policy, 8192);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(),
                AllOf(HasSubstr("field 'router'"),
                      HasSubstr(v1::RouterPolicy_Name(policy)),
                      HasSubstr("does not support the mixed pool"),
                      HasSubstr("'mixed_pool_prefill_queue_tokens' is 8192")));
  }
  auto lot =
      FindRoutingPolicy(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 8192);
  ASSERT_TRUE(lot.ok());
  EXPECT_TRUE((*lot)->supports_mixed_pool);
  EXPECT_THAT(
      FindRoutingPolicy(v1::ROUTER_POLICY_UNSPECIFIED, 0).status().message(),
      HasSubstr("no routing policy ROUTER_POLICY_UNSPECIFIED"));
}

TEST(RoutingPolicyTest, RouterRefusesAMixedPoolItsPolicyCannotRun) {
  FleetSpec fleet;
  fleet.router = v1::ROUTER_POLICY_ROUND_ROBIN;
  fleet.mixed_pool_prefill_queue_tokens = 8192;
  auto router = Router::Create(fleet, {}, nullptr);
  EXPECT_THAT(router.status().message(),
              HasSubstr("does not support the mixed pool"));
}

// Two decode pools whose instances give one request different room (the
// issue 13 note's case: an EP decode pool's attention group is smaller than
// a plain pool's instance). A request whose prompt fits both but whose
// whole lifetime fits only the larger goes there, although the smaller is
// first at equal load; one that fits neither is refused at arrival
// (Router::CanEverDecode), never prefilled.
TEST(RouterTest, ADecodePoolThatCanNeverHoldTheRequestIsSkipped) {
  PoolSpec small = Pool(v1::POOL_ROLE_DECODE, 100);  // 1,600 tokens
  small.name = "small";
  PoolSpec large = Pool(v1::POOL_ROLE_DECODE, 1000);  // 16,000 tokens
  large.name = "large";
  RouterHarness h(v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS, 0,
                  {kPrefill, small, large});
  // 1,000 + 1,000 tokens: the prompt's 63 blocks fit the small pool's free
  // 100, its 125 lifetime blocks only the large pool's.
  h.router().OnPrefillDone(0, Req(0, 1000, 1000));
  // 500 + 500 tokens (63 blocks) fit both: the less loaded, the small.
  h.router().OnPrefillDone(0, Req(1, 500, 500));
  EXPECT_THAT(h.transfers(),
              ElementsAre(std::make_tuple(0, 2, 0), std::make_tuple(0, 1, 1)));
  EXPECT_TRUE(h.router().CanEverDecode(*Req(2, 10000, 6000)));
  EXPECT_FALSE(h.router().CanEverDecode(*Req(3, 10000, 6001)));
}

}  // namespace
}  // namespace fleetsim::sim
