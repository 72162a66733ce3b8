// Tests for the norm and elementwise efficiency fits
// (hardware/calibration/efficiency_fit.h FitClass, FitOperator) and the
// wave, per-row and cache terms they fit.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/calibration/calibration_rows.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using calibration_test::Elementwise;
using calibration_test::Synthetic;
using testutil::H100;

TEST(ElementwiseFitTest, FitOperatorRecoversWaveRowAndCacheTerms) {
  v1::OperatorEfficiency truth;
  truth.set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  truth.set_op_name("mlp_act");
  truth.set_memory(0.7);
  truth.set_floor_us(2);
  truth.set_memory_ramp_mb(1.5);
  truth.set_cache_speedup(1.3);
  truth.set_cache_fraction(0.3);
  truth.set_rows_per_unit(2);
  truth.set_row_overhead_kb(5);
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok()) << generator.status();
  std::vector<v1::CalibrationRow> rows;
  for (int64_t width : {1376, 3584, 7168, 14336, 28672}) {
    for (int64_t t : {1, 8, 64, 200, 264, 265, 400, 700, 1024, 2048, 4096}) {
      rows.push_back(Elementwise("mlp_act", v1::OPERATOR_CLASS_ELEMENTWISE, t,
                                 width, "m"));
    }
  }
  rows = Synthetic(*generator, rows, {});
  absl::StatusOr<ClassFit> fit =
      FitOperator(H100(), v1::OPERATOR_CLASS_ELEMENTWISE, "mlp_act", rows);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->op_name, "mlp_act");
  EXPECT_EQ(fit->efficiency.op_name(), "mlp_act");
  EXPECT_DOUBLE_EQ(fit->efficiency.rows_per_unit(), 2);
  EXPECT_NEAR(fit->efficiency.memory(), 0.7, 0.03);
  EXPECT_NEAR(fit->efficiency.row_overhead_kb(), 5, 1);
  EXPECT_LT(fit->in_sample.p90_ape, 0.02);
  // Not a named operator: no per-operator fit.
  EXPECT_EQ(
      FitOperator(H100(), v1::OPERATOR_CLASS_ELEMENTWISE, "sampling", rows)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ElementwiseFitTest, NormRowsStepPerWaveOfComputeUnits) {
  v1::OperatorEfficiency norm;
  norm.set_op(v1::OPERATOR_CLASS_NORM);
  norm.set_floor_us(0.1);
  norm.set_rows_per_unit(2);
  norm.set_cache_speedup(1);  // no cache term
  v1::Chip chip = WithEfficiency(H100(), norm);
  auto pricer = OperatorPricer::Create(chip);
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  auto seconds = [&](int64_t tokens) {
    return pricer->Seconds(*QueryFromRow(
        Elementwise("rmsnorm", v1::OPERATOR_CLASS_NORM, tokens, 8192, "m")));
  };
  // 2 rows x 132 SMs per wave: flat within a wave (up to the vector
  // FLOPs of the rows actually there), a step after it.
  EXPECT_NEAR(seconds(1), seconds(264), 0.01 * seconds(264));
  EXPECT_GT(seconds(265), 1.5 * seconds(264));
  EXPECT_NEAR(seconds(265), seconds(528), 0.01 * seconds(528));
  // Without compute_units there is no wave term.
  chip.clear_compute_units();
  auto flat = OperatorPricer::Create(chip);
  ASSERT_TRUE(flat.ok());
  EXPECT_LT(flat->Seconds(*QueryFromRow(
                Elementwise("rmsnorm", v1::OPERATOR_CLASS_NORM, 1, 8192, "m"))),
            flat->Seconds(*QueryFromRow(Elementwise(
                "rmsnorm", v1::OPERATOR_CLASS_NORM, 264, 8192, "m"))));
}

// A norm fit carries its single-wave time to a width it was not fitted on,
// and fits no floor, which would pin narrow widths to the training widths'
// shortest time (the H100 Llama-2-7B fold, docs/calibration.md §4.1).
TEST(ElementwiseFitTest, NormFitPredictsAnUnseenWidth) {
  v1::OperatorEfficiency truth;
  truth.set_op(v1::OPERATOR_CLASS_NORM);
  truth.set_memory(0.45);
  truth.set_memory_ramp_mb(1);
  truth.set_floor_us(0);
  truth.set_rows_per_unit(2);
  truth.set_row_overhead_kb(4);
  truth.set_cache_speedup(1);
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok()) << generator.status();
  auto sweep = [](int64_t width, const std::string& model) {
    std::vector<v1::CalibrationRow> rows;
    for (int64_t t : {1, 16, 64, 128, 256, 300, 528, 1024, 2048, 4096})
      rows.push_back(
          Elementwise("rmsnorm", v1::OPERATOR_CLASS_NORM, t, width, model));
    return rows;
  };
  std::vector<v1::CalibrationRow> train = sweep(8192, "wide");
  for (const v1::CalibrationRow& r : sweep(2048, "narrow")) train.push_back(r);
  train = Synthetic(*generator, train, {});
  const std::vector<v1::CalibrationRow> held_out =
      Synthetic(*generator, sweep(4096, "held-out"), {});
  absl::StatusOr<ClassFit> fit =
      FitClass(H100(), v1::OPERATOR_CLASS_NORM, train);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->efficiency.floor_us(), 0);
  auto fitted = OperatorPricer::Create(WithEfficiency(H100(), fit->efficiency));
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  absl::StatusOr<std::vector<double>> errors = RowErrors(*fitted, held_out);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_LT(std::abs((*errors)[0]), 0.05);  // one token: a single wave
  EXPECT_LT(SummariseErrors(*errors).p90_ape, 0.05);
}

TEST(ElementwiseFitTest, CacheResidentWorkingSetsRunFaster) {
  v1::OperatorEfficiency add;
  add.set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  add.set_op_name("residual_add");
  add.set_floor_us(0);
  add.set_memory_ramp_mb(0);
  add.set_row_overhead_kb(0);
  add.set_rows_per_unit(0);
  add.set_cache_speedup(1.5);
  add.set_cache_fraction(0.5);  // W0 = 42 MB on H100 (84 MB sram)
  auto pricer = OperatorPricer::Create(WithEfficiency(H100(), add));
  ASSERT_TRUE(pricer.ok());
  auto per_byte = [&](int64_t tokens) {
    v1::CalibrationRow r = Elementwise(
        "residual_add", v1::OPERATOR_CLASS_ELEMENTWISE, tokens, 8192, "m");
    return pricer->Seconds(*QueryFromRow(r)) / (6.0 * tokens * 8192);
  };
  // 6 bytes per element: 64 tokens = 3 MB (in cache), 8192 = 403 MB.
  EXPECT_NEAR(per_byte(8192) / per_byte(64), 1.5, 0.01);
}

}  // namespace
}  // namespace fleetsim::hardware
