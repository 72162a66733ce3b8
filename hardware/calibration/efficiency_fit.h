// File: hardware/calibration/efficiency_fit.h
//
// Measured tables -> the cost model's efficiency entries: the per-class
// (and per named operator) fit that `fleetsim calibrate fit` prints and
// data/chips/{h100,a100}.txtpb carry.
//
// The fit is deliberately small: per chip and operator class (and per
// measured elementwise operator: rope, mlp_act, residual_add), a handful of
// efficiency parameters of the roofline in hardware/operator_model.h (eta_c,
// eta_m, the memory ramp, the GEMM parallel-columns term, the launch floor,
// the smooth-maximum exponent; norm/elementwise waves, per-row cost and
// cache residency; for collectives the all-reduce lines of
// collective_fit.h), chosen by Nelder-Mead on a robust (Huber) loss of
// log(predicted / measured). Shapes, not model identities, enter the fit, so
// a model never measured gets times from the same curves. docs/calibration.md
// §4-6 describes the method and reports the cross-validation
// (cross_validation.h).
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(ClassFit gemm,
//                             FitClass(h100, OPERATOR_CLASS_GEMM, rows));
//   Chip fitted = WithEfficiency(h100, gemm.efficiency);
#ifndef FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_FIT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_FIT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"
#include "fleetsim/v1/chip.pb.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/operator_options.h"

namespace fleetsim::hardware {

// What one class's fit found.
struct ClassFit {
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  std::string op_name;  // set for a named operator's fit (FitOperator)
  v1::OperatorEfficiency efficiency;  // op set; fitted fields set; source set
  int64_t rows = 0;
  double loss = 0;  // mean Huber loss of log(predicted / measured)
  ErrorStats in_sample;
};

// FitClass()
//
// Fits the efficiency parameters of `op_class` on `chip` to `rows` (rows of
// other classes are ignored), starting from `base` (the options and chip
// entries in force for everything not fitted). Fitted per class
// (ParamsFor in efficiency_params.h):
//   GEMM:               compute, memory, memory_ramp_mb, parallel_columns,
//                       floor_us, overlap_exponent, compute_latency_us,
//                       tile_overhead_rows
//   ATTENTION_PREFILL:  compute, unit_latency_us, latency_us,
//                       overlap_exponent (FlashAttention-3's 128 x 128
//                       tiles fixed; no floor, no compute ramp)
//   ATTENTION_DECODE:   memory, latency_us, unit_latency_us (no memory
//                       ramp, no floor; rows of MLA decode excluded)
//   ATTENTION_DECODE "mla_decode" (FitOperator): compute, memory,
//                       latency_us, unit_latency_us, overlap_exponent
//   SSM "ssm_conv" (FitOperator): memory, latency_us, overlap_exponent
//                       (no floor, no ramp; 512-token prompt tiles)
//   MOE "moe" (FitOperator, the fused layer): compute, memory, latency_us,
//                       local_pair_bytes, layer_pair_bytes,
//                       overlap_exponent (no ramp, floor or tile latency)
//   NORM:               memory, memory_ramp_mb, cache_speedup,
//                       cache_fraction (< 1), row_overhead_kb (no floor)
//   named ELEMENTWISE operators (FitOperator): those and floor_us
//   NORM and named operators, on a chip with compute_units: also
//                       rows_per_unit (from {0 = off, 1, 2, 4})
//   ELEMENTWISE class:  memory, memory_ramp_mb, floor_us (it prices only
//                       operators without their own entry)
//   COLLECTIVE:         the all-reduce lines (FitCollective,
//                       collective_fit.h)
// The class entry is fitted with the chip's operator entries of the class
// removed (it then prices every row). InvalidArgument when no row of the
// class is given or the class has no fit; rows must be priceable
// (QueryFromRow, row_query.h).
absl::StatusOr<ClassFit> FitClass(const v1::Chip& chip,
                                  v1::OperatorClass op_class,
                                  const std::vector<v1::CalibrationRow>& rows,
                                  const OperatorModelOptions& base = {});

// The same for one named operator of `op_class` (NamedOperatorIndexIn:
// ELEMENTWISE "rope", "mlp_act", "residual_add"; ATTENTION_DECODE
// "mla_decode"; MOE "moe"; SSM "ssm_conv"), on its rows only; the entry
// has op_name set.
absl::StatusOr<ClassFit> FitOperator(
    const v1::Chip& chip, v1::OperatorClass op_class, std::string_view op_name,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base = {});

// FitClass (unless every row of the class is a named operator's that the
// class entry does not price: MLA decode alone), then a FitOperator for
// every named operator of the class present in `rows`: what `fleetsim
// calibrate fit` prints and the cross-validation refits per fold. The
// class fit, when there is one, comes first.
absl::StatusOr<std::vector<ClassFit>> FitClassAndOperators(
    const v1::Chip& chip, v1::OperatorClass op_class,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base = {});

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_FIT_H_
