// Tests for hardware/ops/elementwise_op.h: the simulator and the
// calibration fit price every norm and elementwise kernel alike (with the
// shipped H100's wave, per-row and cache terms), and the calibration op
// names map to the kernels the model charges.
#include "hardware/ops/elementwise_op.h"

#include <string>

#include "gtest/gtest.h"
#include "hardware/ops/attention_op.h"
#include "tests/hardware/ops/op_family_fixture.h"

namespace fleetsim::hardware {
namespace {

using family_test::CheckEveryModel;
using family_test::ExpectRowAgrees;
using family_test::FamilyBatches;
using family_test::FamilyModel;
using family_test::FamilyModels;
using family_test::ForEachSeenOp;
using family_test::SeenOp;

// Norm and elementwise kernels other than the attention family's.
bool IsRowKernel(const OperatorQuery& q) {
  return (q.op_class == v1::OPERATOR_CLASS_NORM ||
          q.op_class == v1::OPERATOR_CLASS_ELEMENTWISE) &&
         q.name != kAttnSoftmaxName && q.name != kCcaConvName;
}

TEST(ElementwiseOpTest, SimulatorAndFitPriceEveryRowKernelAlike) {
  const v1::Chip h100 = family_test::H100();
  ASSERT_GT(h100.compute_units(), 0);  // wave term on
  ASSERT_GT(h100.sram_mb(), 0);        // cache term on
  const std::map<std::string, int> checked = CheckEveryModel(IsRowKernel);
  for (const FamilyModel& fm : FamilyModels()) {
    EXPECT_GT(checked.at(fm.label), 0) << fm.label;
  }
}

// The fit's row path for the kernels Vidur-style tables measure.
TEST(ElementwiseOpTest, MeasuredRowsPriceAsTheSimulatorsInvocation) {
  int checked = 0;
  ForEachSeenOp(
      1, FamilyBatches(), [&checked](const FamilyModel& fm, const SeenOp& s) {
        if (!(s.name == "norm" || s.name == "mla_norm" || s.name == "rotary" ||
              s.name == "activation" || s.name == "moe_activation" ||
              s.name == "residual_add")) {
          return;
        }
        const OperatorQuery q = s.Query();
        v1::CalibrationRow row;
        row.set_op(s.name);
        row.set_op_class(q.op_class);
        row.set_tp(fm.tp);
        row.set_dtype(v1::DTYPE_BF16);
        row.set_elements(q.elements);
        row.set_width(q.width);
        row.set_tokens(q.elements / q.width);
        ExpectRowAgrees(row, q, fm.label + " " + s.name);
        ++checked;
      });
  EXPECT_GT(checked, 40);
}

TEST(ElementwiseOpTest, CalibrationOpNamesMapToTheModelsKernels) {
  const OperatorModelOptions o;
  auto kernel = [&o](const char* op, v1::OperatorClass c) {
    absl::StatusOr<RowKernel> k = RowKernelForCalibrationOp(op, c, o);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *k : RowKernel{};
  };
  auto same = [](const RowKernel& a, const RowKernel& b) {
    return a.io_rows == b.io_rows &&
           a.vector_flops_per_element == b.vector_flops_per_element;
  };
  EXPECT_TRUE(same(kernel("input_layernorm", v1::OPERATOR_CLASS_NORM),
                   NormKernel(v1::NORM_KIND_RMSNORM, o)));
  EXPECT_TRUE(
      same(kernel("rope", v1::OPERATOR_CLASS_ELEMENTWISE), RotaryKernel()));
  EXPECT_TRUE(same(kernel("mlp_act", v1::OPERATOR_CLASS_ELEMENTWISE),
                   GatedActivationKernel(o)));
  EXPECT_TRUE(same(kernel("mlp_act_ungated", v1::OPERATOR_CLASS_ELEMENTWISE),
                   UngatedActivationKernel(o)));
  EXPECT_TRUE(
      same(kernel("add", v1::OPERATOR_CLASS_ELEMENTWISE), ResidualAddKernel()));
  EXPECT_EQ(
      RowKernelForCalibrationOp("softmax", v1::OPERATOR_CLASS_ELEMENTWISE, o)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// Fused into a neighbour: vector FLOPs stay, traffic and launch go.
TEST(ElementwiseOpTest, FusedKernelsKeepOnlyTheirFlops) {
  OperatorQuery s;
  s.op_class = v1::OPERATOR_CLASS_NORM;
  s.width = 4096;
  s.io_rows = 2;
  s.vector_flops_per_element = 4;
  OperatorModelOptions o;
  o.fuse_elementwise = true;
  const OpCost fused = RowKernelCost(s, o);
  EXPECT_TRUE(fused.fused);
  EXPECT_EQ(fused.bytes[kTokens], 0);
  EXPECT_EQ(fused.vector_flops[kTokens], 4.0 * 4096);
  s.op_class = v1::OPERATOR_CLASS_SSM;  // only norm / elementwise kernels fuse
  EXPECT_EQ(RowKernelCost(s, o).bytes[kTokens], 2.0 * 4096 * 2);
}

}  // namespace
}  // namespace fleetsim::hardware
