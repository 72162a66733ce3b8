// File: hardware/calibration/calibration_fit.h
//
// Measured tables -> the cost model: prediction error of a calibration table
// (what `fleetsim calibrate eval` prints), the per-class efficiency fit
// (what `fleetsim calibrate fit` prints and data/chips/{h100,a100}.txtpb
// carry), its leave-one-model-out cross-validation, and the per-iteration
// framework-overhead fit against whole measured iterations.
//
// The fit is deliberately small: per chip and operator class (and per
// measured elementwise operator: rope, mlp_act, residual_add), a handful of
// efficiency parameters of the roofline in hardware/operator_model.h (eta_c,
// eta_m, the memory ramp, the GEMM parallel-columns term, the launch floor,
// the smooth-maximum exponent; norm/elementwise waves, per-row cost and
// cache residency; for collectives eta_net and alpha), chosen by
// Nelder-Mead on a robust (Huber) loss of log(predicted / measured). Shapes,
// not model identities, enter the fit, so a model never measured gets times
// from the same curves. docs/calibration.md §4-6 describes the method and
// reports the cross-validation.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(OperatorPricer pricer,
//                             OperatorPricer::Create(h100));
//   EvalReport report = EvaluateRows(pricer, rows);
#ifndef FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_FIT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_FIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "hardware/operator_model.h"
#include "hardware/splitwise_perf_model.h"
#include "proto/calibration.pb.h"
#include "proto/chip.pb.h"
#include "proto/model.pb.h"

namespace fleetsim::hardware {

// Rows faster than this are reported separately: the source resolution is
// 1 us, so their percentage errors are mostly quantisation.
inline constexpr double kFastRowSeconds = 10e-6;

// QueryFromRow()
//
// The OperatorQuery that prices `row` (proto/calibration.proto shapes):
// GEMM m/n/k (heads > 0: one product per head, MLA's BMMs); attention with
// per-request cached tokens turned into the query's sums over requests
// (decode: context = batch * (cached + 1); prefill: new = batch * T,
// context = batch * (cached + T), pairs = batch * (T * cached + T (T + 1) /
// 2); a sliding window caps each query's keys), MLA rows in the naive
// (prefill) or absorbed (decode) shape the cost model uses, KV bytes from
// kv_dtype; norm and elementwise rows with the reads +
// writes and vector FLOPs of the kernel their op name measures
// (RowKernelForCalibrationOp in hardware/ops/elementwise_op.h: norm 2 rows,
// rope 2, mlp_act 3, residual_add 3); collectives with bytes and ranks,
// over scale-out when the ranks exceed one machine. q.name points into
// row.op(): `row` must outlive the query. InvalidArgument for a row whose
// class cannot be priced (MoE, SSM; fp4) or whose op is unknown for its
// class.
absl::StatusOr<OperatorQuery> QueryFromRow(const CalibrationRow& row);

// Absolute-percentage-error summary of a set of rows.
struct ErrorStats {
  int64_t rows = 0;
  double median_ape = 0;  // fraction: 0.05 = 5 %
  double p90_ape = 0;
  double median_signed = 0;  // median of predicted / measured - 1 (bias)
};

// Summarises errors (predicted / measured - 1) into ErrorStats.
ErrorStats SummariseErrors(std::vector<double> errors);

// One line of an evaluation: a name (an op, a class, "overall") with its
// rows >= kFastRowSeconds and its faster rows.
struct EvalLine {
  std::string name;
  ErrorStats rows;  // measured >= 10 us
  ErrorStats fast;  // measured < 10 us
};

struct EvalReport {
  std::vector<EvalLine> by_op;     // in first-seen order
  std::vector<EvalLine> by_class;  // "gemm", "norm", ... (short names)
  EvalLine overall;
};

// EvaluateRows()
//
// Predicts every row with `pricer` and summarises the errors per op, per
// class and overall. InvalidArgument (naming the row index and op) for a row
// QueryFromRow rejects.
absl::StatusOr<EvalReport> EvaluateRows(
    const OperatorPricer& pricer, const std::vector<CalibrationRow>& rows);

// Per-row error predicted / measured - 1, in `rows` order. Same errors.
absl::StatusOr<std::vector<double>> RowErrors(
    const OperatorPricer& pricer, const std::vector<CalibrationRow>& rows);

// What one class's fit found.
struct ClassFit {
  OperatorClass op_class = OPERATOR_CLASS_UNSPECIFIED;
  std::string op_name;  // set for a named operator's fit (FitOperator)
  OperatorEfficiency efficiency;  // op set; fitted fields set; source set
  int64_t rows = 0;
  double loss = 0;  // mean Huber loss of log(predicted / measured)
  ErrorStats in_sample;
};

// FitClass()
//
// Fits the efficiency parameters of `op_class` on `chip` to `rows` (rows of
// other classes are ignored), starting from `base` (the options and chip
// entries in force for everything not fitted). Fitted per class:
//   GEMM:               compute, memory, memory_ramp_mb, parallel_columns,
//                       floor_us, overlap_exponent
//   ATTENTION_PREFILL:  compute, compute_ramp_tokens, floor_us,
//                       overlap_exponent
//   ATTENTION_DECODE:   compute, memory, memory_ramp_mb, floor_us
//   NORM, named ELEMENTWISE operators (FitOperator):
//                       memory, memory_ramp_mb, floor_us, cache_speedup,
//                       cache_fraction (< 1), row_overhead_kb; on a chip
//                       with compute_units also rows_per_unit (from
//                       {0 = off, 1, 2, 4})
//   ELEMENTWISE class:  memory, memory_ramp_mb, floor_us (it prices only
//                       operators without their own entry)
//   COLLECTIVE:         memory (eta_net), step_latency_us, floor_us
// The class entry is fitted with the chip's operator entries of the class
// removed (it then prices every row). InvalidArgument when no row of the
// class is given or the class has no fit; rows must be priceable
// (QueryFromRow).
absl::StatusOr<ClassFit> FitClass(const Chip& chip, OperatorClass op_class,
                                  const std::vector<CalibrationRow>& rows,
                                  const OperatorModelOptions& base = {});

// The same for one named ELEMENTWISE operator (NamedOperatorIndex: "rope",
// "mlp_act", "residual_add"), on its rows only; the entry has op_name set.
absl::StatusOr<ClassFit> FitOperator(const Chip& chip, OperatorClass op_class,
                                     std::string_view op_name,
                                     const std::vector<CalibrationRow>& rows,
                                     const OperatorModelOptions& base = {});

// FitClass, then for ELEMENTWISE a FitOperator for every named operator
// present in `rows`: what `fleetsim calibrate fit` prints and the
// cross-validation refits per fold.
absl::StatusOr<std::vector<ClassFit>> FitClassAndOperators(
    const Chip& chip, OperatorClass op_class,
    const std::vector<CalibrationRow>& rows,
    const OperatorModelOptions& base = {});

// Returns `chip` with `fit.efficiency` merged in: an existing entry for the
// class has the fitted fields replaced, otherwise the entry is appended. A
// fit with op_name goes into the class entry's `operators` the same way
// (the class entry is created, with op only, if missing).
Chip WithEfficiency(const Chip& chip, const OperatorEfficiency& fit);

// Leave-one-group-out cross-validation of one class: for each group, fit
// on the other groups (FitClassAndOperators: ELEMENTWISE refits its
// operator entries too) and predict the held-out one. Groups are the rows'
// `model` when at least two models are present ("model"), else, for a
// single-source table, decode batch / prefill chunk octaves for attention
// ("batch octave") and rank counts for collectives ("ranks").
struct CvGroup {
  std::string group;
  ErrorStats held_out;       // all rows of the group, fast ones included
  ErrorStats held_out_slow;  // rows >= 10 us only
};
struct CvResult {
  OperatorClass op_class = OPERATOR_CLASS_UNSPECIFIED;
  std::string grouping;  // "model", "batch octave", "ranks"
  std::vector<CvGroup> groups;
  ErrorStats pooled;       // all held-out predictions together
  ErrorStats pooled_slow;  // held-out rows >= 10 us
};
absl::StatusOr<CvResult> CrossValidateClass(
    const Chip& chip, OperatorClass op_class,
    const std::vector<CalibrationRow>& rows,
    const OperatorModelOptions& base = {});

// Whole measured iterations: perf_model.csv (ReadSplitwisePerfRows) with one
// point per (model, hardware, TP, prompt size, batch), medians over the
// repetitions, sorted by key. Rows of hardware ending in "-pcap" are skipped
// (synthetic in the source); `inconsistent` is set as documented on
// IterationPoint. Errors as ReadSplitwisePerfRows.
absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfModel(
    const std::string& path);

// A kernel-model prediction of one IterationPoint next to its measurement;
// the overhead fit works on these.
struct IterationSample {
  IterationPoint point;
  bool prefill = true;  // the prompt_s (true) or token_s (false) sample
  double measured_s = 0;
  double kernel_s = 0;  // OperatorModel with zero framework overhead
  int layers = 0;       // num_layers of the model
  int requests = 1;     // requests in the iteration (the point's batch)
  // The kernel model's decode-attention time (0 for prefill samples), for
  // the alternative "decode attention runs at a lower memory efficiency".
  double attention_decode_s = 0;
};

// Least-squares fit of measured - kernel = a + b * layers over `samples`
// (relative weighting: each sample's residual divided by its measurement).
// a and b are clamped at >= 0. With a single distinct layer count, b = 0.
struct OverheadFit {
  double iteration_overhead_s = 0;
  double layer_overhead_s = 0;
  double request_layer_overhead_s = 0;
  // Alternative term: decode attention slower by this factor minus one
  // (its memory efficiency divided by 1 + attention_scale). Not shipped.
  double attention_scale = 0;

  // measured - kernel predicted by this fit for `s`.
  double Overhead(const IterationSample& s) const;
};
OverheadFit FitFrameworkOverhead(const std::vector<IterationSample>& samples,
                                 bool per_layer);

// The serving-stack profile: least squares of measured - kernel =
// b * layers + c * requests * layers (same weighting; no constant term;
// b, c >= 0). What OperatorModelOptions::WithSplitwiseOverhead() ships.
OverheadFit FitServingStackProfile(const std::vector<IterationSample>& samples);

// The rejected alternative: measured - kernel = b * layers + s *
// attention_decode_s (decode attention at 1 / (1 + s) of the model's memory
// efficiency), b, s >= 0; calibrate e2e reports it next to the profile.
OverheadFit FitDecodeAttentionScale(
    const std::vector<IterationSample>& samples);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_FIT_H_
