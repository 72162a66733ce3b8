// Tests for hardware/calibration/calibration_eval.h (prediction errors of a
// table). The `fleetsim calibrate eval` CLI is tested in
// tests/cli/calibrate_command_test.cc.
#include "hardware/calibration/calibration_eval.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/calibration/calibration_rows.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using calibration_test::Gemm;
using calibration_test::Synthetic;
using ::testing::HasSubstr;
using testutil::H100;

TEST(CalibrationEvalTest, EvalReportsKnownErrorsAndSplitsFastRows) {
  auto pricer = OperatorPricer::Create(H100());
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  // Ten large GEMMs with errors 1..10 % (alternating sign): median 5.5 %,
  // p90 9.1 % (linear interpolation); one tiny GEMM below 10 us, 50 % off.
  std::vector<v1::CalibrationRow> rows;
  std::vector<double> errors;
  for (int i = 1; i <= 10; ++i) {
    rows.push_back(Gemm(1024 * i, 8192, 8192, "a"));
    errors.push_back((i % 2 ? 1 : -1) * i / 100.0);
  }
  rows = Synthetic(*pricer, rows, errors);
  v1::CalibrationRow tiny =
      Synthetic(*pricer, {Gemm(1, 4096, 64, "a")}, {0.5})[0];
  ASSERT_LT(tiny.median_s(), kFastRowSeconds);
  rows.push_back(tiny);
  absl::StatusOr<EvalReport> report = EvaluateRows(*pricer, rows);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->overall.rows.rows, 10);
  EXPECT_NEAR(report->overall.rows.median_ape, 0.055, 1e-9);
  EXPECT_NEAR(report->overall.rows.p90_ape, 0.091, 1e-9);
  EXPECT_EQ(report->overall.fast.rows, 1);
  EXPECT_NEAR(report->overall.fast.median_ape, 0.5, 1e-9);
  ASSERT_EQ(report->by_class.size(), 1u);
  EXPECT_EQ(report->by_class[0].name, "gemm");
  ASSERT_EQ(report->by_op.size(), 1u);
  EXPECT_EQ(report->by_op[0].name, "qkv_proj");
}

TEST(CalibrationEvalTest, EvalRejectsUnpriceableRows) {
  auto pricer = OperatorPricer::Create(H100());
  ASSERT_TRUE(pricer.ok());
  v1::CalibrationRow r;
  r.set_op("scan");
  r.set_op_class(v1::OPERATOR_CLASS_SSM);
  r.set_median_s(1e-3);
  absl::StatusOr<EvalReport> report = EvaluateRows(*pricer, {r});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("row 1"));
}

}  // namespace
}  // namespace fleetsim::hardware
