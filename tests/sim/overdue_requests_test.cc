// OverdueRequests: which requests in flight are certain TTFT/E2E misses.
#include "sim/overdue_requests.h"

#include <vector>

#include "gtest/gtest.h"
#include "util/histogram.h"

namespace fleetsim::sim {
namespace {

// One TTFT rule (target 0) and one E2E rule (target 1), absolute 1 s each.
OverdueRequests TtftAndE2e() {
  const double above = LogHistogram::FirstValueReportedAbove(1.0);
  return OverdueRequests(2, {{0, true, above, 1.0}, {1, false, above, 1.0}});
}

LiveRequest Arriving(int64_t id, double arrival_s) {
  LiveRequest request;
  request.id = id;
  request.arrival_s = arrival_s;
  return request;
}

TEST(OverdueRequestsTest,
     AWaitingRequestCountsOnceItsWaitReportsAboveTheLimit) {
  OverdueRequests overdue = TtftAndE2e();
  LiveRequest request = Arriving(1, 10);
  overdue.Watch(&request, {1, 1});
  overdue.AdvanceTo(11.0);  // exactly the limit: reported as the limit
  EXPECT_EQ(overdue.overdue(0), 0);
  EXPECT_EQ(overdue.overdue(1), 0);
  overdue.AdvanceTo(11.01);
  EXPECT_EQ(overdue.overdue(0), 1);
  EXPECT_EQ(overdue.overdue(1), 1);
  overdue.AdvanceTo(50);  // counted once
  EXPECT_EQ(overdue.overdue(0), 1);
  overdue.Finished(1);  // now an observed sample instead
  EXPECT_EQ(overdue.overdue(0), 0);
  EXPECT_EQ(overdue.overdue(1), 0);
}

TEST(OverdueRequestsTest, AFirstTokenInTimeIsNoTtftMissButMayBeAnE2eOne) {
  OverdueRequests overdue = TtftAndE2e();
  LiveRequest request = Arriving(1, 0);
  overdue.Watch(&request, {1, 1});
  request.prefill_done_s = request.first_token_s = 0.5;
  overdue.AdvanceTo(2);
  EXPECT_EQ(overdue.overdue(0), 0);
  EXPECT_EQ(overdue.overdue(1), 1);  // still decoding after 2 s
}

TEST(OverdueRequestsTest, APrefillDoneInTimeIsNeverCounted) {
  // Disaggregated with ttft_at_prefill_completion: the first token is dated
  // back to the end of the prefill once the KV transfer is done.
  OverdueRequests overdue = TtftAndE2e();
  LiveRequest request = Arriving(1, 0);
  overdue.Watch(&request, {1, 1});
  request.prefill_done_s = 0.9;
  overdue.AdvanceTo(3);
  EXPECT_EQ(overdue.overdue(0), 0);
  // Its deadline passed uncounted: a TTFT of 0.9 s, or one after the KV
  // transfer, is then counted when the request is observed, not here.
  overdue.AdvanceTo(30);
  EXPECT_EQ(overdue.overdue(0), 0);
}

TEST(OverdueRequestsTest, TargetsNoRuleWatchesReadZero) {
  // A TTFT target at index 1 between two per-token ones (0 and 2).
  const double above = LogHistogram::FirstValueReportedAbove(1.0);
  OverdueRequests overdue(3, {{1, true, above, 1.0}});
  LiveRequest request = Arriving(1, 0);
  overdue.Watch(&request, {1});
  overdue.AdvanceTo(5);
  EXPECT_EQ(overdue.overdue(0), 0);
  EXPECT_EQ(overdue.overdue(1), 1);
  EXPECT_EQ(overdue.overdue(2), 0);
}

TEST(OverdueRequestsTest, SlowdownDeadlinesScaleWithEachRequestsReference) {
  const double above = LogHistogram::FirstValueReportedAbove(3.0);
  OverdueRequests overdue(1, {{0, true, above, 3.0}});
  LiveRequest short_prompt = Arriving(1, 0), long_prompt = Arriving(2, 0);
  overdue.Watch(&short_prompt, {0.1});  // reference TTFT 0.1 s: due at 0.3 s
  overdue.Watch(&long_prompt, {1.0});   // 1 s: due at 3 s
  overdue.AdvanceTo(1);
  EXPECT_EQ(overdue.overdue(0), 1);
  overdue.AdvanceTo(3.1);
  EXPECT_EQ(overdue.overdue(0), 2);
}

TEST(OverdueRequestsTest, ARequestFinishedBeforeItsDeadlineIsNeverCounted) {
  OverdueRequests overdue = TtftAndE2e();
  LiveRequest request = Arriving(1, 0);
  overdue.Watch(&request, {1, 1});
  overdue.Finished(1);
  overdue.AdvanceTo(100);
  EXPECT_EQ(overdue.overdue(0), 0);
  EXPECT_EQ(overdue.overdue(1), 0);
}

}  // namespace
}  // namespace fleetsim::sim
