// File: hardware/operator_query.h
//
// One operator invocation described by its shape: what a measured
// calibration row holds (proto/fleetsim/v1/calibration.proto's CalibrationRow,
// mapped by hardware/calibration/row_query.h's QueryFromRow), what the operator
// model hands its correction hooks for each operator of an iteration, and what
// the shape-only pricer (hardware/operator_pricer.h) prices. The operator
// families (hardware/ops/) read their fields from it; hardware/ops/
// op_query.h maps it to and from their costs.
#ifndef FLEETSIM_HARDWARE_OPERATOR_QUERY_H_
#define FLEETSIM_HARDWARE_OPERATOR_QUERY_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "fleetsim/v1/chip.pb.h"

namespace fleetsim::hardware {

// Shapes are per chip (after the TP split), matching CalibrationRow; fields
// that do not apply to the operator's family are 0.
struct OperatorQuery {
  std::string_view name;  // "qkv_proj", "attn_decode", "allreduce", ...
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  int tp = 1;
  // GEMM: C[m, n] = A[m, k] * W[k, n]; m = rows (tokens) of this call.
  // heads > 0: that many independent per-head products (MLA's absorbed
  // projections). MoE routed experts: m tokens, k = hidden, n = expert
  // width on the chip, `experts` per layer, `top_k` per token.
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  int experts = 0;
  int top_k = 0;
  // MoE: the layer's routed (token, expert) pairs per pair this chip
  // computes (> 1 under expert parallelism: every rank's share), and
  // whether tokens are spread evenly over the experts (a measurement's
  // balanced routing: experts touched = min(experts, m top_k)) instead of
  // drawn at random (serving traffic: gemm_op.h ExpertsTouched).
  double moe_layer_pairs = 1;
  bool moe_spread = false;
  // MoE in the simulator: the experts are placed whole on moe_ep expert-
  // parallel ranks (E / moe_ep each; 1 = every chip holds a TP slice of
  // every expert), and the routing is balanced (moe_routing_alpha = 0:
  // every rank's expected share is N top_k / moe_ep) or a power law of that
  // exponent (> 0, != 1), which makes the most loaded rank the one timed
  // (moe_routing.h RankLoadCurve). A measured row's query states its rank's
  // pairs in m instead and leaves these at 1 and 0.
  int moe_ep = 1;
  double moe_routing_alpha = 0;
  // MoE in the simulator, moe_ep > tp: tokens reach the expert ranks by the
  // dispatch all-to-all, so a rank's kernel gets only the tokens routed to
  // it (RanksPerToken of them), and the traffic kernels spend on every pair
  // of their input (ClassEfficiency::layer_pair_bytes: Triton's fused MoE
  // writes each masked pair's output row too) covers those tokens' pairs,
  // not the layer's. false: every rank holds every token (moe_ep = tp, and
  // a measured row: aiconfigurator's collector feeds all tokens to the
  // rank).
  bool moe_dispatched = false;
  // Attention: requests in the phase, new tokens (sum over requests), K/V
  // rows read (sum over requests, cached + new), causal query-key pairs,
  // heads and K/V heads on this chip, head dim (query-key width). MLA:
  // v_head_dim (value width per head) and latent_dim (> 0: the cached
  // latent width per token instead of K/V heads); hardware/ops/
  // attention_op.h has the naive prefill and absorbed decode shapes.
  int64_t requests = 0;
  int64_t prefill_requests = 0;
  int64_t new_tokens = 0;
  int64_t context_tokens = 0;
  double attention_pairs = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int v_head_dim = 0;
  int latent_dim = 0;
  // Norm / elementwise: output elements and row width.
  int64_t elements = 0;
  int64_t width = 0;
  // Norm / elementwise: rows of `width` read plus written per output row
  // (norm 2, rotary 2, SwiGLU activation 3, residual add 3) and vector
  // FLOPs per output element.
  double io_rows = 2;
  double vector_flops_per_element = 0;
  // SSM (hardware/ops/ssm_op.h): width = inner width on the chip, state
  // size, Mamba-2 head width (0 = Mamba-1), conv taps; new_tokens = the
  // token rows and requests = the requests whose state is read or written
  // (the conv: decode requests, and prefill_requests the prompts among the
  // rows).
  // CCA's conv (attention_op.h): conv_kernel = depthwise taps,
  // grouped_conv_kernel = taps of the grouped conv, new_tokens = rows.
  // Mamba-2: ssm_groups B/C groups (0 = one, the mamba2.py default) and
  // ssm_chunk tokens per SSD chunk (0 = 256, its default).
  int d_state = 0;
  int ssm_head_dim = 0;
  int ssm_groups = 0;
  int ssm_chunk = 0;
  int conv_kernel = 0;
  int grouped_conv_kernel = 0;
  // Bytes per weight element (2 = bf16/fp16, 1 = fp8: GEMMs then run at the
  // chip's fp8 peak when it has one) and per KV-cache (and SSM state)
  // element.
  double weight_bytes = 2;
  double kv_bytes = 2;
  // Collective: message bytes per rank, ranks, and whether it crosses the
  // scale-out network (stages on different machines) instead of scale-up.
  double message_bytes = 0;
  int ranks = 0;
  bool scale_out = false;
  // The analytic model's view of the same invocation.
  double flops = 0;
  double vector_flops = 0;
  double bytes = 0;
  double analytic_s = 0;
};

// A measured correction for one operator class: returns the seconds one
// invocation takes (it may scale `analytic_s` or interpolate a table). Must
// be cheap, thread-safe and must not allocate: it runs on the hot path.
using OperatorCorrection = std::function<double(const OperatorQuery&)>;

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPERATOR_QUERY_H_
