#include "hardware/ops/attention_op.h"

#include <algorithm>
#include <cmath>

namespace fleetsim::hardware {
namespace {

constexpr double kB_a = kActivationBytes;

// K and V of one token in the cache (MHA/GQA/CCA).
double KvRow(const OperatorQuery& s) {
  return s.kv_bytes * 2.0 * s.kv_heads * static_cast<double>(s.head_dim);
}

// Scores per feature of the unfused kernels: heads (2 pairs - T).
Coeffs Scores(const OperatorQuery& s) {
  Coeffs scores{};
  scores[kPairs] = 2.0 * s.heads;
  scores[kPrefillTokens] = -1.0 * s.heads;
  return scores;
}

// QK^T or PV of the unfused prefill: 2 d_h FLOPs per score and the scores
// written or read once; the caller adds its Q/K/V/O traffic.
OpCost ScoreProductCost(OpForm form, const OperatorQuery& s) {
  OpCost c =
      MakeOpCost(form, v1::OPERATOR_CLASS_ATTENTION_PREFILL, kPrefillTokens);
  const double d_h = s.head_dim;
  const Coeffs scores = Scores(s);
  for (int i = 0; i < kNumFeatures; ++i) {
    c.flops[i] = 2.0 * d_h * scores[i];
    c.bytes[i] = kB_a * scores[i];
  }
  return c;
}

}  // namespace

double FlashTileSeconds(const double* x, double heads, double kv_heads,
                        double q_rows, double kv_rows, double step_s,
                        double unit_s, double units_per_chip) {
  const double requests = std::max(x[kPrefillRequests], 1.0);
  const double t = x[kPrefillTokens] / requests;
  const double cached = std::max(x[kPrefillContext] / requests - t, 0.0);
  const double g = std::max(heads / std::max(kv_heads, 1.0), 1.0);
  const double positions = q_rows / g;  // per query tile
  const double nq = std::ceil(t / positions);
  // sum_j ceil((cached + min((j + 1) positions, t)) / kv_rows), at least one
  // step per tile.
  const double steps_per_request =
      std::max(nq, (nq * cached + positions * nq * (nq - 1) / 2 + t) / kv_rows +
                       0.5 * nq);
  const double longest = std::max(1.0, (cached + t) / kv_rows + 0.5);
  const double units = requests * kv_heads * nq;
  const double spread =
      (requests * kv_heads * steps_per_request * step_s + units * unit_s) /
      units_per_chip;
  return std::max(spread, longest * step_s + unit_s);
}

double SoftmaxFlopsPerScore(const OperatorModelOptions& o) {
  return o.softmax_exps_per_score * o.exp_vector_flops +
         o.softmax_flops_per_score;
}

OpCost AttentionPrefillCost(const OperatorQuery& s,
                            const OperatorModelOptions& o) {
  OpCost c = MakeOpCost(OpForm::kAttentionPrefill,
                        v1::OPERATOR_CLASS_ATTENTION_PREFILL, kPrefillTokens);
  c.context_ramp = true;
  const int h = s.heads;
  c.attention_heads = h;
  c.attention_kv_heads = s.latent_dim > 0 ? h : s.kv_heads;
  const double d_qk = s.head_dim;
  c.vector_flops[kPairs] = h * SoftmaxFlopsPerScore(o);
  if (s.latent_dim > 0) {
    // MLA, naive form: K/V of every context token up-projected (bf16).
    const double d_v = s.v_head_dim;
    c.flops[kPairs] = 2.0 * h * (d_qk + d_v);
    c.bytes[kPrefillTokens] =
        kB_a * h * (d_qk + d_v) + s.kv_bytes * s.latent_dim;  // Q, O; latent
    c.bytes[kPrefillContext] = kB_a * h * (d_qk + d_v);       // K, V
    return c;
  }
  const double kv_row = KvRow(s);
  c.flops[kPairs] = 4.0 * h * d_qk;  // QK^T and PV, causal
  // Read Q, write O; write the new tokens' K/V; read K/V of the context.
  c.bytes[kPrefillTokens] = kB_a * 2.0 * h * d_qk + kv_row;
  c.bytes[kPrefillContext] = kv_row;
  return c;
}

OpCost AttentionDecodeCost(const OperatorQuery& s,
                           const OperatorModelOptions& o) {
  OpCost c = MakeOpCost(OpForm::kAttentionDecode,
                        v1::OPERATOR_CLASS_ATTENTION_DECODE, kDecodeRequests);
  const int h = s.heads;
  c.attention_heads = h;
  c.attention_kv_heads = s.latent_dim > 0 ? 1 : s.kv_heads;
  const double d_qk = s.head_dim;
  c.vector_flops[kDecodeContext] = h * SoftmaxFlopsPerScore(o);
  if (s.latent_dim > 0) {
    // MLA, absorbed form: MQA over the latent (head_dim = latent, v_head_dim
    // = r_kv).
    const double d_v = s.v_head_dim;
    const double latent_row = s.kv_bytes * s.latent_dim;
    c.flops[kDecodeContext] = 2.0 * h * (d_qk + d_v);
    c.bytes[kDecodeContext] = latent_row;
    c.bytes[kDecodeRequests] = latent_row * (o.kv_page_tokens - 1) / 2.0 +
                               kB_a * h * (d_qk + d_v) + latent_row;
    return c;
  }
  const double kv_row = KvRow(s);
  c.flops[kDecodeContext] = 4.0 * h * d_qk;
  c.bytes[kDecodeContext] = kv_row;
  // Partial last page, Q read / O write, the new token's K/V write.
  c.bytes[kDecodeRequests] =
      kv_row * (o.kv_page_tokens - 1) / 2.0 + kB_a * 2.0 * h * d_qk + kv_row;
  return c;
}

OpCost AttentionScoresCost(const OperatorQuery& s,
                           const OperatorModelOptions& /*o*/) {
  OpCost c = ScoreProductCost(OpForm::kAttentionScores, s);
  const double kv_row = KvRow(s);
  c.bytes[kPrefillTokens] +=
      kB_a * s.heads * static_cast<double>(s.head_dim) + kv_row;  // Q; new K/V
  c.bytes[kPrefillContext] += kv_row / 2;                         // K
  return c;
}

OpCost AttentionSoftmaxCost(const OperatorQuery& s,
                            const OperatorModelOptions& o) {
  OpCost c = MakeOpCost(OpForm::kAttentionSoftmax,
                        v1::OPERATOR_CLASS_ELEMENTWISE, kPrefillTokens);
  const double score_flops = SoftmaxFlopsPerScore(o);
  const Coeffs scores = Scores(s);
  for (int i = 0; i < kNumFeatures; ++i) {
    c.vector_flops[i] = score_flops * scores[i];
    c.bytes[i] = 2.0 * kB_a * scores[i];
  }
  return c;
}

OpCost AttentionContextCost(const OperatorQuery& s,
                            const OperatorModelOptions& /*o*/) {
  OpCost c = ScoreProductCost(OpForm::kAttentionContext, s);
  c.bytes[kPrefillTokens] +=
      kB_a * s.heads * static_cast<double>(s.head_dim);  // O
  c.bytes[kPrefillContext] += KvRow(s) / 2;              // V
  return c;
}

OpCost CcaConvCost(const OperatorQuery& s) {
  OpCost c =
      MakeOpCost(OpForm::kCcaConv, v1::OPERATOR_CLASS_ELEMENTWISE, kTokens);
  const int heads = s.heads + s.kv_heads;  // q and k heads on the chip
  const double d_h = s.head_dim;
  const double e = static_cast<double>(heads) * d_h;
  const double k0 = s.conv_kernel;
  const double k1 = s.grouped_conv_kernel;
  c.flops[kTokens] = 2.0 * k1 * heads * d_h * d_h;
  c.vector_flops[kTokens] = 2.0 * k0 * e + 6.0 * e;
  c.bytes[kTokens] = kB_a * e * 4.0;
  return c;
}

}  // namespace fleetsim::hardware
