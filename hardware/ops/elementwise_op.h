// File: hardware/ops/elementwise_op.h
//
// The norm / elementwise family: per-token kernels over rows of `width`
// elements (norms, rotary, activations, residual adds, the embedding
// gather, sampling, SSM's gated norm). Each reads and writes a few such
// rows per token and spends a few vector FLOPs per element; the measured
// kernels also pay a fixed cost per row, run in whole waves of rows over the
// chip's compute units and run faster while their working set fits on chip
// (ClassEfficiency; docs/calibration.md §4). One definition for the
// simulator's table (hardware/operator_model.cc) and the pricer of measured
// rows (hardware/operator_pricer.h, hardware/calibration/row_query.h).
#ifndef FLEETSIM_HARDWARE_OPS_ELEMENTWISE_OP_H_
#define FLEETSIM_HARDWARE_OPS_ELEMENTWISE_OP_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/operator_options.h"
#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// What one kernel does per token row: rows of `width` read plus written
// (io_rows) and vector FLOPs per output element.
struct RowKernel {
  double io_rows = 2;
  double vector_flops_per_element = 0;
};

// The kernels, with their FLOPs from `o` (operators per element: norms
// LayerNorm ~8 / RMSNorm ~4, SiLU * mul ~5 or GELU ~8 plus one exponential).
RowKernel NormKernel(v1::NormKind norm,
                     const OperatorModelOptions& o);  // 1 + 1
RowKernel RotaryKernel();                             // 1 + 1, 3 FLOPs
RowKernel GatedActivationKernel(const OperatorModelOptions& o);    // 2 + 1
RowKernel UngatedActivationKernel(const OperatorModelOptions& o);  // 1 + 1
RowKernel ResidualAddKernel();  // 2 + 1, 1 FLOP
// Embedding gather: a weight row read (weight_bytes per element, counted in
// activation rows) and an activation row written; no FLOPs.
RowKernel EmbeddingKernel(double weight_bytes);
// Sampling over the logits: 2 + 1 rows, 4 FLOPs and an exponential.
RowKernel SamplingKernel(const OperatorModelOptions& o);
// Mamba-2's gated RMSNorm: x and the gate read, one row written.
RowKernel GatedNormKernel(const OperatorModelOptions& o);

// The kernel a calibration row measures, by its op name: class NORM is an
// RMSNorm; ELEMENTWISE "rope"/"rotary", "mlp_act"/"activation"/
// "moe_activation" (gated), "mlp_act_ungated" (a non-gated MLP's GELU, as
// MLP_KIND_GELU is priced) and "residual_add"/"add". InvalidArgument for
// other names.
absl::StatusOr<RowKernel> RowKernelForCalibrationOp(
    std::string_view op, v1::OperatorClass op_class,
    const OperatorModelOptions& o);

// One invocation over x[rows] token rows: shape.width elements per row,
// shape.io_rows and shape.vector_flops_per_element (a RowKernel), charged
// to shape.op_class. Norm and elementwise kernels fused into a neighbour
// (OperatorModelOptions::fuse_elementwise) keep their vector FLOPs only.
OpCost RowKernelCost(const OperatorQuery& shape, const OperatorModelOptions& o,
                     Feature rows = kTokens);

// The same for `elements` elements of unknown row width: no per-row terms.
OpCost BlockKernelCost(const OperatorQuery& shape,
                       const OperatorModelOptions& o, double elements);

// Rows rounded up to whole waves: ceil(rows / wave_rows) * wave_rows, with
// `inv_wave_rows` = 1 / wave_rows (a truncating cast instead of a libm
// ceil on the hot path). rows >= 0.
inline double WaveRows(double rows, double wave_rows, double inv_wave_rows) {
  double waves =
      static_cast<double>(static_cast<int64_t>(rows * inv_wave_rows));
  if (waves * wave_rows < rows) waves += 1;
  return waves * wave_rows;
}

// Factor on seconds per byte for a working set of u = W / W0:
// 1 / speedup(W) = (1 + u^8) / (1 + u^8 + gain). `resident` = 1 / (1 +
// gain), the value for u -> 0. Below u = 1/4 and above u = 4 the factor is
// within 2e-5 of its limit and the division is skipped (hot path).
inline double CacheFactor(double u, double gain, double resident) {
  if (u <= 0.25) return resident;
  if (u >= 4) return 1.0;
  const double u2 = u * u;
  const double u8 = 1.0 + (u2 * u2) * (u2 * u2);
  return u8 / (u8 + gain);
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_ELEMENTWISE_OP_H_
