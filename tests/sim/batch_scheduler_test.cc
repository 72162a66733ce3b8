#include "sim/batch_scheduler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

using testutil::AffineLatency;
using testutil::Req;

PoolSpec Pool(v1::BatchingPolicy policy, int64_t blocks,
              int64_t budget = 2048) {
  PoolSpec pool;
  pool.name = "test";
  pool.role = v1::POOL_ROLE_COLOCATED;
  pool.tp = 1;
  pool.pp = 1;
  pool.policy = policy;
  pool.max_batch_size = 64;
  pool.max_batch_tokens = budget;
  pool.kv_block_tokens = 16;
  pool.kv_capacity_blocks = blocks;
  return pool;
}

struct Harness {
  explicit Harness(const PoolSpec& pool)
      : scheduler(
            pool, &latency,
            SchedulerHooks{
                [](LiveRequestPtr) { FAIL() << "unexpected prefill hand-off"; },
                [this](LiveRequestPtr r) { done.push_back(std::move(r)); },
                [this](double gap, int64_t n) {
                  for (int64_t i = 0; i < n; ++i) gaps.push_back(gap);
                }}) {}

  // Runs iterations one at a time until idle; returns the final time.
  double RunToIdle(double now = 0) {
    double seconds;
    while (scheduler.PlanIteration(now, &seconds)) {
      EXPECT_LE(scheduler.used_blocks(), scheduler.pool().kv_capacity_blocks);
      now += seconds;
      scheduler.FinishIteration(now);
    }
    return now;
  }

  AffineLatency latency;
  BatchScheduler scheduler;
  std::vector<LiveRequestPtr> done;
  std::vector<double> gaps;
};

TEST(BatchSchedulerTest, SingleRequestPrefillThenDecodes) {
  Harness h(Pool(v1::BATCHING_POLICY_VLLM, 1000));
  h.scheduler.Enqueue(Req(0, 100, 4));
  double end = h.RunToIdle();
  ASSERT_EQ(h.done.size(), 1u);
  const LiveRequest& r = *h.done[0];
  double prefill = 0.010 + 1e-5 * 100;
  EXPECT_DOUBLE_EQ(r.first_token_s, prefill);
  // Three decodes at contexts 100, 101, 102 (KV rows read = context + 1).
  ASSERT_EQ(h.gaps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(h.gaps[i], 0.010 + 1e-4 + 1e-7 * (101 + i), 1e-15);
  }
  EXPECT_DOUBLE_EQ(r.last_token_s, end);
  EXPECT_EQ(r.generated, 4);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
}

TEST(BatchSchedulerTest, SarathiChunksLongPromptsUnderTheBudget) {
  Harness h(Pool(v1::BATCHING_POLICY_SARATHI, 1000, /*budget=*/2048));
  h.scheduler.Enqueue(Req(0, 5000, 2));
  double seconds;
  std::vector<int64_t> chunks;
  double now = 0;
  while (h.scheduler.PlanIteration(now, &seconds)) {
    chunks.push_back(
        static_cast<int64_t>(std::llround((seconds - 0.010) / 1e-5)));
    now += seconds;
    h.scheduler.FinishIteration(now);
  }
  // 2048 + 2048 + 904 prompt tokens, then one decode iteration.
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0], 2048);
  EXPECT_EQ(chunks[1], 2048);
  EXPECT_EQ(chunks[2], 904);
  ASSERT_EQ(h.done.size(), 1u);
}

TEST(BatchSchedulerTest, VllmRunsPrefillFirst) {
  Harness h(Pool(v1::BATCHING_POLICY_VLLM, 1000));
  h.scheduler.Enqueue(Req(0, 100, 50));
  double seconds;
  ASSERT_TRUE(h.scheduler.PlanIteration(0, &seconds));
  h.scheduler.FinishIteration(seconds);  // request 0 now decodes
  h.scheduler.Enqueue(Req(1, 200, 5));
  ASSERT_TRUE(h.scheduler.PlanIteration(seconds, &seconds));
  // The next iteration is request 1's prefill alone: no decode rows.
  EXPECT_NEAR(seconds, 0.010 + 1e-5 * 200, 1e-15);
}

TEST(BatchSchedulerTest, PreemptsWhenKvRunsOutAndStillCompletesEverything) {
  // 18 blocks x 16 tokens = 288 tokens of KV. Two requests are admitted
  // (7 blocks each for their prompts); growing to 150 tokens they need 10
  // blocks each, 20 > 18, so the newer one must be preempted.
  Harness h(Pool(v1::BATCHING_POLICY_SARATHI, 18));
  for (int i = 0; i < 4; ++i) h.scheduler.Enqueue(Req(i, 100, 50));
  h.RunToIdle();
  ASSERT_EQ(h.done.size(), 4u);
  int preemptions = 0;
  for (const auto& r : h.done) {
    EXPECT_EQ(r->generated, 50);
    EXPECT_FALSE(r->rejected);
    preemptions += r->preemptions;
  }
  EXPECT_GT(preemptions, 0);
  EXPECT_EQ(h.scheduler.usage().preemptions, preemptions);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
}

TEST(BatchSchedulerTest, RecurrentStateLimitsAdmission) {
  // 25 blocks. Without state, 16-token prompts take one block each: all 8
  // are admitted. With 10 blocks of state each, a request takes 11: two
  // fit (22), the third waits for memory.
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, 25);
  Harness plain(pool);
  pool.state_blocks_per_request = 10;
  Harness with_state(pool);
  for (Harness* h : {&plain, &with_state}) {
    for (int i = 0; i < 8; ++i) h->scheduler.Enqueue(Req(i, 16, 4));
    double seconds;
    ASSERT_TRUE(h->scheduler.PlanIteration(0, &seconds));
  }
  EXPECT_EQ(plain.scheduler.used_blocks(), 8);
  EXPECT_EQ(with_state.scheduler.used_blocks(), 22);
  EXPECT_EQ(with_state.scheduler.free_blocks(), 3);
  // Every request still completes, the state freed with its KV.
  with_state.RunToIdle();
  EXPECT_EQ(with_state.done.size(), 8u);
  EXPECT_EQ(with_state.scheduler.used_blocks(), 0);
  // A request whose KV alone fits but not with its state is rejected.
  PoolSpec small = Pool(v1::BATCHING_POLICY_VLLM, 12);
  small.state_blocks_per_request = 10;
  Harness h(small);
  h.scheduler.Enqueue(Req(0, 40, 1));  // 3 KV blocks + 10 > 12
  ASSERT_EQ(h.done.size(), 1u);
  EXPECT_TRUE(h.done[0]->rejected);
}

TEST(BatchSchedulerTest, StateOnlyPoolHoldsOneBlockPerRequest) {
  // Pure SSM: a block is one request's state, tokens take none; 3 states
  // fit, so the 4th request waits however short the others are.
  PoolSpec pool = Pool(v1::BATCHING_POLICY_SARATHI, 3);
  pool.state_only = true;
  pool.state_blocks_per_request = 1;
  Harness h(pool);
  for (int i = 0; i < 4; ++i) h.scheduler.Enqueue(Req(i, 500, 200));
  double seconds;
  ASSERT_TRUE(h.scheduler.PlanIteration(0, &seconds));
  EXPECT_EQ(h.scheduler.used_blocks(), 3);
  EXPECT_TRUE(h.scheduler.has_waiting());
  h.scheduler.FinishIteration(seconds);
  h.RunToIdle(seconds);
  ASSERT_EQ(h.done.size(), 4u);
  // The 4th started only after one of the first three finished.
  EXPECT_GT(h.done[3]->first_token_s, h.done[0]->last_token_s);
  EXPECT_EQ(h.scheduler.usage().peak_kv_blocks, 3);  // never grows
  EXPECT_EQ(h.scheduler.usage().preemptions, 0);
}

TEST(BatchSchedulerTest, RejectsARequestLargerThanTheWholeCache) {
  Harness h(Pool(v1::BATCHING_POLICY_VLLM, 10));  // 160 tokens
  h.scheduler.Enqueue(Req(0, 150, 20));
  ASSERT_EQ(h.done.size(), 1u);
  EXPECT_TRUE(h.done[0]->rejected);
  EXPECT_TRUE(h.scheduler.idle());
}

// Expert parallelism with ep > tp: a request's KV lives in one of the
// ep / tp attention groups, so the longest request is one group's share,
// not the instance's total.
TEST(BatchSchedulerTest, RejectsARequestLargerThanOneAttentionGroup) {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, 80);  // 1,280 tokens
  pool.tp = 1;
  pool.ep = 8;  // 8 groups of 10 blocks (160 tokens) each
  ASSERT_EQ(pool.request_capacity_blocks(), 10);
  Harness h(pool);
  EXPECT_TRUE(h.scheduler.CanEverHold(160));
  EXPECT_FALSE(h.scheduler.CanEverHold(161));
  h.scheduler.Enqueue(Req(0, 150, 20));  // 170 tokens: the total, not a group
  ASSERT_EQ(h.done.size(), 1u);
  EXPECT_TRUE(h.done[0]->rejected);
  h.scheduler.Enqueue(Req(1, 150, 10));  // 160 tokens: one group's worth
  h.RunToIdle();
  ASSERT_EQ(h.done.size(), 2u);
  EXPECT_FALSE(h.done[1]->rejected);
  // ep = tp is one group: the whole cache.
  pool.ep = 1;
  EXPECT_EQ(pool.request_capacity_blocks(), 80);
}

TEST(BatchSchedulerTest, PrefillInstanceKeepsARequestOnlyIfItCanFinishIt) {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, 20);  // 320 tokens of KV
  pool.role = v1::POOL_ROLE_PREFILL;
  std::vector<LiveRequestPtr> handed_off, done;
  AffineLatency latency;
  BatchScheduler scheduler(
      pool, &latency,
      SchedulerHooks{
          [&](LiveRequestPtr r) { handed_off.push_back(std::move(r)); },
          [&](LiveRequestPtr r) { done.push_back(std::move(r)); },
          [](double, int64_t) {}});
  scheduler.Enqueue(Req(0, 100, 50));   // 150 tokens: fits
  scheduler.Enqueue(Req(1, 100, 300));  // 400 tokens: never fits
  double now = 0, seconds;
  ASSERT_TRUE(scheduler.PlanIteration(now, &seconds));
  now += seconds;
  scheduler.FinishIteration(now);
  ASSERT_EQ(handed_off.size(), 2u);
  EXPECT_TRUE(scheduler.KeepForDecode(&handed_off[0]));
  EXPECT_EQ(handed_off[0], nullptr);
  EXPECT_FALSE(scheduler.KeepForDecode(&handed_off[1]));
  ASSERT_NE(handed_off[1], nullptr);  // still the caller's
  scheduler.ReleaseBlocks(handed_off[1]->kv_blocks);
  while (scheduler.PlanIteration(now, &seconds)) {
    now += seconds;
    scheduler.FinishIteration(now);
  }
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]->generated, 50);
  EXPECT_DOUBLE_EQ(done[0]->first_token_s, done[0]->prefill_done_s);
  EXPECT_EQ(scheduler.usage().decodes_kept, 1);
  EXPECT_EQ(scheduler.used_blocks(), 0);
}

// Runs `h` to idle as the instance actor does, in runs of identical decode
// iterations; returns the final time and the longest run.
double RunInDecodeRuns(Harness* h, int* longest_run) {
  double now = 0, seconds;
  std::vector<double> ends;
  *longest_run = 0;
  while (h->scheduler.PlanIteration(now, &seconds)) {
    int run = h->scheduler.StableDecodeIterations(4096);
    h->scheduler.DecodeRunEndTimes(run, now, &ends);
    *longest_run = std::max(*longest_run, run);
    if (run == 1) {
      now += seconds;
      h->scheduler.FinishIteration(now);
    } else {
      h->scheduler.FinishDecodeIterations(run, ends);
      now = ends[run - 1];
    }
  }
  return now;
}

// The same token gaps, reported in a different order.
void ExpectSameGaps(Harness* a, Harness* b, double tolerance) {
  std::sort(a->gaps.begin(), a->gaps.end());
  std::sort(b->gaps.begin(), b->gaps.end());
  ASSERT_EQ(a->gaps.size(), b->gaps.size());
  for (size_t i = 0; i < a->gaps.size(); ++i) {
    EXPECT_NEAR(a->gaps[i], b->gaps[i], tolerance) << i;
  }
}

// Two requests, of `output0` and `output1` tokens, served step by
// step and in runs of decode iterations: the same end and token gaps.
void ExpectRunsMatchStepByStep(const PoolSpec& pool, int output0, int output1,
                               int longest_run) {
  Harness stepwise(pool), batched(pool);
  for (Harness* h : {&stepwise, &batched}) {
    h->scheduler.Enqueue(Req(0, 30, output0));
    h->scheduler.Enqueue(Req(1, 60, output1));
  }
  double end_stepwise = stepwise.RunToIdle();
  int longest = 0;
  EXPECT_NEAR(RunInDecodeRuns(&batched, &longest), end_stepwise, 1e-12);
  EXPECT_EQ(longest, longest_run);  // never past request 1's completion
  ExpectSameGaps(&batched, &stepwise, 1e-12);
  EXPECT_EQ(batched.done.size(), 2u);
}

TEST(BatchSchedulerTest, StableDecodeRunMatchesStepByStep) {
  ExpectRunsMatchStepByStep(Pool(v1::BATCHING_POLICY_VLLM, 1000), 40, 25, 24);
}

// Speculative decoding at 2.5 tokens per step (e.g. k = 3 drafts, 2.5
// expected): sequences are credited 2, 3, 2, 3, ... tokens per step.
PoolSpec SpeculativePool(int64_t blocks) {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, blocks);
  pool.draft_tokens = 3;
  pool.tokens_per_step = 2.5;
  return pool;
}

TEST(BatchSchedulerTest, SpeculativeStepsEmitTheCreditedTokens) {
  // 102 + 10 tokens fill exactly 7 blocks. The last step would write 4
  // tokens after a context of 109; its room is capped at the request's
  // lifetime, so the request still runs alone instead of preempting itself.
  Harness h(SpeculativePool(7));
  h.scheduler.Enqueue(Req(0, 102, 10));
  double end = h.RunToIdle();
  ASSERT_EQ(h.done.size(), 1u);
  const LiveRequest& r = *h.done[0];
  EXPECT_EQ(r.generated, 10);
  EXPECT_EQ(r.decode_steps, 4);  // 1 at the prefill, then 2 + 3 + 2 + 2
  EXPECT_EQ(r.preemptions, 0);
  EXPECT_EQ(h.scheduler.usage().iterations, 5);
  EXPECT_DOUBLE_EQ(r.last_token_s, end);
  // Each step's time spread over its tokens: steps at contexts 102, 104,
  // 107 and 109 (the affine model reads context + 1 rows); the last step's
  // third token would be past the output.
  const int contexts[] = {102, 104, 107, 109};
  const int tokens[] = {2, 3, 2, 2};
  std::vector<double> expected;
  for (int step = 0; step < 4; ++step) {
    double step_s = 0.010 + 1e-4 + 1e-7 * (contexts[step] + 1);
    for (int t = 0; t < tokens[step]; ++t)
      expected.push_back(step_s / tokens[step]);
  }
  ASSERT_EQ(h.gaps.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(h.gaps[i], expected[i], 1e-15) << i;
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
}

TEST(BatchSchedulerTest, SpeculativeDecodeRunMatchesStepByStep) {
  // Request 1's 60 decoded tokens take 24 steps of 2.5.
  ExpectRunsMatchStepByStep(SpeculativePool(1000), 101, 61, 24);
}

// Test-time scaling, by hand with the affine latency model: one 100-token
// prompt, two samples in two rounds, sample 0 generating 3 then 2 tokens,
// sample 1 1 then 4 (sim/test_time_scaling.h).
LiveRequestPtr SampledRequest(bool synchronous) {
  TestTimeScalingSpec spec;
  spec.samples = 2;
  spec.rounds = 2;
  spec.synchronous = synchronous;
  LiveRequestPtr request = Req(0, 100, 10);
  request->samples =
      std::make_unique<SampleGroup>(spec, std::vector<int32_t>{3, 2, 1, 4});
  return request;
}

PoolSpec SamplingPool() {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, 1000);
  pool.samples_per_request = 2;
  return pool;
}

// A decode step of the affine model over sequences at these contexts (it
// reads context + 1 rows each).
double Step(std::vector<int> contexts) {
  double rows = 0;
  for (int context : contexts) rows += context + 1;
  return 0.010 + 1e-4 * contexts.size() + 1e-7 * rows;
}

TEST(BatchSchedulerTest, SynchronousSamplesWaitForEachOtherAtEveryRound) {
  const double prefill = 0.010 + 1e-5 * 100;
  // Round 0: sample 0 alone (sample 1's one token came with the prefill);
  // round 1: both, then sample 1 alone for its last two.
  const double sync = prefill + Step({100}) + Step({101}) + Step({102, 100}) +
                      Step({103, 101}) + Step({102}) + Step({103});
  // Both samples decode side by side until each has its 5 tokens.
  const double async = prefill + Step({100, 100}) + Step({101, 101}) +
                       Step({102, 102}) + Step({103, 103});
  for (bool synchronous : {true, false}) {
    Harness stepwise(SamplingPool()), batched(SamplingPool());
    stepwise.scheduler.Enqueue(SampledRequest(synchronous));
    batched.scheduler.Enqueue(SampledRequest(synchronous));
    double end = stepwise.RunToIdle();
    EXPECT_NEAR(end, synchronous ? sync : async, 1e-12) << synchronous;
    int longest = 0;
    EXPECT_NEAR(RunInDecodeRuns(&batched, &longest), end, 1e-12);
    ExpectSameGaps(&batched, &stepwise, 1e-12);
    ASSERT_EQ(stepwise.done.size(), 1u);
    EXPECT_EQ(stepwise.done[0]->generated, 10);
    EXPECT_EQ(stepwise.gaps.size(), 8u);  // 10 tokens, 2 from the prefill
    // The whole group's KV from admission: the prompt's 6 full blocks
    // once, each sample's copy of the 7th filled with its 5 tokens.
    EXPECT_EQ(stepwise.scheduler.usage().peak_kv_blocks, 6 + 1 + 1);
    EXPECT_EQ(stepwise.scheduler.used_blocks(), 0);
  }
}

TEST(BatchSchedulerTest, ASampleGroupIsAdmittedOnlyWhenItsWholeKvFits) {
  // 7 blocks hold the prompt but not both samples' copies of its last one.
  PoolSpec pool = SamplingPool();
  pool.kv_capacity_blocks = 7;
  Harness h(pool);
  h.scheduler.Enqueue(SampledRequest(true));
  ASSERT_EQ(h.done.size(), 1u);
  EXPECT_TRUE(h.done[0]->rejected);
  // Two groups fit 16 blocks but not three: the third waits for the first.
  pool.kv_capacity_blocks = 16;
  Harness two(pool);
  for (int i = 0; i < 3; ++i) two.scheduler.Enqueue(SampledRequest(false));
  double seconds;
  ASSERT_TRUE(two.scheduler.PlanIteration(0, &seconds));
  EXPECT_EQ(two.scheduler.planned_shape().prefill_requests, 2);
  EXPECT_EQ(two.scheduler.used_blocks(), 16);
}

TEST(BatchSchedulerTest, AFinishedSampleFreesItsSlotAndItsKv) {
  // Batches of 3 sequences, 2 samples a request, one round: request 0's
  // sample 0 has 2 tokens, its sample 1 6; request 1 waits for a slot
  // until request 0's sample 0 finishes (one decode step), not for the
  // whole request. That sample's own block (the copy of the prompt's last
  // one) is freed with it.
  PoolSpec pool = SamplingPool();
  pool.max_batch_size = 3;
  TestTimeScalingSpec spec;
  spec.samples = 2;
  Harness h(pool);
  for (int id = 0; id < 2; ++id) {
    LiveRequestPtr request = Req(id, 100, 8);
    request->samples =
        std::make_unique<SampleGroup>(spec, std::vector<int32_t>{2, 6});
    h.scheduler.Enqueue(std::move(request));
  }
  double now = 0, seconds;
  ASSERT_TRUE(h.scheduler.PlanIteration(now, &seconds));
  EXPECT_EQ(h.scheduler.planned_shape().prefill_requests, 1);
  h.scheduler.FinishIteration(now += seconds);
  EXPECT_EQ(h.scheduler.used_blocks(), 6 + 1 + 1);
  ASSERT_TRUE(h.scheduler.PlanIteration(now, &seconds));
  EXPECT_EQ(h.scheduler.planned_shape().decode_requests, 2);
  h.scheduler.FinishIteration(now += seconds);
  EXPECT_EQ(h.scheduler.used_blocks(), 6 + 1);
  ASSERT_TRUE(h.scheduler.PlanIteration(now, &seconds));
  EXPECT_EQ(h.scheduler.planned_shape().prefill_requests, 1);
  h.scheduler.FinishIteration(now += seconds);
  h.RunToIdle(now);
  ASSERT_EQ(h.done.size(), 2u);
  EXPECT_EQ(h.done[0]->id, 0);
  EXPECT_LT(h.done[1]->first_token_s, h.done[0]->last_token_s);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
}

// Prefix caching, worked out by hand with the affine latency model (10 ms +
// 10 us per prompt token computed): cached blocks skip prefill compute but
// hold KV, are evicted before anything is preempted, and a prompt always
// computes its last token. 16-token KV blocks, 64-token prefix blocks: 4 KV
// blocks per cache entry.
constexpr int kPrefixTokens = 64;

PoolSpec CachingPool(int64_t kv_blocks) {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, kv_blocks, 8192);
  pool.prefix_block_tokens = kPrefixTokens;
  return pool;
}

LiveRequestPtr Prompt(int64_t id, int32_t input, int32_t output,
                      std::vector<uint64_t> hashes) {
  LiveRequestPtr request = Req(id, input, output);
  request->prefix_hashes = std::move(hashes);
  return request;
}

// Serves `request` alone from time `now` to completion; returns the time
// of its first (prefill) iteration.
double Serve(Harness* h, LiveRequestPtr request, double now) {
  h->scheduler.Enqueue(std::move(request));
  double seconds = 0;
  if (!h->scheduler.PlanIteration(now, &seconds)) return -1;
  h->scheduler.FinishIteration(now + seconds);
  h->RunToIdle(now + seconds);
  return seconds;
}

TEST(BatchSchedulerTest,
     PrefixCachingSecondPromptComputesOnlyWhatItDoesNotShare) {
  Harness h(CachingPool(1000));
  // A: 300 tokens, 4 full blocks (hashes 1-4) and a partial fifth.
  double first = Serve(&h, Prompt(0, 300, 2, {1, 2, 3, 4, 5}), 0);
  EXPECT_DOUBLE_EQ(first, 0.010 + 1e-5 * 300);
  // A completed: its 4 full blocks stay cached (16 KV blocks), evictable,
  // so they count as free.
  ASSERT_NE(h.scheduler.prefix_cache(), nullptr);
  EXPECT_EQ(h.scheduler.prefix_cache()->kv_blocks(), 16);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
  EXPECT_EQ(h.scheduler.free_blocks(), 1000);
  // B: 400 tokens sharing k = 3 blocks (192 tokens) with A: its prefill
  // computes the other 208.
  LiveRequestPtr b = Prompt(1, 400, 2, {1, 2, 3, 9, 10, 11, 12});
  EXPECT_EQ(h.scheduler.CachedPrefixTokens(*b), 192);
  first = Serve(&h, std::move(b), 1);
  EXPECT_DOUBLE_EQ(first, 0.010 + 1e-5 * (400 - 3 * kPrefixTokens));
  const InstanceUsage& usage = h.scheduler.usage();
  EXPECT_EQ(usage.prefix_prompt_tokens, 700);
  EXPECT_EQ(usage.prefix_cached_tokens, 192);
  // B's own 6 full blocks: 1-3 were cached, 9, 10, 11 join them.
  EXPECT_EQ(h.scheduler.prefix_cache()->kv_blocks(), (4 + 3) * 4);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
  ASSERT_EQ(h.done.size(), 2u);
  EXPECT_EQ(h.done[1]->generated, 2);
}

TEST(BatchSchedulerTest,
     PrefixCachingRunningPromptHoldsSharedBlocksOnceAndItsOwnRest) {
  Harness h(CachingPool(1000));
  Serve(&h, Prompt(0, 256, 1, {1, 2, 3, 4}), 0);
  h.scheduler.Enqueue(Prompt(1, 400, 5, {1, 2, 9}));
  double seconds = 0;
  ASSERT_TRUE(h.scheduler.PlanIteration(1, &seconds));
  EXPECT_DOUBLE_EQ(seconds, 0.010 + 1e-5 * (400 - 2 * kPrefixTokens));
  h.scheduler.FinishIteration(1 + seconds);
  // 400 tokens = 25 KV blocks: 8 in cached entries 1 and 2, 17 its own, of
  // which entry 9 (4 blocks) was just given to the cache; entries 3 and 4
  // are cached and unpinned.
  EXPECT_EQ(h.scheduler.prefix_cache()->kv_blocks(), 5 * 4);
  EXPECT_EQ(h.scheduler.prefix_cache()->evictable_kv_blocks(), 2 * 4);
  EXPECT_EQ(h.scheduler.used_blocks(), 25);
  EXPECT_EQ(h.scheduler.free_blocks(), 1000 - 25);
}

TEST(BatchSchedulerTest,
     PrefixCachingAWhollyCachedPromptStillComputesItsLastBlock) {
  Harness h(CachingPool(1000));
  Serve(&h, Prompt(0, 128, 1, {1, 2}), 0);
  LiveRequestPtr again = Prompt(1, 128, 1, {1, 2});
  // Its logits need the last token computed: one block is reused, not two.
  EXPECT_EQ(h.scheduler.CachedPrefixTokens(*again), kPrefixTokens);
  double first = Serve(&h, std::move(again), 1);
  EXPECT_DOUBLE_EQ(first, 0.010 + 1e-5 * kPrefixTokens);
}

// Disaggregated: a prefill instance caches the prompt's full blocks; when
// the KV transfer ends, ReleaseTransferred frees the request's own blocks
// and unpins its prefix, which stays cached and evictable here, and the
// request leaves with nothing of this cache pinned.
TEST(BatchSchedulerTest,
     PrefixCachingPrefillInstanceKeepsThePrefixAfterItsTransfer) {
  PoolSpec pool = CachingPool(1000);
  pool.role = v1::POOL_ROLE_PREFILL;
  std::vector<LiveRequestPtr> handed_off;
  AffineLatency latency;
  BatchScheduler scheduler(
      pool, &latency,
      SchedulerHooks{
          [&](LiveRequestPtr r) { handed_off.push_back(std::move(r)); },
          [](LiveRequestPtr) {}, [](double, int64_t) {}});
  scheduler.Enqueue(Prompt(0, 300, 50, {1, 2, 3, 4, 5}));  // 19 KV blocks
  double seconds = 0;
  ASSERT_TRUE(scheduler.PlanIteration(0, &seconds));
  scheduler.FinishIteration(seconds);
  ASSERT_EQ(handed_off.size(), 1u);
  LiveRequest& a = *handed_off[0];
  // 4 full blocks (16 KV blocks) went to the cache, pinned by the request;
  // its own: the partial fifth (3 KV blocks).
  EXPECT_EQ(a.kv_blocks, 3);
  EXPECT_EQ(scheduler.used_blocks(), 19);
  EXPECT_EQ(scheduler.prefix_cache()->evictable_kv_blocks(), 0);
  scheduler.ReleaseTransferred(&a, a.kv_blocks);
  EXPECT_EQ(a.pinned_prefix_blocks, 0);
  EXPECT_EQ(a.shared_kv_blocks, 0);
  EXPECT_EQ(scheduler.prefix_cache()->kv_blocks(), 16);
  EXPECT_EQ(scheduler.prefix_cache()->evictable_kv_blocks(), 16);
  EXPECT_EQ(scheduler.used_blocks(), 0);  // cached entries count as free
  // The next prompt sharing the prefix computes only the rest.
  LiveRequestPtr b = Prompt(1, 400, 2, {1, 2, 3, 9, 10, 11, 12});
  EXPECT_EQ(scheduler.CachedPrefixTokens(*b), 3 * kPrefixTokens);
}

TEST(BatchSchedulerTest,
     PrefixCachingCachedBlocksAreEvictedForRoomInsteadOfPreempting) {
  // 40 KV blocks (640 tokens). A leaves 5 entries (20 blocks) cached.
  Harness h(CachingPool(40));
  Serve(&h, Prompt(0, 320, 1, {1, 2, 3, 4, 5}), 0);
  EXPECT_EQ(h.scheduler.prefix_cache()->kv_blocks(), 20);
  // B shares nothing and needs 38 blocks: 18 more than unused, so all
  // 5 entries go (whole entries of 4 blocks).
  Serve(&h, Prompt(1, 600, 1, {20, 21, 22, 23, 24, 25, 26, 27, 28, 29}), 1);
  const InstanceUsage& usage = h.scheduler.usage();
  EXPECT_EQ(usage.prefix_evicted_blocks, 5);
  EXPECT_EQ(usage.preemptions, 0);
  EXPECT_EQ(h.scheduler.prefix_cache()->MatchLength({1}, 1), 0);
  // B's 9 full blocks are cached now (36 of the 40 KV blocks).
  EXPECT_EQ(h.scheduler.prefix_cache()->kv_blocks(), 36);
  EXPECT_EQ(h.done.size(), 2u);
}

TEST(BatchSchedulerTest,
     PrefixCachingWithoutHashesOrWithoutTheOptionNothingIsCached) {
  Harness off(Pool(v1::BATCHING_POLICY_VLLM, 1000, 8192));
  EXPECT_EQ(off.scheduler.prefix_cache(), nullptr);
  Serve(&off, Prompt(0, 300, 1, {1, 2, 3, 4}), 0);
  EXPECT_DOUBLE_EQ(Serve(&off, Prompt(1, 300, 1, {1, 2, 3, 4}), 1),
                   0.010 + 1e-5 * 300);
  Harness no_hashes(CachingPool(1000));
  Serve(&no_hashes, Prompt(0, 300, 1, {}), 0);
  EXPECT_EQ(no_hashes.scheduler.prefix_cache()->kv_blocks(), 0);
  EXPECT_EQ(no_hashes.scheduler.usage().prefix_cached_tokens, 0);
  EXPECT_EQ(no_hashes.scheduler.usage().prefix_prompt_tokens, 300);
}

// A pool of 10 KV blocks of 16 tokens serving a 64-token canvas at one
// step per block of 32: every pass is a refresh.
PoolSpec DiffusionPool(v1::DiffusionCache cache) {
  PoolSpec pool = Pool(v1::BATCHING_POLICY_VLLM, 10);
  pool.diffusion = testutil::TestDiffusionSpec(cache, /*tokens_per_step=*/32);
  return pool;
}

// Two requests of a 36-token prompt and a 64-token answer, run to the end
// (a pass alone: 10 ms + 100 tokens x 10 us); returns the end.
double RunTwoDiffusionRequests(Harness* h) {
  h->scheduler.Enqueue(Req(0, 36, 64));
  h->scheduler.Enqueue(Req(1, 36, 64));
  double end = h->RunToIdle();
  EXPECT_EQ(h->done.size(), 2u);
  return end;
}

TEST(BatchSchedulerTest, DiffusionRequestsHoldTheirWholeCacheFromAdmission) {
  // Dual cache: 100 tokens of K/V (7 blocks) each, so one at a time.
  Harness h(DiffusionPool(v1::DIFFUSION_CACHE_DUAL));
  EXPECT_NEAR(RunTwoDiffusionRequests(&h), 0.044, 1e-12);
  ASSERT_EQ(h.done.size(), 2u);
  EXPECT_NEAR(h.done[0]->first_token_s, 0.011, 1e-12);  // block 1 done
  EXPECT_NEAR(h.done[0]->last_token_s, 0.022, 1e-12);
  EXPECT_NEAR(h.done[1]->first_scheduled_s, 0.022, 1e-12);
  EXPECT_NEAR(h.done[1]->last_token_s, 0.044, 1e-12);
  EXPECT_EQ(h.done[1]->generated, 64);
  EXPECT_EQ(h.scheduler.usage().peak_kv_blocks, 7);
  EXPECT_EQ(h.scheduler.used_blocks(), 0);
}

TEST(BatchSchedulerTest, VanillaDiffusionKeepsNoCacheAndBatchesThePasses) {
  Harness h(DiffusionPool(v1::DIFFUSION_CACHE_NONE));
  // Both at once: 10 ms + 200 tokens x 10 us per pass, two passes.
  EXPECT_NEAR(RunTwoDiffusionRequests(&h), 0.024, 1e-12);
  EXPECT_EQ(h.scheduler.usage().peak_kv_blocks, 0);
}

TEST(BatchSchedulerTest, DiffusionRefusesPromptAndCanvasPastMaxContext) {
  Harness h(DiffusionPool(v1::DIFFUSION_CACHE_NONE));
  h.scheduler.Enqueue(Req(0, 4040, 64));  // 4,104 > 4,096
  h.scheduler.Enqueue(Req(1, 36, 65));    // an answer past the canvas
  ASSERT_EQ(h.done.size(), 2u);
  EXPECT_TRUE(h.done[0]->rejected);
  EXPECT_TRUE(h.done[1]->rejected);
}

}  // namespace
}  // namespace fleetsim::sim
