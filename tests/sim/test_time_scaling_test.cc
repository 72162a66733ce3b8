#include "sim/test_time_scaling.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

TestTimeScalingSpec Spec(int samples, int rounds, bool synchronous,
                         double spread = kDefaultLengthSpread,
                         bool score = false) {
  TestTimeScalingSpec spec;
  spec.samples = samples;
  spec.rounds = rounds;
  spec.synchronous = synchronous;
  spec.length_spread = spread;
  spec.score_between_rounds = score;
  return spec;
}

TEST(TestTimeScalingTest, ThePromptsFullBlocksAreCountedOnce) {
  // 100 prompt tokens in 16-token blocks: 6 full blocks, shared, and 4
  // tokens in a seventh that each sample copies and fills with its own.
  // Sample of 20 tokens: (4 + 20) -> 2 blocks; of 40: (4 + 40) -> 3.
  const std::vector<int64_t> two = {20, 40};
  EXPECT_EQ(SampleGroupKvBlocks(100, two, 16), 6 + 2 + 3);
  // Counted per sample instead, the prompt would be held twice:
  // ceil(120 / 16) + ceil(140 / 16) = 8 + 9.
  EXPECT_LT(SampleGroupKvBlocks(100, two, 16), 8 + 9);
  // One sample holds what a plain request does: ceil((100 + 20) / 16).
  const std::vector<int64_t> one = {20};
  EXPECT_EQ(SampleGroupKvBlocks(100, one, 16), 8);
  // A prompt of whole blocks is shared entirely.
  const std::vector<int64_t> four = {16, 16, 16, 16};
  EXPECT_EQ(SampleGroupKvBlocks(64, four, 16), 4 + 4);
}

TEST(TestTimeScalingTest, DrawsAreDeterministicPerRequest) {
  TestTimeScalingSpec spec = Spec(8, 4, true);
  std::vector<int32_t> a = DrawRoundTokens(spec, 1, 7, 1000);
  EXPECT_EQ(a, DrawRoundTokens(spec, 1, 7, 1000));
  EXPECT_NE(a, DrawRoundTokens(spec, 1, 8, 1000));
  EXPECT_NE(a, DrawRoundTokens(spec, 2, 7, 1000));
  ASSERT_EQ(a.size(), 32u);
  for (int32_t tokens : a) EXPECT_GE(tokens, 1);
  // No spread: the output split evenly over the rounds.
  EXPECT_THAT(DrawRoundTokens(Spec(3, 4, true, 0), 1, 7, 1000),
              ::testing::Each(250));
}

TEST(TestTimeScalingTest, TheSpreadKeepsTheMeanLength) {
  // The factor is a mean-one log-normal: over many draws each round's mean
  // stays the even split (250), while single draws spread widely.
  TestTimeScalingSpec spec = Spec(64, 4, false, 0.5);
  double sum = 0;
  int32_t low = 1 << 30, high = 0;
  int cells = 0;
  for (int64_t id = 0; id < 200; ++id) {
    for (int32_t tokens : DrawRoundTokens(spec, 3, id, 1000)) {
      sum += tokens;
      low = std::min(low, tokens);
      high = std::max(high, tokens);
      ++cells;
    }
  }
  EXPECT_NEAR(sum / cells, 250, 5);
  EXPECT_LT(low, 125);
  EXPECT_GT(high, 500);
}

// Decode steps until every sample has all its tokens.
int StepsToFinish(SampleGroup group) {
  group.StartDecoding();
  int steps = 0;
  while (group.RunningSamples() > 0) {
    group.Step();
    ++steps;
  }
  return steps;
}

TEST(TestTimeScalingTest, SynchronousRoundsWaitForTheSlowestSample) {
  // Two samples, two rounds: sample 0 generates 3 then 2 tokens, sample 1
  // 1 then 4; the prefill samples each one's first token. Synchronous:
  // round 0 takes max(3, 1) - 1 = 2 steps, round 1 max(2, 4) = 4 steps.
  // Asynchronous: each sample's 5 tokens, the first from the prefill: 4.
  const std::vector<int32_t> rounds = {3, 2, 1, 4};
  SampleGroup sync(Spec(2, 2, true), rounds);
  SampleGroup async(Spec(2, 2, false), rounds);
  EXPECT_EQ(sync.TotalTokens(), 10);
  EXPECT_EQ(StepsToFinish(sync), 6);
  EXPECT_EQ(StepsToFinish(async), 4);

  sync.StartDecoding();
  EXPECT_EQ(sync.RunningSamples(), 1);  // sample 1 waits at the barrier
  EXPECT_EQ(sync.StepsUntilChange(), 2);
  EXPECT_EQ(sync.Step(), 1);
  EXPECT_EQ(sync.Step(), 1);
  EXPECT_EQ(sync.RunningSamples(), 2);  // round 1 opened
  EXPECT_EQ(sync.StepsUntilChange(), 2);
}

TEST(TestTimeScalingTest, ASampleIsCutAtTheContextLimitRoundByRound) {
  // Three samples of three rounds and room for 7 tokens each: sample 0
  // (5 + 4 + 3 = 12) keeps round 0, 2 of round 1 and nothing of round 2;
  // sample 1 (6) fits as it is; sample 2 (10 + 1 + 1) stops at 7 in round 0.
  std::vector<int32_t> rounds = {5, 4, 3, 2, 2, 2, 10, 1, 1};
  EXPECT_EQ(SamplesOverRoom(3, 7, rounds), 2);
  EXPECT_EQ(SamplesOverRoom(3, 12, rounds), 0);
  CapSampleTokens(3, 7, &rounds);
  EXPECT_EQ(rounds, (std::vector<int32_t>{5, 2, 0, 2, 2, 2, 7, 0, 0}));
  EXPECT_EQ(SamplesOverRoom(3, 7, rounds), 0);
  // No room left (a prompt at max_context): the prefill's token only.
  std::vector<int32_t> none = {5, 4, 3};
  CapSampleTokens(3, 0, &none);
  EXPECT_EQ(none, (std::vector<int32_t>{1, 0, 0}));

  // The cut samples decode as drawn up to their cut. Synchronous: round 0
  // takes max(5, 2, 7) - 1 = 6 steps, round 1 max(2, 2, 0) = 2, round 2
  // max(0, 2, 0) = 2; asynchronous: the longest sample's 7 tokens, 6 steps.
  SampleGroup sync(Spec(3, 3, true), rounds);
  EXPECT_EQ(sync.TotalTokens(), 7 + 6 + 7);
  EXPECT_EQ(StepsToFinish(sync), 10);
  EXPECT_EQ(StepsToFinish(SampleGroup(Spec(3, 3, false), rounds)), 6);
  // Sample 2 is done after round 0 and frees its slot then.
  std::vector<int> finished;
  sync.StartDecoding(&finished);
  for (int step = 0; step < 6; ++step) sync.Step(&finished);
  EXPECT_EQ(finished, (std::vector<int>{2}));
  EXPECT_EQ(sync.UnfinishedSamples(), 2);
}

TEST(TestTimeScalingTest, SyncIsNeverFasterThanAsyncOnTheSameDraws) {
  for (double spread : {0.0, 0.25, 0.5, 1.0}) {
    for (int64_t id = 0; id < 50; ++id) {
      std::vector<int32_t> rounds =
          DrawRoundTokens(Spec(8, 4, true, spread), 11, id, 400);
      int sync = StepsToFinish(SampleGroup(Spec(8, 4, true, spread), rounds));
      int async = StepsToFinish(SampleGroup(Spec(8, 4, false, spread), rounds));
      EXPECT_GE(sync, async) << spread << " " << id;
      if (spread == 0) {
        EXPECT_EQ(sync, async);
      }
    }
  }
}

TEST(TestTimeScalingTest, ScoringHoldsASampleBetweenRounds) {
  // The two samples above (3 then 2 tokens; 1 then 4), scored between
  // their two rounds. Synchronous: after round 0's 2 steps both samples
  // await scoring of their round-0 tokens (3 and 1, over no tokens of
  // their own before them), and round 1 opens only once both are scored.
  const std::vector<int32_t> rounds = {3, 2, 1, 4};
  SampleGroup sync(Spec(2, 2, true, 0.5, /*score=*/true), rounds);
  sync.StartDecoding();
  EXPECT_EQ(sync.ScoringTokens(1), 0);  // waits for sample 0 first
  sync.Step();
  sync.Step();
  EXPECT_EQ(sync.RunningSamples(), 0);
  EXPECT_EQ(sync.ScoringTokens(0), 3);
  EXPECT_EQ(sync.ScoredTokens(0), 0);
  EXPECT_EQ(sync.ScoringTokens(1), 1);
  sync.Score(0, 2);  // in two chunks
  sync.Score(0, 1);
  EXPECT_EQ(sync.RunningSamples(), 0);  // sample 1 is not scored yet
  sync.Score(1, 1);
  EXPECT_EQ(sync.RunningSamples(), 2);
  EXPECT_EQ(sync.StepsUntilChange(), 2);
  // The last round is not scored: the samples finish with it.
  for (int step = 0; step < 4; ++step) sync.Step();
  EXPECT_EQ(sync.UnfinishedSamples(), 0);
  EXPECT_EQ(sync.ScoringTokens(0) + sync.ScoringTokens(1), 0);

  // Asynchronous: sample 1's one-token round 0 is scored at once while
  // sample 0 decodes on; each sample goes on when its own scoring is done.
  SampleGroup async(Spec(2, 2, false, 0.5, /*score=*/true), rounds);
  async.StartDecoding();
  EXPECT_EQ(async.RunningSamples(), 1);
  EXPECT_EQ(async.ScoringTokens(1), 1);
  async.Score(1, 1);
  EXPECT_EQ(async.RunningSamples(), 2);
  async.Step();
  async.Step();  // sample 0 ends round 0 at 3 tokens, sample 1 is at 3
  EXPECT_EQ(async.RunningSamples(), 1);
  EXPECT_EQ(async.ScoringTokens(0), 3);
  EXPECT_EQ(async.ScoredTokens(0), 0);
  EXPECT_EQ(async.ScoredTokens(1), 3);  // sample 1 runs on

  // A sample cut at max_context in round 0 is not scored: it is finished.
  SampleGroup cut(Spec(2, 2, true, 0.5, /*score=*/true), {2, 0, 2, 2});
  cut.StartDecoding();
  cut.Step();
  EXPECT_EQ(cut.ScoringTokens(0), 0);
  EXPECT_EQ(cut.ScoringTokens(1), 2);
  EXPECT_EQ(cut.UnfinishedSamples(), 1);
}

// Iterations until every sample of `group` has all its tokens, when each
// iteration decodes the running samples and scores in full the samples
// awaiting scoring at its start.
int IterationsToFinish(SampleGroup group) {
  group.StartDecoding();
  int iterations = 0;
  std::vector<int32_t> scoring(group.samples());
  while (group.UnfinishedSamples() > 0) {
    for (int s = 0; s < group.samples(); ++s)
      scoring[s] = group.ScoringTokens(s);
    group.Step();
    for (int s = 0; s < group.samples(); ++s) {
      if (scoring[s] > 0) group.Score(s, scoring[s]);
    }
    ++iterations;
  }
  return iterations;
}

TEST(TestTimeScalingTest, ScoringAddsAnIterationPerRoundAndSyncIsNeverFaster) {
  for (double spread : {0.0, 0.5, 1.0}) {
    for (int64_t id = 0; id < 50; ++id) {
      std::vector<int32_t> rounds =
          DrawRoundTokens(Spec(8, 4, true, spread), 11, id, 400);
      int plain = StepsToFinish(SampleGroup(Spec(8, 4, true, spread), rounds));
      int sync = IterationsToFinish(
          SampleGroup(Spec(8, 4, true, spread, true), rounds));
      int async = IterationsToFinish(
          SampleGroup(Spec(8, 4, false, spread, true), rounds));
      // Synchronous: the 3 scoring iterations between 4 rounds are added
      // to the decode steps, in which nothing else of the request runs.
      EXPECT_EQ(sync, plain + 3) << spread << " " << id;
      EXPECT_GE(sync, async) << spread << " " << id;
      if (spread == 0) {
        EXPECT_EQ(sync, async);
      }
    }
  }
}

}  // namespace
}  // namespace fleetsim::sim
