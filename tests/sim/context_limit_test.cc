// ApplyContextLimit on requests at, under and over a model's max_context,
// and the --context-limit words.
#include "sim/context_limit.h"

#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

using testutil::Req;

TEST(ContextLimitTest, RequestsWithinTheLimitAreUntouchedByEveryPolicy) {
  for (v1::ContextLimit policy :
       {v1::CONTEXT_LIMIT_UNSPECIFIED, v1::CONTEXT_LIMIT_REJECT,
        v1::CONTEXT_LIMIT_TRUNCATE, v1::CONTEXT_LIMIT_ALLOW}) {
    LiveRequestPtr r = Req(0, 8000, 192);  // exactly 8192
    ApplyContextLimit(policy, 8192, r.get());
    EXPECT_EQ(r->context_outcome, ContextOutcome::kWithin);
    EXPECT_FALSE(r->rejected);
    EXPECT_EQ(r->input_tokens, 8000);
    EXPECT_EQ(r->output_tokens, 192);
  }
}

TEST(ContextLimitTest, NoStatedLimitMeansNoLimit) {
  LiveRequestPtr r = Req(0, 100000, 100);
  ApplyContextLimit(v1::CONTEXT_LIMIT_REJECT, 0, r.get());
  EXPECT_EQ(r->context_outcome, ContextOutcome::kWithin);
  EXPECT_FALSE(r->rejected);
}

TEST(ContextLimitTest, RejectIsTheDefaultAndMarksTheRequestRejected) {
  for (v1::ContextLimit policy :
       {v1::CONTEXT_LIMIT_UNSPECIFIED, v1::CONTEXT_LIMIT_REJECT}) {
    LiveRequestPtr r = Req(0, 8000, 193);  // one token over
    ApplyContextLimit(policy, 8192, r.get());
    EXPECT_EQ(r->context_outcome, ContextOutcome::kRejected);
    EXPECT_TRUE(r->rejected);
    EXPECT_EQ(r->input_tokens, 8000);  // reported as it came
  }
}

TEST(ContextLimitTest, TruncateKeepsTheOutputAndCutsThePrompt) {
  LiveRequestPtr r = Req(0, 85000, 6);  // a Mooncake-sized prompt
  ApplyContextLimit(v1::CONTEXT_LIMIT_TRUNCATE, 8192, r.get());
  EXPECT_EQ(r->context_outcome, ContextOutcome::kTruncated);
  EXPECT_FALSE(r->rejected);
  EXPECT_EQ(r->input_tokens, 8186);
  EXPECT_EQ(r->output_tokens, 6);
  EXPECT_EQ(r->prefill_target, 8186);  // the prefill computes the cut prompt
}

TEST(ContextLimitTest, TruncateCapsAnOutputLongerThanTheContext) {
  LiveRequestPtr r = Req(0, 100, 10000);
  ApplyContextLimit(v1::CONTEXT_LIMIT_TRUNCATE, 4096, r.get());
  EXPECT_EQ(r->output_tokens, 4095);
  EXPECT_EQ(r->input_tokens, 1);
  EXPECT_EQ(r->input_tokens + r->output_tokens, 4096);
}

TEST(ContextLimitTest, AllowServesAsGivenButCountsIt) {
  LiveRequestPtr r = Req(0, 14050, 10);
  ApplyContextLimit(v1::CONTEXT_LIMIT_ALLOW, 2048, r.get());
  EXPECT_EQ(r->context_outcome, ContextOutcome::kServedOver);
  EXPECT_FALSE(r->rejected);
  EXPECT_EQ(r->input_tokens, 14050);
}

TEST(ContextLimitTest, WordsRoundTripAndUnknownOnesAreErrors) {
  for (v1::ContextLimit policy :
       {v1::CONTEXT_LIMIT_REJECT, v1::CONTEXT_LIMIT_TRUNCATE,
        v1::CONTEXT_LIMIT_ALLOW}) {
    absl::StatusOr<v1::ContextLimit> parsed =
        ParseContextLimit(ContextLimitWord(policy));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, policy);
  }
  absl::StatusOr<v1::ContextLimit> bad = ParseContextLimit("ignore");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("reject, truncate, allow"),
            std::string::npos);
}

}  // namespace
}  // namespace fleetsim::sim
