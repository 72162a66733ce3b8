// File: hardware/calibration/cross_validation.h
//
// How well the efficiency fit (efficiency_fit.h) predicts rows it has not
// seen: leave-one-group-out cross-validation of one operator class, what
// `fleetsim calibrate fit --cv` prints and docs/calibration.md reports.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_CROSS_VALIDATION_H_
#define FLEETSIM_HARDWARE_CALIBRATION_CROSS_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"
#include "fleetsim/v1/chip.pb.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/operator_options.h"

namespace fleetsim::hardware {

// One held-out group's prediction errors.
struct CvGroup {
  std::string group;
  ErrorStats held_out;       // all rows of the group, fast ones included
  ErrorStats held_out_slow;  // rows >= 10 us only
};

struct CvResult {
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  std::string grouping;  // "model", "framework", "batch octave", "ranks"...
  std::vector<CvGroup> groups;
  ErrorStats pooled;       // all held-out predictions together
  ErrorStats pooled_slow;  // held-out rows >= 10 us
};

// CrossValidateClass()
//
// Leave-one-group-out cross-validation of one class: for each group, fit
// on the other groups (FitClassAndOperators: ELEMENTWISE refits its
// operator entries too) and predict the held-out one. Groups are the rows'
// `model` when at least two models are present ("model"), else their
// `framework` when at least two are ("framework"), else, for a
// single-source table, the expert shape for fused MoE ("moe shape": the
// rows name no model), prefill chunk / decode batch octaves for attention
// ("chunk octave", "batch octave") and rank counts for collectives
// ("ranks"). COLLECTIVE validates only what FitCollective fits (all-reduce
// within one machine). InvalidArgument when the class has no rows or fewer
// than two groups, or a fold's fit fails.
absl::StatusOr<CvResult> CrossValidateClass(
    const v1::Chip& chip, v1::OperatorClass op_class,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base = {});

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_CROSS_VALIDATION_H_
