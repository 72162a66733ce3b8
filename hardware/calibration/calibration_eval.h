// File: hardware/calibration/calibration_eval.h
//
// Prediction error of a calibration table under the cost model: what
// `fleetsim calibrate eval` prints, and the error summaries every fit
// (efficiency_fit.h, cross_validation.h) reports.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(OperatorPricer pricer,
//                             OperatorPricer::Create(h100));
//   EvalReport report = EvaluateRows(pricer, rows);
#ifndef FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_EVAL_H_
#define FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_EVAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"
#include "hardware/operator_pricer.h"

namespace fleetsim::hardware {

// Rows faster than this are reported separately: the source resolution is
// 1 us, so their percentage errors are mostly quantisation.
inline constexpr double kFastRowSeconds = 10e-6;

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
// QueryFromRow (row_query.h) rejects.
absl::StatusOr<EvalReport> EvaluateRows(
    const OperatorPricer& pricer, const std::vector<v1::CalibrationRow>& rows);

// Per-row error predicted / measured - 1, in `rows` order. Same errors.
absl::StatusOr<std::vector<double>> RowErrors(
    const OperatorPricer& pricer, const std::vector<v1::CalibrationRow>& rows);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_EVAL_H_
