// Tests for hardware/calibration/cross_validation.h (leave-one-group-out
// cross-validation of the efficiency fit).
#include "hardware/calibration/cross_validation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/calibration/calibration_rows.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using calibration_test::AttentionSweep;
using calibration_test::Elementwise;
using calibration_test::GemmSweep;
using calibration_test::Synthetic;
using testutil::H100;

TEST(CrossValidationTest, LeaveOneModelOutHoldsOutEachModel) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<v1::CalibrationRow> rows;
  for (const v1::CalibrationRow& r : GemmSweep("model-a", 4096, 4096))
    rows.push_back(r);
  for (const v1::CalibrationRow& r : GemmSweep("model-b", 12288, 4096))
    rows.push_back(r);
  for (const v1::CalibrationRow& r : GemmSweep("model-c", 8192, 28672))
    rows.push_back(r);
  rows = Synthetic(*generator, rows, {0.02, -0.02});
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), v1::OPERATOR_CLASS_GEMM, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->grouping, "model");
  ASSERT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->groups[0].group, "model-a");
  EXPECT_EQ(cv->pooled.rows, 30);
  // The generating curves are the model's own: held-out error stays near
  // the +-2 % noise.
  EXPECT_LT(cv->pooled.median_ape, 0.05);
}

// One GEMM table (one framework's kernels, no model): octaves of the token
// rows m are held out, so each fold predicts GEMM sizes it has not seen.
TEST(CrossValidationTest, OneGemmTableHoldsOutOctavesOfM) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<v1::CalibrationRow> rows;
  for (const v1::CalibrationRow& r : GemmSweep("only", 4096, 4096))
    rows.push_back(r);
  for (const v1::CalibrationRow& r : GemmSweep("only", 8192, 28672))
    rows.push_back(r);
  absl::StatusOr<CvResult> cv = CrossValidateClass(
      H100(), v1::OPERATOR_CLASS_GEMM, Synthetic(*generator, rows, {}));
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->grouping, "m octave");
  // m = 1, 4, 16, 64, 128, ..., 4096: ten octaves, two rows each.
  ASSERT_EQ(cv->groups.size(), 10u);
  EXPECT_EQ(cv->groups[0].group, "m 1-1");
  EXPECT_EQ(cv->pooled.rows, 20);
}

TEST(CrossValidationTest, ElementwiseCrossValidationRefitsEachOperator) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<v1::CalibrationRow> rows;
  for (const char* model : {"a", "b", "c"}) {
    const int64_t width = model[0] == 'a'   ? 4096
                          : model[0] == 'b' ? 5120
                                            : 8192;
    for (int64_t t : {16, 128, 512, 1024, 4096}) {
      rows.push_back(Elementwise("residual_add", v1::OPERATOR_CLASS_ELEMENTWISE,
                                 t, width, model));
      rows.push_back(Elementwise("mlp_act", v1::OPERATOR_CLASS_ELEMENTWISE, t,
                                 width * 3, model));
    }
  }
  rows = Synthetic(*generator, rows, {0.01, -0.01});
  absl::StatusOr<std::vector<ClassFit>> fits =
      FitClassAndOperators(H100(), v1::OPERATOR_CLASS_ELEMENTWISE, rows);
  ASSERT_TRUE(fits.ok()) << fits.status();
  ASSERT_EQ(fits->size(), 3u);  // class, mlp_act, residual_add
  EXPECT_TRUE((*fits)[0].op_name.empty());
  EXPECT_EQ((*fits)[1].op_name, "mlp_act");
  EXPECT_EQ((*fits)[2].op_name, "residual_add");
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), v1::OPERATOR_CLASS_ELEMENTWISE, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->pooled.rows, 30);
  EXPECT_LT(cv->pooled.median_ape, 0.05);
}

TEST(CrossValidationTest, CrossValidationHoldsOutEachFramework) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<v1::CalibrationRow> rows;
  for (const std::string fw : {"trtllm", "vllm", "sglang"}) {
    for (const v1::CalibrationRow& r :
         AttentionSweep(v1::OPERATOR_CLASS_ATTENTION_DECODE, fw))
      rows.push_back(r);
  }
  rows = Synthetic(*generator, rows, {0.02, -0.02});
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), v1::OPERATOR_CLASS_ATTENTION_DECODE, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->grouping, "framework");
  ASSERT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->groups[0].group, "sglang");
  EXPECT_LT(cv->pooled.median_ape, 0.05);
}

}  // namespace
}  // namespace fleetsim::hardware
