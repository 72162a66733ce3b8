// Tests for planner/plan_request_checks.h.

#include "planner/plan_request_checks.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

using ::testing::HasSubstr;

// The request's ranges include the cluster's, SLO's and workload's, so this
// checks those four lists' names too.
TEST(PlanRequestChecksTest, EveryRangeNamesAField) {
  EXPECT_TRUE(CheckRangeNames(PlanRequestRanges()).ok())
      << CheckRangeNames(PlanRequestRanges());
}

TEST(PlanRequestChecksTest, ARangeIsNamedInTheError) {
  v1::PlanRequest request;
  request.set_budget_machines(-3);
  const absl::Status status = ValidatePlanRequest(request, "request");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("budget_machines"));
}

}  // namespace
}  // namespace fleetsim::planner
