// File: hardware/ops/collective_op.h
//
// The collective family: tensor-parallel all-reduce, the logits gather,
// pipeline send/recv and the expert-parallel all-to-all. Ring all-reduce of
// S bytes per rank over t ranks takes 2 (t-1)/t S / BW + 2 (t-1) alpha; a
// gather to one rank (t-1) (S / BW + alpha); a send S / BW + alpha; an
// all-to-all, where each rank keeps 1/t of its S bytes and sends the rest to
// the t - 1 others at once over the switch, (t-1)/t S / BW + alpha (one
// step: NCCL issues the t - 1 sends as one group); with BW the link
// bandwidth times
// eta_net and alpha the latency per step (ClassEfficiency of COLLECTIVE;
// OperatorModelOptions::collective_alpha_s / collective_efficiency fitted to
// Vidur's NCCL measurements). One definition for the simulator's table
// (hardware/operator_model.cc) and the pricer (hardware/operator_pricer.h).
#ifndef FLEETSIM_HARDWARE_OPS_COLLECTIVE_OP_H_
#define FLEETSIM_HARDWARE_OPS_COLLECTIVE_OP_H_

#include <algorithm>
#include <string_view>

#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// The algorithm an operator name runs: "send_recv"/"pp_send" point to
// point, "all_gather"/"logits_gather" a gather, "alltoall" (aiconfigurator's
// NCCL rows) and "ep_dispatch"/"ep_combine" an all-to-all, anything else a
// ring all-reduce.
CollectiveKind CollectiveKindOf(std::string_view name);

// One collective over `ranks` ranks (send/recv: 2) moving `bytes_per_row`
// bytes per rank per x[rows] (the pricer: the whole message on kOne), over
// the scale-out network when `scale_out`, else scale-up. Class COLLECTIVE.
OpCost CollectiveCost(CollectiveKind kind, int ranks, bool scale_out,
                      double bytes_per_row, Feature rows);

// Seconds of one collective of `bytes` per rank over t ranks.
inline double CollectiveSeconds(CollectiveKind kind, double t, double bytes,
                                double link_s_per_byte, double alpha_s) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return 2.0 * (t - 1) / t * bytes * link_s_per_byte +
             2.0 * (t - 1) * alpha_s;
    case CollectiveKind::kGather:
      return (t - 1) * (bytes * link_s_per_byte + alpha_s);
    case CollectiveKind::kAllToAll:
      return (t - 1) / t * bytes * link_s_per_byte + alpha_s;
    case CollectiveKind::kSendRecv:
    case CollectiveKind::kNone:
      break;
  }
  return bytes * link_s_per_byte + alpha_s;
}

// All-reduce of `bytes` per rank over t ranks on a measured alpha-beta fit
// (ClassEfficiency::collective_fits): the smaller of a low-latency line and
// a bulk-bandwidth line, each alpha + 2 (t - 1) / t bytes / bus bandwidth
// (NCCL picks its protocol per message size).
inline double TwoLineAllReduceSeconds(double t, double bytes, double alpha_s,
                                      double bus_s_per_byte,
                                      double bulk_alpha_s,
                                      double bulk_bus_s_per_byte) {
  const double bus_bytes = 2.0 * (t - 1) / t * bytes;
  return std::min(alpha_s + bus_bytes * bus_s_per_byte,
                  bulk_alpha_s + bus_bytes * bulk_bus_s_per_byte);
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_COLLECTIVE_OP_H_
