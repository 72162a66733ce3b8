#include "hardware/calibration/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/operator_pricer.h"

namespace fleetsim::hardware {

absl::StatusOr<CvResult> CrossValidateClass(
    const v1::Chip& chip, v1::OperatorClass op_class,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base) {
  std::vector<v1::CalibrationRow> own = RowsOfClass(rows, op_class);
  if (op_class == v1::OPERATOR_CLASS_COLLECTIVE) {
    // Only what FitCollective fits: all-reduce within one machine.
    std::vector<v1::CalibrationRow> fitted;
    for (v1::CalibrationRow& r : own) {
      if (r.op() == "all_reduce" && r.ranks() <= base.chips_per_machine)
        fitted.push_back(std::move(r));
    }
    own.swap(fitted);
  }
  if (own.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no rows of class ", OperatorClassShortName(op_class)));
  }
  CvResult result;
  result.op_class = op_class;
  std::map<std::string, int> models;
  std::map<std::string, int> frameworks;
  for (const v1::CalibrationRow& r : own) {
    ++models[r.model()];
    ++frameworks[r.framework()];
  }
  std::function<std::string(const v1::CalibrationRow&)> key;
  if (models.size() >= 2) {
    result.grouping = "model";
    key = [](const v1::CalibrationRow& r) { return r.model(); };
  } else if (frameworks.size() >= 2) {
    // Framework-measured tables (aiconfigurator): fit the other frameworks'
    // kernels, predict this one's.
    result.grouping = "framework";
    key = [](const v1::CalibrationRow& r) { return r.framework(); };
  } else if (op_class == v1::OPERATOR_CLASS_MOE) {
    // Fused MoE rows name no model: the expert shape is the model (hidden,
    // expert width, experts, top-k), so this is leave-one-model-out.
    result.grouping = "moe shape";
    key = [](const v1::CalibrationRow& r) {
      return absl::StrCat(r.hidden(), "x", r.inter(), " E", r.experts(), " k",
                          r.top_k());
    };
  } else if (op_class == v1::OPERATOR_CLASS_COLLECTIVE) {
    result.grouping = "ranks";
    key = [](const v1::CalibrationRow& r) {
      return absl::StrCat(r.op(), " ranks=", r.ranks());
    };
  } else {
    // One source table: hold out octaves of the swept size (prefill chunk
    // tokens, a GEMM's token rows m, decode batch), i.e. extrapolate to
    // unseen sizes.
    const bool prefill = op_class == v1::OPERATOR_CLASS_ATTENTION_PREFILL;
    const bool gemm = op_class == v1::OPERATOR_CLASS_GEMM;
    const char* size = prefill ? "chunk" : gemm ? "m" : "batch";
    result.grouping = absl::StrCat(size, " octave");
    key = [prefill, gemm, size](const v1::CalibrationRow& r) {
      const int64_t b = std::max<int64_t>(prefill ? r.new_tokens()
                                          : gemm  ? r.m()
                                                  : r.batch(),
                                          1);
      const int octave = static_cast<int>(std::floor(std::log2(b)));
      return absl::StrCat(size, " ", int64_t{1} << octave, "-",
                          (int64_t{2} << octave) - 1);
    };
  }
  std::map<std::string, std::vector<v1::CalibrationRow>> groups;
  for (const v1::CalibrationRow& r : own) groups[key(r)].push_back(r);
  if (groups.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("cross-validation of ", OperatorClassShortName(op_class),
                     " needs at least two groups, got ", groups.size()));
  }
  std::vector<double> pooled;
  std::vector<double> pooled_slow;
  for (const auto& [name, held_out] : groups) {
    std::vector<v1::CalibrationRow> train;
    for (const v1::CalibrationRow& r : own)
      if (key(r) != name) train.push_back(r);
    absl::StatusOr<std::vector<ClassFit>> fits =
        FitClassAndOperators(chip, op_class, train, base);
    if (!fits.ok()) return fits.status();
    v1::Chip fitted = chip;
    for (const ClassFit& f : *fits)
      fitted = WithEfficiency(fitted, f.efficiency);
    absl::StatusOr<OperatorPricer> pricer =
        OperatorPricer::Create(fitted, base);
    if (!pricer.ok()) return pricer.status();
    absl::StatusOr<std::vector<double>> errors = RowErrors(*pricer, held_out);
    if (!errors.ok()) return errors.status();
    std::vector<double> slow;
    for (size_t i = 0; i < held_out.size(); ++i) {
      if (held_out[i].median_s() >= kFastRowSeconds)
        slow.push_back((*errors)[i]);
    }
    pooled.insert(pooled.end(), errors->begin(), errors->end());
    pooled_slow.insert(pooled_slow.end(), slow.begin(), slow.end());
    result.groups.push_back(
        CvGroup{name, SummariseErrors(*errors), SummariseErrors(slow)});
  }
  result.pooled = SummariseErrors(pooled);
  result.pooled_slow = SummariseErrors(pooled_slow);
  return result;
}

}  // namespace fleetsim::hardware
