// Tests for hardware/calibration/calibration_fit.h (eval, fit,
// cross-validation, the framework-overhead fit). The `fleetsim calibrate
// eval` CLI is tested in tests/cli/calibrate_command_test.cc.
#include "hardware/calibration/calibration_fit.h"

#include <cmath>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using testing::H100;
using ::testing::HasSubstr;
using testing::Llama2_7b;

CalibrationRow Gemm(int64_t m, int64_t n, int64_t k, const std::string& model) {
  CalibrationRow r;
  r.set_op("qkv_proj");
  r.set_op_class(OPERATOR_CLASS_GEMM);
  r.set_model(model);
  r.set_m(m);
  r.set_n(n);
  r.set_k(k);
  r.set_median_s(1);
  return r;
}

// Rows whose medians are what `pricer` predicts, times (1 + error).
std::vector<CalibrationRow> Synthetic(const OperatorPricer& pricer,
                                      std::vector<CalibrationRow> rows,
                                      const std::vector<double>& errors) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const double predicted = pricer.Seconds(*QueryFromRow(rows[i]));
    const double e = errors.empty() ? 0 : errors[i % errors.size()];
    rows[i].set_median_s(predicted / (1 + e));
  }
  return rows;
}

std::vector<CalibrationRow> GemmSweep(const std::string& model, int64_t n,
                                      int64_t k) {
  std::vector<CalibrationRow> rows;
  for (int64_t m : {1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096})
    rows.push_back(Gemm(m, n, k, model));
  return rows;
}

TEST(CalibrationFitTest, DecodeRowsSumContextOverRequests) {
  CalibrationRow r;
  r.set_op("attn_decode");
  r.set_op_class(OPERATOR_CLASS_ATTENTION_DECODE);
  r.set_batch(8);
  r.set_new_tokens(1);
  r.set_context_tokens(1000);  // cached, per request
  r.set_heads(32);
  r.set_kv_heads(4);
  r.set_head_dim(128);
  r.set_median_s(1e-4);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->requests, 8);
  EXPECT_EQ(q->context_tokens, 8 * 1001);  // as BatchShape::AddDecode
  CalibrationRow p = r;
  p.set_op("attn_prefill");
  p.set_op_class(OPERATOR_CLASS_ATTENTION_PREFILL);
  p.set_batch(2);
  p.set_new_tokens(100);
  p.set_context_tokens(50);
  q = QueryFromRow(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->new_tokens, 200);
  EXPECT_EQ(q->context_tokens, 300);
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * (100.0 * 50 + 100.0 * 101 / 2));
}

// Sliding windows (aiconfigurator's window_size): query i of a prompt with
// l cached tokens sees min(l + i, w) keys. l = 50, t = 100, w = 80: queries
// 1..30 see 51..80 keys (1965 pairs), queries 31..100 see 80 (5600); K/V
// rows read: the 50 cached (all within 80) + 100 new. Decode reads
// min(cached + 1, w) rows. A KV-cache dtype sets the KV bytes.
TEST(CalibrationFitTest, SlidingWindowsAndKvDtype) {
  CalibrationRow p;
  p.set_op("attn_prefill");
  p.set_op_class(OPERATOR_CLASS_ATTENTION_PREFILL);
  p.set_batch(2);
  p.set_new_tokens(100);
  p.set_context_tokens(50);
  p.set_heads(8);
  p.set_kv_heads(8);
  p.set_head_dim(128);
  p.set_window_tokens(80);
  p.set_median_s(1e-4);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * (1965.0 + 5600.0));
  EXPECT_EQ(q->context_tokens, 2 * 150);
  p.set_window_tokens(20);  // smaller than the cached prefix
  q = QueryFromRow(p);
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * 100.0 * 20);
  EXPECT_EQ(q->context_tokens, 2 * 120);

  CalibrationRow d = p;
  d.set_op("attn_decode");
  d.set_op_class(OPERATOR_CLASS_ATTENTION_DECODE);
  d.set_context_tokens(4095);
  d.set_window_tokens(128);
  d.set_dtype(DTYPE_BF16);
  d.set_kv_dtype(DTYPE_FP8);
  q = QueryFromRow(d);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->context_tokens, 2 * 128);
  EXPECT_DOUBLE_EQ(q->kv_bytes, 1);
  EXPECT_DOUBLE_EQ(q->weight_bytes, 2);
}

// A gated activation (SwiGLU) reads gate and up and writes one row; a
// non-gated one (phi-2's GELU) reads one and writes one, and both belong to
// the one activation operator the cost model charges.
TEST(CalibrationFitTest, UngatedActivationRowsMoveTwoRowsOfData) {
  CalibrationRow r;
  r.set_op("mlp_act");
  r.set_op_class(OPERATOR_CLASS_ELEMENTWISE);
  r.set_elements(64 * 10240);
  r.set_width(10240);
  r.set_tokens(64);
  r.set_median_s(1e-5);
  absl::StatusOr<OperatorQuery> gated = QueryFromRow(r);
  ASSERT_TRUE(gated.ok()) << gated.status();
  r.set_op("mlp_act_ungated");
  absl::StatusOr<OperatorQuery> ungated = QueryFromRow(r);
  ASSERT_TRUE(ungated.ok()) << ungated.status();
  EXPECT_DOUBLE_EQ(gated->io_rows, 3);
  EXPECT_DOUBLE_EQ(ungated->io_rows, 2);
  EXPECT_EQ(NamedOperatorIndex("mlp_act_ungated"),
            NamedOperatorIndex("mlp_act"));
}

TEST(CalibrationFitTest, EvalReportsKnownErrorsAndSplitsFastRows) {
  auto pricer = OperatorPricer::Create(H100());
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  // Ten large GEMMs with errors 1..10 % (alternating sign): median 5.5 %,
  // p90 9.1 % (linear interpolation); one tiny GEMM below 10 us, 50 % off.
  std::vector<CalibrationRow> rows;
  std::vector<double> errors;
  for (int i = 1; i <= 10; ++i) {
    rows.push_back(Gemm(1024 * i, 8192, 8192, "a"));
    errors.push_back((i % 2 ? 1 : -1) * i / 100.0);
  }
  rows = Synthetic(*pricer, rows, errors);
  CalibrationRow tiny = Synthetic(*pricer, {Gemm(1, 4096, 64, "a")}, {0.5})[0];
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

TEST(CalibrationFitTest, EvalRejectsUnpriceableRows) {
  auto pricer = OperatorPricer::Create(H100());
  ASSERT_TRUE(pricer.ok());
  CalibrationRow r;
  r.set_op("scan");
  r.set_op_class(OPERATOR_CLASS_SSM);
  r.set_median_s(1e-3);
  absl::StatusOr<EvalReport> report = EvaluateRows(*pricer, {r});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("row 1"));
}

// Data generated from known GEMM parameters: the fit must find them again.
TEST(CalibrationFitTest, FitRecoversKnownGemmParameters) {
  OperatorEfficiency truth;
  truth.set_op(OPERATOR_CLASS_GEMM);
  truth.set_compute(0.62);
  truth.set_memory(0.85);
  truth.set_memory_ramp_mb(8);
  truth.set_parallel_columns(300);
  truth.set_floor_us(5);
  truth.set_overlap_exponent(1.5);
  truth.set_compute_latency_us(1);
  truth.set_tile_overhead_rows(20);
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok());
  std::vector<CalibrationRow> rows;
  for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{{1280, 8192},
                                                              {8192, 1024},
                                                              {12288, 4096},
                                                              {57344, 8192},
                                                              {4096, 11008},
                                                              {640, 4096},
                                                              {8192, 128}}) {
    for (const CalibrationRow& r : GemmSweep("m", n, k)) rows.push_back(r);
  }
  rows = Synthetic(*generator, rows, {});
  absl::StatusOr<ClassFit> fit = FitClass(H100(), OPERATOR_CLASS_GEMM, rows);
  ASSERT_TRUE(fit.ok()) << fit.status();
  const OperatorEfficiency& e = fit->efficiency;
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

TEST(CalibrationFitTest, LeaveOneModelOutHoldsOutEachModel) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<CalibrationRow> rows;
  for (const CalibrationRow& r : GemmSweep("model-a", 4096, 4096))
    rows.push_back(r);
  for (const CalibrationRow& r : GemmSweep("model-b", 12288, 4096))
    rows.push_back(r);
  for (const CalibrationRow& r : GemmSweep("model-c", 8192, 28672))
    rows.push_back(r);
  rows = Synthetic(*generator, rows, {0.02, -0.02});
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), OPERATOR_CLASS_GEMM, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->grouping, "model");
  ASSERT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->groups[0].group, "model-a");
  EXPECT_EQ(cv->pooled.rows, 30);
  // The generating curves are the model's own: held-out error stays near
  // the +-2 % noise.
  EXPECT_LT(cv->pooled.median_ape, 0.05);
  // One model only: a single group cannot be cross-validated by model and
  // GEMMs have no fallback grouping beyond batch octaves (all batch 0).
  absl::StatusOr<CvResult> single = CrossValidateClass(
      H100(), OPERATOR_CLASS_GEMM,
      Synthetic(*generator, GemmSweep("only", 4096, 4096), {}));
  EXPECT_EQ(single.status().code(), absl::StatusCode::kInvalidArgument);
}

CalibrationRow Elementwise(const std::string& op, OperatorClass c,
                           int64_t tokens, int64_t width,
                           const std::string& model) {
  CalibrationRow r;
  r.set_op(op);
  r.set_op_class(c);
  r.set_model(model);
  r.set_tokens(tokens);
  r.set_width(width);
  r.set_elements(tokens * width);
  r.set_median_s(1);
  return r;
}

TEST(CalibrationFitTest, OperatorEntriesGoInsideTheClassEntry) {
  OperatorEfficiency rope;
  rope.set_op(OPERATOR_CLASS_ELEMENTWISE);
  rope.set_op_name("rope");
  rope.set_memory(0.5);
  Chip chip = WithEfficiency(H100(), rope);
  ASSERT_EQ(chip.efficiency_size(), 1);
  EXPECT_EQ(chip.efficiency(0).op(), OPERATOR_CLASS_ELEMENTWISE);
  EXPECT_FALSE(chip.efficiency(0).has_memory());
  ASSERT_EQ(chip.efficiency(0).operators_size(), 1);
  EXPECT_DOUBLE_EQ(chip.efficiency(0).operators(0).memory(), 0.5);
  OperatorEfficiency cls;
  cls.set_op(OPERATOR_CLASS_ELEMENTWISE);
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
      ResolveEfficiency(o, chip, OPERATOR_CLASS_ELEMENTWISE, "rotary").memory,
      0.4);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, OPERATOR_CLASS_ELEMENTWISE, "sampling").memory,
      0.8);
  // A chip without operator entries uses the options' operator defaults.
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, H100(), OPERATOR_CLASS_ELEMENTWISE, "mlp_act")
          .memory,
      o.operator_efficiency[static_cast<int>(NamedOperator::kMlpAct)].memory);
}

TEST(CalibrationFitTest, FitOperatorRecoversWaveRowAndCacheTerms) {
  OperatorEfficiency truth;
  truth.set_op(OPERATOR_CLASS_ELEMENTWISE);
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
  std::vector<CalibrationRow> rows;
  for (int64_t width : {1376, 3584, 7168, 14336, 28672}) {
    for (int64_t t : {1, 8, 64, 200, 264, 265, 400, 700, 1024, 2048, 4096}) {
      rows.push_back(
          Elementwise("mlp_act", OPERATOR_CLASS_ELEMENTWISE, t, width, "m"));
    }
  }
  rows = Synthetic(*generator, rows, {});
  absl::StatusOr<ClassFit> fit =
      FitOperator(H100(), OPERATOR_CLASS_ELEMENTWISE, "mlp_act", rows);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->op_name, "mlp_act");
  EXPECT_EQ(fit->efficiency.op_name(), "mlp_act");
  EXPECT_DOUBLE_EQ(fit->efficiency.rows_per_unit(), 2);
  EXPECT_NEAR(fit->efficiency.memory(), 0.7, 0.03);
  EXPECT_NEAR(fit->efficiency.row_overhead_kb(), 5, 1);
  EXPECT_LT(fit->in_sample.p90_ape, 0.02);
  // Not a named operator: no per-operator fit.
  EXPECT_EQ(FitOperator(H100(), OPERATOR_CLASS_ELEMENTWISE, "sampling", rows)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CalibrationFitTest, ElementwiseCrossValidationRefitsEachOperator) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<CalibrationRow> rows;
  for (const char* model : {"a", "b", "c"}) {
    const int64_t width = model[0] == 'a'   ? 4096
                          : model[0] == 'b' ? 5120
                                            : 8192;
    for (int64_t t : {16, 128, 512, 1024, 4096}) {
      rows.push_back(Elementwise("residual_add", OPERATOR_CLASS_ELEMENTWISE, t,
                                 width, model));
      rows.push_back(Elementwise("mlp_act", OPERATOR_CLASS_ELEMENTWISE, t,
                                 width * 3, model));
    }
  }
  rows = Synthetic(*generator, rows, {0.01, -0.01});
  absl::StatusOr<std::vector<ClassFit>> fits =
      FitClassAndOperators(H100(), OPERATOR_CLASS_ELEMENTWISE, rows);
  ASSERT_TRUE(fits.ok()) << fits.status();
  ASSERT_EQ(fits->size(), 3u);  // class, mlp_act, residual_add
  EXPECT_TRUE((*fits)[0].op_name.empty());
  EXPECT_EQ((*fits)[1].op_name, "mlp_act");
  EXPECT_EQ((*fits)[2].op_name, "residual_add");
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), OPERATOR_CLASS_ELEMENTWISE, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->pooled.rows, 30);
  EXPECT_LT(cv->pooled.median_ape, 0.05);
}

TEST(CalibrationFitTest, NormRowsStepPerWaveOfComputeUnits) {
  OperatorEfficiency norm;
  norm.set_op(OPERATOR_CLASS_NORM);
  norm.set_floor_us(0.1);
  norm.set_rows_per_unit(2);
  norm.set_cache_speedup(1);  // no cache term
  Chip chip = WithEfficiency(H100(), norm);
  auto pricer = OperatorPricer::Create(chip);
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  auto seconds = [&](int64_t tokens) {
    return pricer->Seconds(*QueryFromRow(
        Elementwise("rmsnorm", OPERATOR_CLASS_NORM, tokens, 8192, "m")));
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
                Elementwise("rmsnorm", OPERATOR_CLASS_NORM, 1, 8192, "m"))),
            flat->Seconds(*QueryFromRow(
                Elementwise("rmsnorm", OPERATOR_CLASS_NORM, 264, 8192, "m"))));
}

// A norm fit carries its single-wave time to a width it was not fitted on,
// and fits no floor, which would pin narrow widths to the training widths'
// shortest time (the H100 Llama-2-7B fold, docs/calibration.md §4.1).
TEST(CalibrationFitTest, NormFitPredictsAnUnseenWidth) {
  OperatorEfficiency truth;
  truth.set_op(OPERATOR_CLASS_NORM);
  truth.set_memory(0.45);
  truth.set_memory_ramp_mb(1);
  truth.set_floor_us(0);
  truth.set_rows_per_unit(2);
  truth.set_row_overhead_kb(4);
  truth.set_cache_speedup(1);
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok()) << generator.status();
  auto sweep = [](int64_t width, const std::string& model) {
    std::vector<CalibrationRow> rows;
    for (int64_t t : {1, 16, 64, 128, 256, 300, 528, 1024, 2048, 4096})
      rows.push_back(
          Elementwise("rmsnorm", OPERATOR_CLASS_NORM, t, width, model));
    return rows;
  };
  std::vector<CalibrationRow> train = sweep(8192, "wide");
  for (const CalibrationRow& r : sweep(2048, "narrow")) train.push_back(r);
  train = Synthetic(*generator, train, {});
  const std::vector<CalibrationRow> held_out =
      Synthetic(*generator, sweep(4096, "held-out"), {});
  absl::StatusOr<ClassFit> fit = FitClass(H100(), OPERATOR_CLASS_NORM, train);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->efficiency.floor_us(), 0);
  auto fitted = OperatorPricer::Create(WithEfficiency(H100(), fit->efficiency));
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  absl::StatusOr<std::vector<double>> errors = RowErrors(*fitted, held_out);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_LT(std::abs((*errors)[0]), 0.05);  // one token: a single wave
  EXPECT_LT(SummariseErrors(*errors).p90_ape, 0.05);
}

TEST(CalibrationFitTest, CacheResidentWorkingSetsRunFaster) {
  OperatorEfficiency add;
  add.set_op(OPERATOR_CLASS_ELEMENTWISE);
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
    CalibrationRow r = Elementwise("residual_add", OPERATOR_CLASS_ELEMENTWISE,
                                   tokens, 8192, "m");
    return pricer->Seconds(*QueryFromRow(r)) / (6.0 * tokens * 8192);
  };
  // 6 bytes per element: 64 tokens = 3 MB (in cache), 8192 = 403 MB.
  EXPECT_NEAR(per_byte(8192) / per_byte(64), 1.5, 0.01);
}

TEST(CalibrationFitTest, ChipOperatorEntriesAreValidated) {
  Chip chip = H100();
  OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(OPERATOR_CLASS_NORM);
  e->add_operators()->set_op_name("rope");  // only ELEMENTWISE has them
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(OPERATOR_CLASS_ELEMENTWISE);
  OperatorEfficiency* sub = e->add_operators();
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

CalibrationRow AttentionRow(OperatorClass c, int64_t batch, int64_t tokens,
                            int64_t cached, int heads, int kv_heads,
                            const std::string& framework) {
  CalibrationRow r;
  r.set_op(c == OPERATOR_CLASS_ATTENTION_PREFILL ? "attn_prefill"
                                                 : "attn_decode");
  r.set_op_class(c);
  r.set_batch(batch);
  r.set_new_tokens(tokens);
  r.set_context_tokens(cached);
  r.set_heads(heads);
  r.set_kv_heads(kv_heads);
  r.set_head_dim(128);
  r.set_framework(framework);
  r.set_median_s(1);
  return r;
}

std::vector<CalibrationRow> AttentionSweep(OperatorClass c,
                                           const std::string& framework) {
  std::vector<CalibrationRow> rows;
  const bool prefill = c == OPERATOR_CLASS_ATTENTION_PREFILL;
  for (int64_t batch : {1, 4, 32, 256}) {
    for (int64_t len : {64, 512, 4096}) {
      for (auto [h, kv] : std::vector<std::pair<int, int>>{{32, 32}, {64, 8}}) {
        rows.push_back(AttentionRow(c, batch, prefill ? len : 1,
                                    prefill ? 0 : len, h, kv, framework));
      }
    }
  }
  return rows;
}

// The FlashAttention-3 prefill and the seconds-latency decode forms: a fit
// to rows they generated finds their parameters again.
TEST(CalibrationFitTest, FitRecoversAttentionTileAndLatencyTerms) {
  OperatorEfficiency prefill;
  prefill.set_op(OPERATOR_CLASS_ATTENTION_PREFILL);
  prefill.set_compute(0.65);
  prefill.set_latency_us(9);
  prefill.set_unit_latency_us(2);
  prefill.set_tile_q_rows(128);
  prefill.set_tile_kv_rows(128);
  prefill.set_overlap_exponent(1);
  OperatorEfficiency decode;
  decode.set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  decode.set_memory(0.9);
  decode.set_latency_us(10);
  decode.set_unit_latency_us(2.5);
  auto generator = OperatorPricer::Create(
      WithEfficiency(WithEfficiency(H100(), prefill), decode));
  ASSERT_TRUE(generator.ok());
  OperatorModelOptions framework_free;
  framework_free.framework = "";
  for (const OperatorEfficiency& truth : {prefill, decode}) {
    const std::vector<CalibrationRow> rows =
        Synthetic(*generator, AttentionSweep(truth.op(), "vllm"), {});
    absl::StatusOr<ClassFit> fit =
        FitClass(H100(), truth.op(), rows, framework_free);
    ASSERT_TRUE(fit.ok()) << fit.status();
    const OperatorEfficiency& e = fit->efficiency;
    EXPECT_EQ(e.framework(), "");
    EXPECT_NEAR(e.latency_us(), truth.latency_us(), 0.05 * truth.latency_us());
    EXPECT_NEAR(e.unit_latency_us(), truth.unit_latency_us(),
                0.05 * truth.unit_latency_us());
    if (truth.op() == OPERATOR_CLASS_ATTENTION_PREFILL) {
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
TEST(CalibrationFitTest, DecodeLatencyIsTheSameSecondsOnAnyBandwidth) {
  OperatorEfficiency decode;
  decode.set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  decode.set_memory(0.9);
  decode.set_latency_us(10);
  decode.set_unit_latency_us(0);
  Chip fast = WithEfficiency(H100(), decode);
  fast.set_memory_bandwidth_tbps(2 * H100().memory_bandwidth_tbps());
  const CalibrationRow one =
      AttentionRow(OPERATOR_CLASS_ATTENTION_DECODE, 1, 1, 0, 32, 8, "");
  const double h100_s = OperatorPricer::Create(WithEfficiency(H100(), decode))
                            ->Seconds(*QueryFromRow(one));
  const double fast_s =
      OperatorPricer::Create(fast)->Seconds(*QueryFromRow(one));
  EXPECT_NEAR(h100_s, 10e-6, 0.1e-6);  // one token of KV: latency-bound
  EXPECT_NEAR(fast_s, 10e-6, 0.1e-6);
}

TEST(CalibrationFitTest, CrossValidationHoldsOutEachFramework) {
  auto generator = OperatorPricer::Create(H100());
  ASSERT_TRUE(generator.ok());
  std::vector<CalibrationRow> rows;
  for (const std::string fw : {"trtllm", "vllm", "sglang"}) {
    for (const CalibrationRow& r :
         AttentionSweep(OPERATOR_CLASS_ATTENTION_DECODE, fw))
      rows.push_back(r);
  }
  rows = Synthetic(*generator, rows, {0.02, -0.02});
  absl::StatusOr<CvResult> cv =
      CrossValidateClass(H100(), OPERATOR_CLASS_ATTENTION_DECODE, rows);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->grouping, "framework");
  ASSERT_EQ(cv->groups.size(), 3u);
  EXPECT_EQ(cv->groups[0].group, "sglang");
  EXPECT_LT(cv->pooled.median_ape, 0.05);
}

// A chip's entries for one framework apply over its framework-free ones
// when that framework is chosen, and never otherwise.
TEST(CalibrationFitTest, FrameworkEntriesApplyOnlyToTheirFramework) {
  Chip chip = H100();
  OperatorEfficiency any;
  any.set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  any.set_memory(0.9);
  any.set_latency_us(10);
  OperatorEfficiency trtllm = any;
  trtllm.set_framework("trtllm");
  trtllm.set_memory(0.8);
  trtllm.clear_latency_us();
  chip = WithEfficiency(WithEfficiency(chip, any), trtllm);
  ASSERT_EQ(chip.efficiency_size(), 2);  // matched on (op, framework)
  OperatorModelOptions o;
  o.framework = "trtllm";
  ClassEfficiency e =
      ResolveEfficiency(o, chip, OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_EQ(e.memory, 0.8);
  EXPECT_DOUBLE_EQ(e.latency_s, 10e-6);  // unset there: framework-free
  for (const std::string other : {"vllm", "sglang", ""}) {
    o.framework = other;
    EXPECT_EQ(
        ResolveEfficiency(o, chip, OPERATOR_CLASS_ATTENTION_DECODE).memory, 0.9)
        << other;
  }
}

std::vector<CalibrationRow> AllReduceSweep(int ranks) {
  std::vector<CalibrationRow> rows;
  for (int64_t bytes = 1024; bytes <= (int64_t{1} << 30); bytes *= 4) {
    CalibrationRow r;
    r.set_op("all_reduce");
    r.set_op_class(OPERATOR_CLASS_COLLECTIVE);
    r.set_bytes(bytes);
    r.set_ranks(ranks);
    r.set_framework("nccl");
    r.set_median_s(1);
    rows.push_back(r);
  }
  return rows;
}

TEST(CalibrationFitTest, CollectiveFitRecoversTwoLinesPerRankCount) {
  OperatorEfficiency truth;
  truth.set_op(OPERATOR_CLASS_COLLECTIVE);
  for (auto [ranks, a, e, bulk_a, bulk_e] :
       std::vector<std::tuple<int, double, double, double, double>>{
           {2, 6, 0.25, 20, 0.65}, {8, 17, 0.45, 50, 0.95}}) {
    CollectiveFit* f = truth.add_collective_fits();
    f->set_ranks(ranks);
    f->set_latency_us(a);
    f->set_bus_efficiency(e);
    f->set_bulk_latency_us(bulk_a);
    f->set_bulk_bus_efficiency(bulk_e);
  }
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok());
  std::vector<CalibrationRow> rows = AllReduceSweep(2);
  for (const CalibrationRow& r : AllReduceSweep(8)) rows.push_back(r);
  rows = Synthetic(*generator, rows, {});
  absl::StatusOr<ClassFit> fit =
      FitClass(H100(), OPERATOR_CLASS_COLLECTIVE, rows);
  ASSERT_TRUE(fit.ok()) << fit.status();
  ASSERT_EQ(fit->efficiency.collective_fits_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const CollectiveFit& got = fit->efficiency.collective_fits(i);
    const CollectiveFit& want = truth.collective_fits(i);
    EXPECT_EQ(got.ranks(), want.ranks());
    EXPECT_NEAR(got.latency_us(), want.latency_us(), 0.03 * want.latency_us());
    EXPECT_NEAR(got.bus_efficiency(), want.bus_efficiency(),
                0.03 * want.bus_efficiency());
    EXPECT_NEAR(got.bulk_bus_efficiency(), want.bulk_bus_efficiency(),
                0.03 * want.bulk_bus_efficiency());
  }
  EXPECT_LT(fit->in_sample.p90_ape, 0.01);
  // Four ranks lie halfway in log(ranks): the lines' mean.
  const ClassEfficiency resolved =
      ResolveEfficiency(OperatorModelOptions(), WithEfficiency(H100(), truth),
                        OPERATOR_CLASS_COLLECTIVE);
  const ClassEfficiency::CollectiveFit mid =
      CollectiveFitAt(resolved.collective_fits, 4);
  EXPECT_DOUBLE_EQ(mid.latency_s, 11.5e-6);
  EXPECT_DOUBLE_EQ(mid.bus_efficiency, 0.35);
  // Beyond the measured counts: the nearest.
  EXPECT_DOUBLE_EQ(CollectiveFitAt(resolved.collective_fits, 16).latency_s,
                   17e-6);
  // No all-reduce within a machine: nothing to fit.
  std::vector<CalibrationRow> gathers = AllReduceSweep(2);
  for (CalibrationRow& r : gathers) r.set_op("all_gather");
  EXPECT_EQ(
      FitClass(H100(), OPERATOR_CLASS_COLLECTIVE, gathers).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(CalibrationFitTest, FrameworkOverheadFitRecoversAConstant) {
  std::vector<IterationSample> samples;
  for (int i = 1; i <= 6; ++i) {
    IterationSample s;
    s.kernel_s = 0.01 * i;
    s.layers = i % 2 ? 80 : 70;
    s.measured_s = s.kernel_s + 0.002 + 1e-4 * s.layers;
    samples.push_back(s);
  }
  OverheadFit both = FitFrameworkOverhead(samples, true);
  EXPECT_NEAR(both.iteration_overhead_s, 0.002, 1e-9);
  EXPECT_NEAR(both.layer_overhead_s, 1e-4, 1e-11);
  OverheadFit constant = FitFrameworkOverhead(samples, false);
  EXPECT_EQ(constant.layer_overhead_s, 0);
  EXPECT_NEAR(constant.iteration_overhead_s, 0.002 + 75e-4, 6e-4);
}

TEST(CalibrationFitTest, OverheadOptionAddsPerLayerTime) {
  BatchShape b;
  b.AddDecode(1000);
  auto plain = OperatorModel::Create(Llama2_7b(), H100(), 1, 1);
  auto with = OperatorModel::Create(
      Llama2_7b(), H100(), 1, 1, OperatorModelOptions::WithSplitwiseOverhead());
  ASSERT_TRUE(plain.ok() && with.ok());
  // One request: 32 layers of the per-layer and the per-request term.
  EXPECT_NEAR((*with)->IterationSeconds(b) - (*plain)->IterationSeconds(b),
              32 * (OperatorModelOptions::kSplitwiseLayerOverheadS +
                    OperatorModelOptions::kSplitwiseRequestLayerOverheadS),
              1e-12);
  const IterationBreakdown e = (*with)->Explain(b);
  EXPECT_EQ(e.ops.front().name, "framework_overhead");
  EXPECT_NEAR(e.seconds, (*with)->IterationSeconds(b), 1e-15);
  OperatorModelOptions bad;
  bad.layer_overhead_s = -1;
  EXPECT_EQ(
      OperatorModel::Create(Llama2_7b(), H100(), 1, 1, bad).status().code(),
      absl::StatusCode::kInvalidArgument);
  bad = OperatorModelOptions();
  bad.request_layer_overhead_s = -1e-6;
  EXPECT_EQ(
      OperatorModel::Create(Llama2_7b(), H100(), 1, 1, bad).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// The serving-stack profile's per-request term: every request in the batch
// (decode requests and prefill chunks) adds layers * 3.65 us.
TEST(CalibrationFitTest, ProfileChargesEveryRequestPerLayer) {
  OperatorModelOptions kernel_only;
  kernel_only.iteration_overhead_s = 0;
  kernel_only.layer_overhead_s = 0;
  auto plain = OperatorModel::Create(Llama2_7b(), H100(), 1, 1, kernel_only);
  auto with = OperatorModel::Create(
      Llama2_7b(), H100(), 1, 1, OperatorModelOptions::WithSplitwiseOverhead());
  ASSERT_TRUE(plain.ok() && with.ok());
  BatchShape b;
  for (int i = 0; i < 64; ++i) b.AddDecode(600);
  b.AddPrefillChunk(512, 0);
  EXPECT_NEAR((*with)->IterationSeconds(b) - (*plain)->IterationSeconds(b),
              32 * (OperatorModelOptions::kSplitwiseLayerOverheadS +
                    65 * OperatorModelOptions::kSplitwiseRequestLayerOverheadS),
              1e-12);
}

TEST(CalibrationFitTest, ServingStackProfileFitRecoversBothTerms) {
  std::vector<IterationSample> samples;
  for (int batch : {1, 4, 16, 64}) {
    for (int layers : {70, 80}) {
      IterationSample s;
      s.kernel_s = 0.02 + 1e-4 * batch;
      s.layers = layers;
      s.requests = batch;
      s.attention_decode_s = 1e-5 * batch;
      s.measured_s = s.kernel_s + layers * (150e-6 + 4e-6 * batch);
      samples.push_back(s);
    }
  }
  const OverheadFit fit = FitServingStackProfile(samples);
  EXPECT_NEAR(fit.layer_overhead_s, 150e-6, 1e-12);
  EXPECT_NEAR(fit.request_layer_overhead_s, 4e-6, 1e-13);
  EXPECT_EQ(fit.iteration_overhead_s, 0);
  EXPECT_NEAR(fit.Overhead(samples.back()),
              samples.back().measured_s - samples.back().kernel_s, 1e-12);
  // The alternative cannot go negative and keeps its per-layer term.
  const OverheadFit alt = FitDecodeAttentionScale(samples);
  EXPECT_GE(alt.attention_scale, 0);
  EXPECT_GT(alt.layer_overhead_s, 0);
  EXPECT_EQ(alt.request_layer_overhead_s, 0);
}

TEST(CalibrationFitTest, ReadsSplitwisePerfModelMedians) {
  const std::string path = ::testing::TempDir() + "/perf_model.csv";
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,peak_power,"
         "average_power,prompt_time,token_time,e2e_time,tensor_parallel\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,80,30,1,4\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,90,31,1,4\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,85,32,1,4\n"
         "llama2-70b,h100-80gb-pcap,512,1,128,1,1,110,30,1,4\n";
  }
  auto points = ReadSplitwisePerfModel(path);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 1u);  // pcap rows skipped
  EXPECT_DOUBLE_EQ((*points)[0].prompt_s, 0.085);
  EXPECT_DOUBLE_EQ((*points)[0].token_s, 0.031);
  EXPECT_EQ((*points)[0].repetitions, 3);
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
         "token_time,tensor_parallel\nllama2-70b,h100-80gb,abc,1,1,1,1,4\n";
  }
  points = ReadSplitwisePerfModel(path);
  EXPECT_EQ(points.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(points.status().message(), HasSubstr(":2:"));
  // A batch faster than half of it is flagged, its half is not.
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
         "token_time,tensor_parallel\n"
         "llama2-70b,h100-80gb,512,32,128,2398,52,2\n"
         "llama2-70b,h100-80gb,512,64,128,361,42,2\n"
         "llama2-70b,h100-80gb,512,16,128,1192,42,2\n";
  }
  points = ReadSplitwisePerfModel(path);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 3u);
  for (const IterationPoint& p : *points)
    EXPECT_EQ(p.inconsistent, p.batch == 64) << p.batch;
}

}  // namespace
}  // namespace fleetsim::hardware
