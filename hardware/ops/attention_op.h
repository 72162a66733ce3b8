// File: hardware/ops/attention_op.h
//
// The attention family: prefill (fused FlashAttention-style, or unfused as
// QK^T, softmax and PV kernels with the scores written and read back),
// paged decode, MHA/GQA/CCA and DeepSeek's MLA, and CCA's convolutions.
// Costs per chip after the tensor-parallel split, as linear functions of
// the batch features (op_cost.h); docs/cost_model.md §2-3 derives them. One
// definition for the simulator's table (hardware/operator_model.cc) and the
// pricer of measured rows (hardware/operator_pricer.h).
//
// Shape fields read (OperatorQuery): heads (query heads on the chip),
// kv_heads, head_dim (query-key width per head), kv_bytes; MLA also
// latent_dim (> 0: the cached latent width, r_kv + d_rope, instead of K/V
// heads) and v_head_dim (value width per head). MLA prefill runs the naive
// form (head_dim = d_nope + d_rope over up-projected K/V), MLA decode the
// absorbed form (head_dim = latent, v_head_dim = r_kv: MQA over the latent;
// DeepSeek-V2, arXiv 2405.04434 §2.1.2).
#ifndef FLEETSIM_HARDWARE_OPS_ATTENTION_OP_H_
#define FLEETSIM_HARDWARE_OPS_ATTENTION_OP_H_

#include <string_view>

#include "hardware/operator_options.h"
#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// Operator names of the family's kernels (the simulator's table entries
// and the calibration rows use them).
inline constexpr std::string_view kAttnPrefillName = "attn_prefill";
inline constexpr std::string_view kAttnDecodeName = "attn_decode";
// MLA's absorbed decode: its own efficiency entry (NamedOperator::kMlaDecode).
inline constexpr std::string_view kMlaDecodeName = "mla_decode";
inline constexpr std::string_view kAttnScoresName = "attn_scores";
inline constexpr std::string_view kAttnSoftmaxName = "attn_softmax";
inline constexpr std::string_view kAttnContextName = "attn_context";
inline constexpr std::string_view kCcaConvName = "cca_conv";

// Vector FLOPs per attention score: the softmax's exponentials and other
// operations (OperatorModelOptions).
double SoftmaxFlopsPerScore(const OperatorModelOptions& o);

// Fused prefill over the causal pairs: Q read and O written per new token,
// the new tokens' K/V (MLA: latent) written, the context's K/V read (MLA:
// the up-projected K and V). Class ATTENTION_PREFILL; eta_c ramps with the
// mean context.
OpCost AttentionPrefillCost(const OperatorQuery& shape,
                            const OperatorModelOptions& o);

// Decode: K/V (MLA: latent) rows of the context read, on average half a
// page more per request (OperatorModelOptions::kv_page_tokens), Q read and
// O written, the new token's K/V written. Memory-bound.
OpCost AttentionDecodeCost(const OperatorQuery& shape,
                           const OperatorModelOptions& o);

// Unfused prefill (MHA/GQA/CCA only): S = heads * sum T_i (L_i + T_i) =
// heads (2 pairs - T) scores, exact for chunks without a cached prefix and
// up to 2x the causal half with one. QK^T and PV are ATTENTION_PREFILL
// kernels that write / read the scores; the softmax is an ELEMENTWISE
// kernel that reads and writes them.
OpCost AttentionScoresCost(const OperatorQuery& shape,
                           const OperatorModelOptions& o);
OpCost AttentionSoftmaxCost(const OperatorQuery& shape,
                            const OperatorModelOptions& o);
OpCost AttentionContextCost(const OperatorQuery& shape,
                            const OperatorModelOptions& o);

// CCA's depthwise conv (shape.conv_kernel taps) and grouped head_dim x
// head_dim conv (shape.grouped_conv_kernel taps) over q||k, q-k mixing and
// the RMS normalisation of q and k: q||k read and written about twice per
// token (Zyphra CCA, arXiv 2510.04476). Class ELEMENTWISE.
OpCost CcaConvCost(const OperatorQuery& shape);

// The tensor time of fused prefill as FlashAttention-3 runs it (Shah et
// al., arXiv 2407.08608; tile sizes from its Hopper kernels: 128 x 128 for
// head_dim 128, causal). Per request (the batch's mean prompt T and cached
// prefix L: x[kPrefillTokens], x[kPrefillContext], x[kPrefillRequests]),
// the g = heads / kv_heads query heads of a KV head are packed into the
// query rows (PackGQA: T g rows, in nq = ceil(T g / q_rows) tiles, each
// covering q_rows / g positions), and each tile steps over the key tiles
// it sees, ceil((L + last position) / kv_rows) of them (causal). One step
// is q_rows x kv_rows x (FLOPs per query-key pair per head), taking
// `step_s` on one compute unit. The units (request, KV head, query tile) are
// spread over `units_per_chip` compute units, each paying `unit_s` of fixed
// work, and no unit can finish before its own loop:
//   t = max((steps s + units u) / SMs, longest loop s + u).
// Closed forms with ceil(y) ~ y + 1/2 keep the hot path O(1).
double FlashTileSeconds(const double* x, double heads, double kv_heads,
                        double q_rows, double kv_rows, double step_s,
                        double unit_s, double units_per_chip);

// Fused prefill's factor on seconds per FLOP, 1 / (L / (L + ramp)) with L =
// mean context per request = x[kPrefillContext] / x[kPrefillRequests].
inline double ContextRampFactor(double ramp_tokens, const double* x) {
  return 1.0 + ramp_tokens * x[kPrefillRequests] / x[kPrefillContext];
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_ATTENTION_OP_H_
