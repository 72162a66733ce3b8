// Tests for hardware/ops/ssm_op.h: the simulator and the calibration fit
// price every SSM kernel (Mamba-2 and Mamba-1 conv, prefill scan, decode
// step) alike, and the decode step's state traffic.
#include "hardware/ops/ssm_op.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/hardware/ops/op_family_fixture.h"

namespace fleetsim::hardware {
namespace {

using family_test::CheckEveryModel;
using family_test::FamilyModel;
using family_test::FamilyModels;

bool IsSsm(const OperatorQuery& q) {
  return q.op_class == v1::OPERATOR_CLASS_SSM;
}

TEST(SsmOpTest, SimulatorAndFitPriceEverySsmKernelAlike) {
  const std::map<std::string, int> checked = CheckEveryModel(IsSsm);
  for (const FamilyModel& fm : FamilyModels()) {
    if (fm.label == "ssm" || fm.label == "hybrid") {
      EXPECT_GT(checked.at(fm.label), 0) << fm.label;
    } else {
      EXPECT_EQ(checked.at(fm.label), 0) << fm.label;  // no SSM layers
    }
  }
}

// The calibration schema has no SSM shapes: the fit prices SSM kernels from
// queries only, and says so for a row.
TEST(SsmOpTest, CalibrationRowsCannotHoldSsmKernels) {
  v1::CalibrationRow row;
  row.set_op(std::string(kSsmScanDecodeName));
  row.set_op_class(v1::OPERATOR_CLASS_SSM);
  EXPECT_EQ(QueryFromRow(row).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Mamba-2 2.7B on one chip: d_inner 5120, 80 heads of 64, d_state 128. A
// decode step reads and writes the 80 x 64 x 128 state (bf16) and reads x,
// z, B, C; the prefill scan writes each request's final state once.
TEST(SsmOpTest, DecodeMovesTheStateAndPrefillWritesItOnce) {
  OperatorQuery s;
  s.width = 5120;
  s.d_state = 128;
  s.ssm_head_dim = 64;
  s.conv_kernel = 4;
  s.kv_bytes = 2;
  const double state = 80.0 * 64 * 128;
  const OpCost dec = SsmScanDecodeCost(s);
  EXPECT_EQ(dec.bytes[kDecodeRequests],
            2 * 2 * state + 2 * (2 * 5120 + 2 * 128));
  EXPECT_EQ(dec.bytes[kDecodeContext], 0);  // constant in context
  EXPECT_EQ(SsmScanPrefillCost(s).bytes[kPrefillRequests], 2 * state);
  // Mamba-1 (no heads): the same step over d_inner x d_state.
  s.ssm_head_dim = 0;
  EXPECT_EQ(SsmScanDecodeCost(s).vector_flops[kDecodeRequests],
            6.0 * 5120 * 128);
}

}  // namespace
}  // namespace fleetsim::hardware
