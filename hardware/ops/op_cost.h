// File: hardware/ops/op_cost.h
//
// What one operator invocation costs, in the form every operator family
// (hardware/ops/*_op.h) states it and both users read it: the simulator's
// per-iteration table (hardware/operator_model.h) and the shape-only pricer
// the calibration fit uses (hardware/operator_pricer.h). Tensor FLOPs, vector
// FLOPs and bytes are linear functions of a few batch features, so the hot
// path evaluates an operator with three short dot products; the terms that
// are not linear (GEMM M tiles, MoE experts touched, the attention compute
// ramp, norm waves and cache residency, collectives) are flags and constants
// the unit step (hardware/ops/priced_op.h) applies.
#ifndef FLEETSIM_HARDWARE_OPS_OP_COST_H_
#define FLEETSIM_HARDWARE_OPS_OP_COST_H_

#include <array>
#include <memory>

#include "fleetsim/v1/chip.pb.h"
#include "hardware/latency_model.h"

namespace fleetsim::hardware {

class RankLoadCurve;  // hardware/moe_routing.h

// Batch features every operator's FLOPs and bytes are linear in; O(1) to
// build from the aggregate BatchShape.
enum Feature : int {
  kOne = 0,          // constant (weights)
  kTokens,           // prefill tokens + decode requests: rows of token ops
  kPrefillTokens,    // sum T_i
  kPairs,            // causal query-key pairs
  kPrefillContext,   // sum (L_i + T_i)
  kPrefillRequests,  // prefill chunks
  kDecodeRequests,   // decode requests (one token each)
  kDecodeContext,    // sum (L_j + 1)
  kLmRows,           // LM-head rows: one per request, plus extra_logit_rows
  kNumFeatures
};

using Coeffs = std::array<double, kNumFeatures>;

inline double Dot(const Coeffs& c, const double* x) {
  double s = 0;
  for (int i = 0; i < kNumFeatures; ++i) s += c[i] * x[i];
  return s;
}

// Fills x[0 .. kNumFeatures) from `b`.
inline void BatchFeatures(const BatchShape& b, double* x) {
  x[kOne] = 1;
  x[kTokens] = static_cast<double>(b.total_tokens());
  x[kPrefillTokens] = static_cast<double>(b.prefill_tokens);
  x[kPairs] = b.prefill_attention_pairs;
  x[kPrefillContext] = static_cast<double>(b.prefill_context_tokens);
  x[kPrefillRequests] = b.prefill_requests;
  x[kDecodeRequests] = b.decode_requests;
  x[kDecodeContext] = static_cast<double>(b.decode_context_tokens);
  x[kLmRows] = static_cast<double>(b.prefill_requests) + b.decode_requests +
               static_cast<double>(b.extra_logit_rows);
}

// Activations stay bf16 even with fp8 weights (both users). ASSUMPTION.
inline constexpr double kActivationBytes = 2;

// The precision an operator's tensor work runs at, from its weights' bytes
// per element: wide (BF16/FP16, 2 B), 8-bit (FP8, or INT8 on a chip
// without FP8; 1 B) or FP4 (NVFP4, under 1 B: model_footprint.h
// kNvfp4BytesPerElement). TensorTflops (priced_op.h) maps it to a peak.
enum class TensorPrecision : int { kWide = 0, kEightBit, kFp4 };
inline constexpr int kNumTensorPrecisions = 3;

inline TensorPrecision PrecisionOfWeights(double weight_bytes) {
  if (weight_bytes < 1) return TensorPrecision::kFp4;
  return weight_bytes <= 1 ? TensorPrecision::kEightBit
                           : TensorPrecision::kWide;
}

// Which family formula an operator follows: how its OperatorQuery's batch
// fields map to the features (hardware/ops/op_query.h). Grouped by the
// family file that defines each.
enum class OpForm : int {
  // gemm_op.h
  kGemm,         // C[m, n] = A[m, k] W[k, n]
  kBatchedGemm,  // one such product per head (MLA's absorbed projections)
  kMoeExperts,   // routed experts of an MoE layer
  // attention_op.h
  kAttentionPrefill,  // fused (FlashAttention) prefill, MHA/GQA/CCA/MLA
  kAttentionDecode,
  kAttentionScores,  // unfused prefill: QK^T, softmax, PV
  kAttentionSoftmax,
  kAttentionContext,
  kCcaConv,
  // elementwise_op.h: norms, rotary, activations, adds, embedding, sampling
  kRowKernel,
  // ssm_op.h
  kSsmConv,
  kSsmScanPrefill,
  kSsmScanDecode,
  // collective_op.h
  kCollective,
  // deformable_attention_op.h: MSDA's sampler (no calibration rows; priced
  // only from a model's shape, hardware/deformable_detr_model.h)
  kDeformableSampling,
};

// Collective algorithms (collective_op.h has the time formulas).
enum class CollectiveKind : int {
  kNone = 0,
  kAllReduce,
  kGather,
  kSendRecv,
  kAllToAll
};

// One invocation of one operator.
struct OpCost {
  OpForm form = OpForm::kRowKernel;
  // The efficiency class it is charged to.
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  Feature gate = kTokens;  // runs only when this feature is > 0
  Feature rows = kTokens;  // its token rows (GEMM M, a norm's rows)
  Coeffs flops{};          // tensor FLOPs
  Coeffs vector_flops{};   // vector (non-tensor) FLOPs
  Coeffs bytes{};          // memory traffic

  // The peak its tensor FLOPs run at: that of its weights' precision
  // (TensorTflops).
  TensorPrecision precision = TensorPrecision::kWide;
  // GEMM: output columns per chip for the skinny-GEMM memory term
  // (ClassEfficiency::parallel_columns; 0 = off) and whether the M-tile term
  // applies (ClassEfficiency::tile_overhead_rows).
  double columns = 0;
  bool m_tiles = false;
  // Fused prefill attention: eta_c ramps with the mean context per request
  // (ClassEfficiency::compute_ramp_tokens), or, where the class has tiles
  // (ClassEfficiency::tile_q_rows), the FlashAttention-3 tile loop runs
  // over the query heads and KV heads on the chip (attention_op.h
  // FlashTileSeconds). Decode: one work unit per request per KV head
  // (ClassEfficiency::unit_latency_s).
  bool context_ramp = false;
  double attention_heads = 0;
  double attention_kv_heads = 0;
  // Fused into a neighbouring kernel (OperatorModelOptions::
  // fuse_elementwise): no launch floor.
  bool fused = false;
  // MoE routed experts: distinct experts touched E_hit(N) = E (1 - (1 -
  // k/E)^N) each stream `expert_bytes` of weights (this chip's share);
  // log_miss = log(1 - k/E).
  double num_experts = 0;
  double log_miss = 0;
  double expert_bytes = 0;
  // MoE routed experts: tokens spread evenly over the experts (E_hit =
  // min(E, N k)); hidden elements of the (token, expert) pairs per row, and
  // the pairs the chip's kernel scans (the layer's, or under the dispatch
  // all-to-all its received tokens') per pair on this chip, for the fitted
  // permutation traffic (ClassEfficiency::local_pair_bytes,
  // layer_pair_bytes).
  bool spread = false;
  double pair_elements = 0;
  double layer_pairs = 1;
  // MoE routed experts under power-law routing (gemm_op.h MoeExpertsCost):
  // the most loaded rank's pairs per token and distinct experts by the
  // batch's tokens; the per-token coefficients above are for top_k pairs
  // per token and scale to the rank's pairs. Null = expected even shares.
  std::shared_ptr<const RankLoadCurve> rank_load;
  double top_k = 0;
  // The ranks the experts are spread over (with rank_load): the FLOPs an
  // operator reports are the ranks' mean, so a sum over ranks counts the
  // layer once, while its time is the most loaded rank's.
  double expert_ranks = 1;
  // Collectives: algorithm, ranks, and whether the link is the scale-out
  // network instead of scale-up; `bytes` is the message per rank.
  CollectiveKind collective = CollectiveKind::kNone;
  int ranks = 1;
  bool scale_out = false;
};

// A cost of `form` charged to class `c` over the token rows `rows` (also its
// gate), with every coefficient 0: what each family's cost function starts
// from.
inline OpCost MakeOpCost(OpForm form, v1::OperatorClass c, Feature rows) {
  OpCost cost;
  cost.form = form;
  cost.op_class = c;
  cost.gate = rows;
  cost.rows = rows;
  return cost;
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_OP_COST_H_
