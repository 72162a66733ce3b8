#include "hardware/ops/collective_op.h"

namespace fleetsim::hardware {

CollectiveKind CollectiveKindOf(std::string_view name) {
  if (name == "send_recv" || name == "pp_send") {
    return CollectiveKind::kSendRecv;
  }
  if (name == "all_gather" || name == "logits_gather") {
    return CollectiveKind::kGather;
  }
  if (name == "alltoall" || name == "ep_dispatch" || name == "ep_combine") {
    return CollectiveKind::kAllToAll;
  }
  return CollectiveKind::kAllReduce;
}

OpCost CollectiveCost(CollectiveKind kind, int ranks, bool scale_out,
                      double bytes_per_row, Feature rows) {
  OpCost c =
      MakeOpCost(OpForm::kCollective, v1::OPERATOR_CLASS_COLLECTIVE, rows);
  c.bytes[rows] = bytes_per_row;
  c.collective = kind;
  c.ranks = ranks;
  c.scale_out = scale_out;
  return c;
}

}  // namespace fleetsim::hardware
