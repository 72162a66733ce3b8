#include "hardware/model_footprint.h"

#include <algorithm>

namespace fleetsim::hardware {
namespace {

using Split = GemmShape::Split;

// Mamba-2 ngroups G. ASSUMPTION: not in the schema; mamba2.py default is 1.
constexpr int64_t kSsmGroups = 1;

bool IsMla(const v1::Model& m) {
  return m.attention() == v1::ATTENTION_KIND_MLA;
}
bool IsMamba2(const v1::Model& m) { return m.ssm().head_dim() > 0; }

double Params(const GemmShape& g) {
  return static_cast<double>(g.k) * static_cast<double>(g.n);
}

}  // namespace

int BytesPerElement(v1::Dtype dtype) {
  switch (dtype) {
    case v1::DTYPE_FP8:
    case v1::DTYPE_INT8:
    case v1::DTYPE_FP4:
      return 1;
    case v1::DTYPE_BF16:
    case v1::DTYPE_FP16:
    default:
      return 2;
  }
}

int WeightBytesPerElement(const v1::Model& model) {
  return BytesPerElement(model.dtype());
}

double FfnWeightBytesPerElement(const v1::Model& model) {
  return model.dtype() == v1::DTYPE_FP4 ? kNvfp4BytesPerElement
                                        : WeightBytesPerElement(model);
}

int KvBytesPerElement(const v1::Model& model) {
  return BytesPerElement(model.kv_dtype() == v1::DTYPE_UNSPECIFIED
                             ? model.dtype()
                             : model.kv_dtype());
}

int NumSsmLayers(const v1::Model& model) {
  return std::clamp(model.ssm().num_ssm_layers(), 0, model.num_layers());
}

int NumAttentionLayers(const v1::Model& model) {
  return model.num_layers() - NumSsmLayers(model);
}

int NumMoeLayers(const v1::Model& model) {
  if (model.moe().num_experts() <= 0) return 0;
  return std::max(0, model.num_layers() - model.moe().first_dense_layers());
}

int64_t DenseFfnDim(const v1::Model& model) {
  if (model.moe().num_experts() > 0 && model.moe().dense_ffn_dim() > 0) {
    return model.moe().dense_ffn_dim();
  }
  return model.ffn_dim();
}

int NumDenseMlpLayers(const v1::Model& model) {
  if (DenseFfnDim(model) <= 0) return 0;
  return model.num_layers() - NumMoeLayers(model);
}

int64_t KvBytesPerTokenPerLayer(const v1::Model& model) {
  const int64_t b = KvBytesPerElement(model);
  if (IsMla(model)) {
    return (static_cast<int64_t>(model.mla().kv_lora_rank()) +
            model.mla().qk_rope_head_dim()) *
           b;
  }
  // MHA, GQA and CCA all cache one K and one V row per KV head.
  return 2 * static_cast<int64_t>(model.num_kv_heads()) * model.head_dim() * b;
}

int64_t KvBytesPerToken(const v1::Model& model) {
  return NumAttentionLayers(model) * KvBytesPerTokenPerLayer(model);
}

int KvCopiesUnderTp(const v1::Model& model, int tp) {
  if (NumAttentionLayers(model) == 0 || tp <= 1) return 1;
  if (IsMla(model)) return tp;
  const int heads = std::max(model.num_kv_heads(), 1);
  return heads >= tp ? 1 : (tp + heads - 1) / heads;
}

int64_t SsmInnerDim(const v1::Model& model) {
  return static_cast<int64_t>(std::max(1, model.ssm().expand())) *
         model.hidden_size();
}

int64_t SsmDtRank(const v1::Model& model) {
  return (static_cast<int64_t>(model.hidden_size()) + 15) / 16;
}

int64_t SsmStateBytesPerSequence(const v1::Model& model) {
  const int layers = NumSsmLayers(model);
  if (layers == 0) return 0;
  const int64_t b = KvBytesPerElement(model);
  const int64_t d_inner = SsmInnerDim(model);
  const int64_t n = model.ssm().d_state();
  const int64_t k = model.ssm().conv_kernel();
  int64_t per_layer = 0;
  if (IsMamba2(model)) {
    const int64_t heads = d_inner / model.ssm().head_dim();
    per_layer =
        heads * model.ssm().head_dim() * n + (d_inner + 2 * kSsmGroups * n) * k;
  } else {
    per_layer = d_inner * n + d_inner * k;
  }
  return layers * per_layer * b;
}

int64_t CcaStateBytesPerSequence(const v1::Model& model) {
  if (model.attention() != v1::ATTENTION_KIND_CCA) return 0;
  const int64_t b = KvBytesPerElement(model);
  const int64_t e_q =
      static_cast<int64_t>(model.num_heads()) * model.head_dim();
  const int64_t e_k =
      static_cast<int64_t>(model.num_kv_heads()) * model.head_dim();
  const int64_t window = std::max(
      0, model.cca().conv_kernel_q() + model.cca().conv_kernel_k() - 2);
  return NumAttentionLayers(model) *
         ((e_q + e_k) * window + model.hidden_size()) * b;
}

int64_t RecurrentStateBytesPerSequence(const v1::Model& model) {
  return SsmStateBytesPerSequence(model) + CcaStateBytesPerSequence(model);
}

LayerGemms LayerGemmShapes(const v1::Model& model) {
  LayerGemms g;
  const int64_t d = model.hidden_size();
  const int64_t h = model.num_heads();
  const int64_t h_kv = model.num_kv_heads();
  const int64_t d_h = model.head_dim();
  if (IsMla(model)) {
    const v1::MlaConfig& mla = model.mla();
    const int64_t qk = mla.qk_nope_head_dim() + mla.qk_rope_head_dim();
    if (mla.q_lora_rank() > 0) {
      g.mla_q_a = {d, mla.q_lora_rank(), Split::kNone};
      g.mla_q_b = {mla.q_lora_rank(), h * qk, Split::kN};
    } else {
      g.mla_q_b = {d, h * qk, Split::kN};
    }
    g.mla_kv_a = {d, mla.kv_lora_rank() + mla.qk_rope_head_dim(), Split::kNone};
    g.mla_kv_b = {mla.kv_lora_rank(),
                  h * (mla.qk_nope_head_dim() + mla.v_head_dim()), Split::kN};
    g.o = {h * mla.v_head_dim(), d, Split::kK};
  } else if (NumAttentionLayers(model) > 0) {
    g.qkv = {d, (h + 2 * h_kv) * d_h, Split::kN};
    g.o = {h * d_h, d, Split::kK};
  }
  const int64_t ffn = DenseFfnDim(model);
  if (ffn > 0) {
    const int64_t up = model.mlp() == v1::MLP_KIND_GELU ? ffn : 2 * ffn;
    g.mlp_up = {d, up, Split::kN};
    g.mlp_down = {ffn, d, Split::kK};
  }
  if (NumSsmLayers(model) > 0) {
    const int64_t d_inner = SsmInnerDim(model);
    const int64_t n = model.ssm().d_state();
    if (IsMamba2(model)) {
      const int64_t heads = d_inner / model.ssm().head_dim();
      g.ssm_in = {d, 2 * d_inner + 2 * kSsmGroups * n + heads, Split::kN};
    } else {
      g.ssm_in = {d, 2 * d_inner, Split::kN};
      const int64_t r = SsmDtRank(model);
      g.ssm_x = {d_inner, r + 2 * n, Split::kK};
      g.ssm_dt = {r, d_inner, Split::kN};
    }
    g.ssm_out = {d_inner, d, Split::kK};
  }
  g.lm_head = {d, model.vocab_size(), Split::kN};
  return g;
}

double AttentionParameters(const v1::Model& model) {
  if (NumAttentionLayers(model) == 0) return 0;
  const LayerGemms g = LayerGemmShapes(model);
  double p = Params(g.qkv) + Params(g.o) + Params(g.mla_q_a) +
             Params(g.mla_q_b) + Params(g.mla_kv_a) + Params(g.mla_kv_b);
  if (model.attention() == v1::ATTENTION_KIND_CCA) {
    // Depthwise conv over q||k (k0 taps) and grouped d_h x d_h conv (k1
    // taps per group), as in CCA (arXiv:2510.04476).
    const double e =
        static_cast<double>(model.num_heads() + model.num_kv_heads()) *
        model.head_dim();
    p += e * model.cca().conv_kernel_q() +
         static_cast<double>(model.num_heads() + model.num_kv_heads()) *
             model.head_dim() * model.head_dim() * model.cca().conv_kernel_k();
  }
  return p;
}

double DenseMlpParameters(const v1::Model& model) {
  const LayerGemms g = LayerGemmShapes(model);
  return Params(g.mlp_up) + Params(g.mlp_down);
}

double MoeLayerParameters(const v1::Model& model) {
  const v1::MoeConfig& moe = model.moe();
  if (moe.num_experts() <= 0) return 0;
  const double d = model.hidden_size();
  // Experts are SwiGLU (gate, up, down): 3 * d * d_e each.
  return d * moe.num_experts() +  // router
         3.0 * d * moe.expert_ffn_dim() * moe.num_experts() +
         3.0 * d * moe.shared_expert_ffn_dim() * moe.num_shared_experts();
}

double RoutedExpertParameters(const v1::Model& model) {
  return NumMoeLayers(model) * 3.0 * model.hidden_size() *
         model.moe().expert_ffn_dim() * model.moe().num_experts();
}

double RoutedExpertBytes(const v1::Model& model) {
  return RoutedExpertParameters(model) * FfnWeightBytesPerElement(model);
}

double FfnParameters(const v1::Model& model) {
  const v1::MoeConfig& moe = model.moe();
  const double experts =
      moe.num_experts() > 0
          ? MoeLayerParameters(model) -
                static_cast<double>(model.hidden_size()) * moe.num_experts()
          : 0;
  return NumDenseMlpLayers(model) * DenseMlpParameters(model) +
         NumMoeLayers(model) * experts;
}

double SsmMixerParameters(const v1::Model& model) {
  if (NumSsmLayers(model) == 0) return 0;
  const LayerGemms g = LayerGemmShapes(model);
  const double d_inner = static_cast<double>(SsmInnerDim(model));
  const double n = model.ssm().d_state();
  const double k = model.ssm().conv_kernel();
  double p =
      Params(g.ssm_in) + Params(g.ssm_out) + Params(g.ssm_x) + Params(g.ssm_dt);
  if (IsMamba2(model)) {
    const double heads = d_inner / model.ssm().head_dim();
    p += (d_inner + 2.0 * kSsmGroups * n) * k + 3 * heads + d_inner;
  } else {
    p += d_inner * k + d_inner * n + d_inner;  // conv, A, D
  }
  return p;
}

double ParameterCount(const v1::Model& model) {
  const double d = model.hidden_size();
  const double norm_params =
      model.norm() == v1::NORM_KIND_LAYERNORM ? 2 * d : d;
  double total = 0;
  total += NumAttentionLayers(model) * AttentionParameters(model);
  total += NumSsmLayers(model) * SsmMixerParameters(model);
  total += NumDenseMlpLayers(model) * DenseMlpParameters(model);
  total += NumMoeLayers(model) * MoeLayerParameters(model);
  const bool has_ffn = DenseFfnDim(model) > 0 || NumMoeLayers(model) > 0;
  total += model.num_layers() * norm_params * (has_ffn ? 2 : 1);
  total += norm_params;                                  // final norm
  total += static_cast<double>(model.vocab_size()) * d;  // embedding
  if (!model.tied_embeddings()) {
    total += static_cast<double>(model.vocab_size()) * d;
  }
  return total;
}

double ActiveParameterCount(const v1::Model& model) {
  double total = ParameterCount(model);
  const v1::MoeConfig& moe = model.moe();
  if (moe.num_experts() > 0) {
    const double inactive = 3.0 * model.hidden_size() * moe.expert_ffn_dim() *
                            std::max(0, moe.num_experts() - moe.top_k());
    total -= NumMoeLayers(model) * inactive;
  }
  return total;
}

double WeightBytes(const v1::Model& model) {
  const double b = WeightBytesPerElement(model);
  const double ffn_b = FfnWeightBytesPerElement(model);
  // The FFN term is 0 unless the FFNs differ (FP4), so the other precisions'
  // sizes stay ParameterCount * b to the last bit.
  return ParameterCount(model) * b + FfnParameters(model) * (ffn_b - b);
}

}  // namespace fleetsim::hardware
