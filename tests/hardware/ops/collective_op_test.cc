// Tests for hardware/ops/collective_op.h: the simulator and the calibration
// fit price every collective (TP all-reduce, logits gather, pipeline send,
// within and across machines) alike.
#include "hardware/ops/collective_op.h"

#include <string>

#include "gtest/gtest.h"
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
using family_test::SimulatorQueries;

bool IsCollective(const OperatorQuery& q) {
  return q.op_class == v1::OPERATOR_CLASS_COLLECTIVE;
}

TEST(CollectiveOpTest, SimulatorAndFitPriceEveryCollectiveAlike) {
  // Every model runs with pp = 2 (a send); DeepSeek-V3 at TP8 x PP2 spans
  // two machines, so its send crosses the scale-out network.
  const std::map<std::string, int> checked = CheckEveryModel(IsCollective);
  for (const FamilyModel& fm : FamilyModels()) {
    EXPECT_GT(checked.at(fm.label), 0) << fm.label;
  }
  const FamilyModel mla = FamilyModels()[2];
  ASSERT_EQ(mla.tp, 8);
  bool crossed = false;
  for (const SeenOp& s : SimulatorQueries(mla.model, family_test::H100(), 8, 2,
                                          {}, FamilyBatches()[0])) {
    if (s.name == "pp_send") crossed = s.query.scale_out;
  }
  EXPECT_TRUE(crossed);
}

// The fit's row path: the NCCL rows a profiler records for the simulator's
// collectives within one machine.
TEST(CollectiveOpTest, MeasuredRowsPriceAsTheSimulatorsInvocation) {
  int checked = 0;
  ForEachSeenOp(2, {FamilyBatches()[0]},
                [&checked](const FamilyModel& fm, const SeenOp& s) {
                  const OperatorQuery q = s.Query();
                  if (fm.tp * 2 > 8 || !IsCollective(q)) return;
                  v1::CalibrationRow row;
                  row.set_op(s.name);
                  row.set_op_class(v1::OPERATOR_CLASS_COLLECTIVE);
                  row.set_tp(fm.tp);
                  row.set_bytes(static_cast<int64_t>(q.message_bytes));
                  row.set_ranks(q.ranks);
                  ExpectRowAgrees(row, q, fm.label + " " + s.name);
                  ++checked;
                });
  EXPECT_GT(checked, 8);
}

TEST(CollectiveOpTest, NamesPickTheAlgorithm) {
  EXPECT_EQ(CollectiveKindOf("pp_send"), CollectiveKind::kSendRecv);
  EXPECT_EQ(CollectiveKindOf("send_recv"), CollectiveKind::kSendRecv);
  EXPECT_EQ(CollectiveKindOf("logits_gather"), CollectiveKind::kGather);
  EXPECT_EQ(CollectiveKindOf("all_reduce"), CollectiveKind::kAllReduce);
  // Ring all-reduce of S over t ranks: 2 (t-1)/t S / BW + 2 (t-1) alpha.
  EXPECT_DOUBLE_EQ(
      CollectiveSeconds(CollectiveKind::kAllReduce, 4, 1e6, 1e-9, 1e-6),
      1.5e-3 + 6e-6);
}

}  // namespace
}  // namespace fleetsim::hardware
