// Tests for hardware/calibration/efficiency_fit.h on GEMM and attention rows,
// and the chip efficiency entries a fit produces (fit_common.h
// WithEfficiency, their validation and resolution per framework).
#include "hardware/calibration/efficiency_fit.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_model.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/calibration/calibration_rows.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using calibration_test::AttentionRow;
using calibration_test::AttentionSweep;
using calibration_test::GemmSweep;
using calibration_test::Synthetic;
using ::testing::HasSubstr;
using testutil::H100;

// GEMM parameters to generate rows from (the M-tile term's
// tile_overhead_rows set by each test).
v1::OperatorEfficiency GemmTruth() {
  v1::OperatorEfficiency truth;
  truth.set_op(v1::OPERATOR_CLASS_GEMM);
  truth.set_compute(0.62);
  truth.set_memory(0.85);
  truth.set_memory_ramp_mb(8);
  truth.set_parallel_columns(300);
  truth.set_floor_us(5);
  truth.set_overlap_exponent(1.5);
  truth.set_compute_latency_us(1);
  return truth;
}

// The GEMM fit of rows generated from `truth` on H100.
absl::StatusOr<ClassFit> FitGemmRowsOf(const v1::OperatorEfficiency& truth) {
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  if (!generator.ok()) return generator.status();
  std::vector<v1::CalibrationRow> rows;
  for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{{1280, 8192},
                                                              {8192, 1024},
                                                              {12288, 4096},
                                                              {57344, 8192},
                                                              {4096, 11008},
                                                              {640, 4096},
                                                              {8192, 128}}) {
    for (const v1::CalibrationRow& r : GemmSweep("m", n, k)) rows.push_back(r);
  }
  // Started from Vidur's fit (as a chip's entries in force would start
  // it): from the default's near-zero tile-loop latency and floor,
  // Nelder-Mead stops short of these parameters.
  return FitClass(H100(), v1::OPERATOR_CLASS_GEMM,
                  Synthetic(*generator, rows, {}), testutil::WithVidurGemm());
}

// Data generated from known GEMM parameters: the fit must find them again.
TEST(EfficiencyFitTest, FitRecoversKnownGemmParameters) {
  v1::OperatorEfficiency truth = GemmTruth();
  truth.set_tile_overhead_rows(20);
  absl::StatusOr<ClassFit> fit = FitGemmRowsOf(truth);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const v1::OperatorEfficiency& e = fit->efficiency;
  EXPECT_NEAR(e.compute(), 0.62, 0.02);
  EXPECT_NEAR(e.memory(), 0.85, 0.03);
  EXPECT_NEAR(e.memory_ramp_mb(), 8, 1.0);
  EXPECT_NEAR(e.parallel_columns(), 300, 40);
  EXPECT_NEAR(e.floor_us(), 5, 0.3);
  EXPECT_DOUBLE_EQ(e.overlap_exponent(), 1.5);
  EXPECT_NEAR(e.compute_latency_us(), 1, 0.2);
  EXPECT_NEAR(e.tile_overhead_rows(), 20, 2);
  EXPECT_LT(fit->in_sample.p90_ape, 0.01);
  EXPECT_THAT(e.source(), HasSubstr("calibrate fit"));
}

// Rows without M-tile padding (today's CUDA-graph GEMMs, where cuBLAS picks
// the tile per shape): the fit turns the term off (0, which its log
// coordinate alone cannot reach) rather than settling on some r > 0.
TEST(EfficiencyFitTest, FitTurnsTheMTileTermOffWhenRowsHaveNoPadding) {
  v1::OperatorEfficiency truth = GemmTruth();
  truth.set_tile_overhead_rows(0);  // set: unset inherits the default's
  absl::StatusOr<ClassFit> fit = FitGemmRowsOf(truth);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const v1::OperatorEfficiency& e = fit->efficiency;
  ASSERT_TRUE(e.has_tile_overhead_rows());
  EXPECT_EQ(e.tile_overhead_rows(), 0);
  EXPECT_NEAR(e.compute(), 0.62, 0.02);
  EXPECT_NEAR(e.compute_latency_us(), 1, 0.2);
  EXPECT_LT(fit->in_sample.p90_ape, 0.01);
}

TEST(EfficiencyFitTest, OperatorEntriesGoInsideTheClassEntry) {
  v1::OperatorEfficiency rope;
  rope.set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  rope.set_op_name("rope");
  rope.set_memory(0.5);
  v1::Chip chip = WithEfficiency(H100(), rope);
  ASSERT_EQ(chip.efficiency_size(), 1);
  EXPECT_EQ(chip.efficiency(0).op(), v1::OPERATOR_CLASS_ELEMENTWISE);
  EXPECT_FALSE(chip.efficiency(0).has_memory());
  ASSERT_EQ(chip.efficiency(0).operators_size(), 1);
  EXPECT_DOUBLE_EQ(chip.efficiency(0).operators(0).memory(), 0.5);
  v1::OperatorEfficiency cls;
  cls.set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  cls.set_memory(0.8);
  rope.set_memory(0.4);
  chip = WithEfficiency(WithEfficiency(chip, cls), rope);
  ASSERT_EQ(chip.efficiency_size(), 1);
  ASSERT_EQ(chip.efficiency(0).operators_size(), 1);
  EXPECT_DOUBLE_EQ(chip.efficiency(0).memory(), 0.8);
  EXPECT_DOUBLE_EQ(chip.efficiency(0).operators(0).memory(), 0.4);
  // The operator's entry wins for rope (and the model's "rotary"); the
  // class entry prices everything else.
  const OperatorModelOptions o;
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ELEMENTWISE, "rotary")
          .memory,
      0.4);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ELEMENTWISE, "sampling")
          .memory,
      0.8);
  // A chip without operator entries uses the options' operator defaults.
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, H100(), v1::OPERATOR_CLASS_ELEMENTWISE, "mlp_act")
          .memory,
      o.operator_efficiency[static_cast<int>(NamedOperator::kMlpAct)].memory);
}

TEST(EfficiencyFitTest, ChipOperatorEntriesAreValidated) {
  v1::Chip chip = H100();
  v1::OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_NORM);
  e->add_operators()->set_op_name("rope");  // only ELEMENTWISE has them
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  v1::OperatorEfficiency* sub = e->add_operators();
  sub->set_op_name("mlp_act");
  sub->set_cache_speedup(0.5);
  absl::Status status = OperatorPricer::Create(chip).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("cache_speedup"));
  chip = H100();
  chip.set_compute_units(0);
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The FlashAttention-3 prefill and the seconds-latency decode forms: a fit
// to rows they generated finds their parameters again.
TEST(EfficiencyFitTest, FitRecoversAttentionTileAndLatencyTerms) {
  v1::OperatorEfficiency prefill;
  prefill.set_op(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  prefill.set_compute(0.65);
  prefill.set_latency_us(9);
  prefill.set_unit_latency_us(2);
  prefill.set_tile_q_rows(128);
  prefill.set_tile_kv_rows(128);
  prefill.set_overlap_exponent(1);
  v1::OperatorEfficiency decode;
  decode.set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  decode.set_memory(0.9);
  decode.set_latency_us(10);
  decode.set_unit_latency_us(2.5);
  auto generator = OperatorPricer::Create(
      WithEfficiency(WithEfficiency(H100(), prefill), decode));
  ASSERT_TRUE(generator.ok());
  OperatorModelOptions framework_free;
  framework_free.framework = "";
  for (const v1::OperatorEfficiency& truth : {prefill, decode}) {
    const std::vector<v1::CalibrationRow> rows =
        Synthetic(*generator, AttentionSweep(truth.op(), "vllm"), {});
    absl::StatusOr<ClassFit> fit =
        FitClass(H100(), truth.op(), rows, framework_free);
    ASSERT_TRUE(fit.ok()) << fit.status();
    const v1::OperatorEfficiency& e = fit->efficiency;
    EXPECT_EQ(e.framework(), "");
    EXPECT_NEAR(e.latency_us(), truth.latency_us(), 0.05 * truth.latency_us());
    EXPECT_NEAR(e.unit_latency_us(), truth.unit_latency_us(),
                0.05 * truth.unit_latency_us());
    if (truth.op() == v1::OPERATOR_CLASS_ATTENTION_PREFILL) {
      EXPECT_NEAR(e.compute(), 0.65, 0.01);
      EXPECT_EQ(e.tile_q_rows(), 128);
    } else {
      EXPECT_NEAR(e.memory(), 0.9, 0.01);
      EXPECT_EQ(e.memory_ramp_mb(), 0);  // the latency replaces the MB ramp
    }
    EXPECT_LT(fit->in_sample.p90_ape, 0.01);
  }
}

// Decode's latency is seconds: the same on a chip with twice the bandwidth,
// where the KV stream takes half the time.
TEST(EfficiencyFitTest, DecodeLatencyIsTheSameSecondsOnAnyBandwidth) {
  v1::OperatorEfficiency decode;
  decode.set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  decode.set_memory(0.9);
  decode.set_latency_us(10);
  decode.set_unit_latency_us(0);
  v1::Chip fast = WithEfficiency(H100(), decode);
  fast.set_memory_bandwidth_tbps(2 * H100().memory_bandwidth_tbps());
  const v1::CalibrationRow one =
      AttentionRow(v1::OPERATOR_CLASS_ATTENTION_DECODE, 1, 1, 0, 32, 8, "");
  const double h100_s = OperatorPricer::Create(WithEfficiency(H100(), decode))
                            ->Seconds(*QueryFromRow(one));
  const double fast_s =
      OperatorPricer::Create(fast)->Seconds(*QueryFromRow(one));
  EXPECT_NEAR(h100_s, 10e-6, 0.1e-6);  // one token of KV: latency-bound
  EXPECT_NEAR(fast_s, 10e-6, 0.1e-6);
}

// A chip's entries for one framework apply over its framework-free ones
// when that framework is chosen, and never otherwise.
TEST(EfficiencyFitTest, FrameworkEntriesApplyOnlyToTheirFramework) {
  v1::Chip chip = H100();
  v1::OperatorEfficiency any;
  any.set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  any.set_memory(0.9);
  any.set_latency_us(10);
  v1::OperatorEfficiency trtllm = any;
  trtllm.set_framework("trtllm");
  trtllm.set_memory(0.8);
  trtllm.clear_latency_us();
  chip = WithEfficiency(WithEfficiency(chip, any), trtllm);
  ASSERT_EQ(chip.efficiency_size(), 2);  // matched on (op, framework)
  OperatorModelOptions o;
  o.framework = "trtllm";
  ClassEfficiency e =
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_EQ(e.memory, 0.8);
  EXPECT_DOUBLE_EQ(e.latency_s, 10e-6);  // unset there: framework-free
  for (const std::string other : {"vllm", "sglang", ""}) {
    o.framework = other;
    EXPECT_EQ(
        ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE).memory,
        0.9)
        << other;
  }
}

}  // namespace
}  // namespace fleetsim::hardware
