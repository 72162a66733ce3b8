#include "hardware/ops/elementwise_op.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fleetsim::hardware {

RowKernel NormKernel(v1::NormKind norm, const OperatorModelOptions& o) {
  return {
      2, norm == v1::NORM_KIND_LAYERNORM ? o.layernorm_flops : o.rmsnorm_flops};
}

RowKernel RotaryKernel() { return {2, 3}; }

RowKernel GatedActivationKernel(const OperatorModelOptions& o) {
  return {3, o.silu_mul_flops + o.exp_vector_flops};
}

RowKernel UngatedActivationKernel(const OperatorModelOptions& o) {
  return {2, o.gelu_flops + o.exp_vector_flops};
}

RowKernel ResidualAddKernel() { return {3, 1}; }

RowKernel EmbeddingKernel(double weight_bytes) {
  return {weight_bytes / kActivationBytes + 1, 0};
}

RowKernel SamplingKernel(const OperatorModelOptions& o) {
  return {3, 4 + o.exp_vector_flops};
}

RowKernel GatedNormKernel(const OperatorModelOptions& o) {
  return {3, o.rmsnorm_flops + 2};
}

absl::StatusOr<RowKernel> RowKernelForCalibrationOp(
    std::string_view op, v1::OperatorClass op_class,
    const OperatorModelOptions& o) {
  if (op_class == v1::OPERATOR_CLASS_NORM)
    return NormKernel(v1::NORM_KIND_RMSNORM, o);
  if (op_class == v1::OPERATOR_CLASS_ELEMENTWISE) {
    if (op == "rope" || op == "rotary") return RotaryKernel();
    if (op == "mlp_act" || op == "activation" || op == "moe_activation") {
      return GatedActivationKernel(o);
    }
    if (op == "mlp_act_ungated") return UngatedActivationKernel(o);
    if (op == "residual_add" || op == "add") return ResidualAddKernel();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "elementwise op '", std::string(op),
      "' is not one of rope, mlp_act, mlp_act_ungated, residual_add"));
}

namespace {

OpCost RowCost(const OperatorQuery& shape, const OperatorModelOptions& o,
               Feature rows, double elements_per_row) {
  OpCost c = MakeOpCost(OpForm::kRowKernel, shape.op_class, rows);
  c.vector_flops[rows] = shape.vector_flops_per_element * elements_per_row;
  if (o.fuse_elementwise &&
      (shape.op_class == v1::OPERATOR_CLASS_NORM ||
       shape.op_class == v1::OPERATOR_CLASS_ELEMENTWISE)) {
    c.fused = true;  // no launch, no traffic
  } else {
    c.bytes[rows] = kActivationBytes * elements_per_row * shape.io_rows;
  }
  return c;
}

}  // namespace

OpCost RowKernelCost(const OperatorQuery& shape, const OperatorModelOptions& o,
                     Feature rows) {
  return RowCost(shape, o, rows, static_cast<double>(shape.width));
}

OpCost BlockKernelCost(const OperatorQuery& shape,
                       const OperatorModelOptions& o, double elements) {
  // One block on the constant feature: its traffic is not on the row
  // feature, so the wave, per-row and cache terms stay off (priced_op.h).
  OpCost c = RowCost(shape, o, kOne, elements);
  c.rows = kTokens;
  return c;
}

}  // namespace fleetsim::hardware
