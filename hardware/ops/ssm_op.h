// File: hardware/ops/ssm_op.h
//
// The SSM family: Mamba-1 selective scan (arXiv 2312.00752) and Mamba-2 SSD
// (arXiv 2405.21060) mixers without their projections (GEMMs) and gated
// norm (elementwise_op.h): the causal conv, the prefill scan and the decode
// step that reads and writes the constant recurrent state. One definition
// for the simulator's table (hardware/operator_model.cc) and the pricer
// (hardware/operator_pricer.h).
//
// Shape fields read (OperatorQuery): width = inner width d_inner on the chip
// (expand * hidden / tp), d_state, ssm_head_dim (Mamba-2 head width; 0 =
// Mamba-1), conv_kernel, kv_bytes (the state's bytes per element); Mamba-2's
// ssm_groups and ssm_chunk (0 = mamba2.py's one group and 256-token chunks;
// a catalog model has no ngroups, calibration rows do).
#ifndef FLEETSIM_HARDWARE_OPS_SSM_OP_H_
#define FLEETSIM_HARDWARE_OPS_SSM_OP_H_

#include <string_view>

#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

inline constexpr std::string_view kSsmConvName = "ssm_conv";
inline constexpr std::string_view kSsmScanPrefillName = "ssm_scan_prefill";
inline constexpr std::string_view kSsmScanDecodeName = "ssm_scan_decode";

// Depthwise causal conv over x (and Mamba-2's B, C) for every token; decode
// requests read and write their conv state.
OpCost SsmConvCost(const OperatorQuery& shape);
// Prefill: Mamba-2's chunked SSD (tensor FLOPs, chunk 256) or Mamba-1's
// selective scan (vector FLOPs) over the prefill tokens; each request
// writes its final state.
OpCost SsmScanPrefillCost(const OperatorQuery& shape);
// Decode: one recurrence step per request, state read and written.
OpCost SsmScanDecodeCost(const OperatorQuery& shape);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_SSM_OP_H_
