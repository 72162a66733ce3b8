// File: hardware/expert_all_to_all.h
//
// The bytes of an expert-parallel instance's all-to-all (each MoE layer's
// token dispatch and combine over its ep ranks), and how they split between
// a machine's scale-up domain and the scale-out network when the instance
// spans machines. The cost model prices the in-machine share
// (operator_model.cc, `ep_dispatch` / `ep_combine`); the simulator moves the
// cross-machine share as SimGrid communications on the machines' scale-out
// links (sim/instance.cc), so one formula feeds both.
#ifndef FLEETSIM_HARDWARE_EXPERT_ALL_TO_ALL_H_
#define FLEETSIM_HARDWARE_EXPERT_ALL_TO_ALL_H_

#include "fleetsim/v1/model.pb.h"

namespace fleetsim::hardware {

struct ExpertAllToAll {
  int ep = 1;                 // expert-parallel ranks of the instance
  int ranks_per_machine = 1;  // of them, sharing one scale-up domain
  int moe_layers = 0;
  // Per rank, per token of the instance's batch, one MoE layer: the bytes
  // the rank sends in the dispatch and in the combine, its own copies
  // included (DeepEP's kernels send a token once to each distinct rank
  // among its top_k experts', github.com/deepseek-ai/DeepEP; with the
  // experts on uniformly random ranks, balanced routing an ASSUMPTION, a
  // given rank is one of them with probability 1 - (1 - 1/ep)^top_k).
  // Dispatch in the weights' 8-bit precision when they have one, combine in
  // BF16, as DeepSeek-V3 serves it (arXiv:2412.19437 §3.3.2).
  double dispatch_bytes_per_token = 0;
  double combine_bytes_per_token = 0;

  // Machines one instance spans (1: the all-to-all stays in one domain).
  int machines() const { return ep / ranks_per_machine; }
  // Dispatch and combine phases of one iteration (two per MoE layer).
  int phases() const { return 2 * moe_layers; }
  // Bytes one machine sends to one other machine of the instance over an
  // iteration of `tokens` batch tokens, every MoE layer's dispatch and
  // combine: each of its ranks_per_machine ranks sends ranks_per_machine /
  // ep of its copies to that machine's ranks. Sent rank to rank, as
  // DeepEP's low-latency (decode) kernels do over RDMA; its normal kernels
  // send a token once per remote node and forward it over NVLink
  // (arXiv:2412.19437 §3.2.2), fewer bytes across: not modelled.
  double MachinePairBytes(double tokens) const {
    return tokens * moe_layers *
           (dispatch_bytes_per_token + combine_bytes_per_token) *
           ranks_per_machine * ranks_per_machine / ep;
  }
  // Seconds an iteration of `tokens` waits for its cross-machine exchange
  // when each machine's scale-out link carries `nic_bytes_per_s` per
  // direction and a route takes `route_latency_s`: every phase's latency,
  // and each machine sending to the machines() - 1 others over its link.
  // An estimate for capacity bounds; the simulator moves these bytes as
  // SimGrid communications that share the links (sim/instance.cc).
  double ScaleOutSeconds(double tokens, double nic_bytes_per_s,
                         double route_latency_s) const {
    if (machines() <= 1) return 0;
    return phases() * route_latency_s +
           (machines() - 1) * MachinePairBytes(tokens) / nic_bytes_per_s;
  }
};

// The all-to-all of `model` (as served: its weight precision sets the
// dispatch's bytes) over `ep` ranks, `ranks_per_machine` of them per
// machine (ep when the instance is inside one scale-up domain).
// REQUIRES: a MoE model, ep a multiple of ranks_per_machine.
ExpertAllToAll PlanExpertAllToAll(const v1::Model& model, int ep,
                                  int ranks_per_machine);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_EXPERT_ALL_TO_ALL_H_
