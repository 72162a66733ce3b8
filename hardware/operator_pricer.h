// File: hardware/operator_pricer.h
//
// Prices single operator invocations from their shapes (OperatorQuery) on
// one chip, through the same operator-family costs (hardware/ops/) and unit
// step (hardware/ops/priced_op.h) the operator model's iteration table
// uses: a query the model hands its correction hooks prices to the model's
// own seconds. No Model is needed: this is what `fleetsim calibrate eval`
// and the efficiency fit (hardware/calibration/efficiency_fit.h) predict
// measured rows with. Immutable after Create(); thread-compatible; Seconds()
// does not allocate.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(OperatorPricer pricer,
//                             OperatorPricer::Create(h100));
//   OperatorQuery q;
//   q.name = "o_proj";
//   q.op_class = OPERATOR_CLASS_GEMM;
//   q.m = 256; q.n = 8192; q.k = 8192;
//   double seconds = pricer.Seconds(q);
#ifndef FLEETSIM_HARDWARE_OPERATOR_PRICER_H_
#define FLEETSIM_HARDWARE_OPERATOR_PRICER_H_

#include <array>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "hardware/operator_options.h"
#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

class OperatorPricer final {
 public:
  // InvalidArgument when the chip lacks a peak, bandwidth or (for
  // collectives) scale-up bandwidth, or an efficiency is out of range.
  // (Default spelled as in OperatorModel::Create, for clang 14.)
  static absl::StatusOr<OperatorPricer> Create(
      const v1::Chip& chip,
      const OperatorModelOptions& options = OperatorModelOptions());

  // Seconds of one invocation of `q` (shape fields per its family; see
  // OperatorQuery and hardware/ops/op_query.h), before any correction hook.
  // Fills q's analytic view (flops, vector_flops, bytes, analytic_s) when
  // `filled` is not null.
  double Seconds(const OperatorQuery& q, OperatorQuery* filled = nullptr) const;

  const v1::Chip& chip() const { return chip_; }
  const OperatorModelOptions& options() const { return options_; }

 private:
  friend class OperatorModel;
  OperatorPricer(const v1::Chip& chip, const OperatorModelOptions& options);
  v1::Chip chip_;
  OperatorModelOptions options_;
  // Indexed [TensorPrecision][...]: an operator takes the chip's entries
  // of its weights' precision's dtype (TensorDtype).
  std::array<std::array<ClassEfficiency, kNumOperatorClasses>,
             kNumTensorPrecisions>
      eff_;
  std::array<std::array<ClassEfficiency, kNumNamedOperators>,
             kNumTensorPrecisions>
      op_eff_;
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPERATOR_PRICER_H_
