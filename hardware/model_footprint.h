// File: hardware/model_footprint.h
//
// Exact sizes derived from a Model: KV-cache bytes per token (per attention
// kind), recurrent state bytes per sequence (SSM and CCA layers), parameter
// counts and weight bytes, and the per-layer GEMM shapes the operator cost
// model (operator_model.h) and the KV-cache sizing in sim/ need.
//
// Every function is a pure function of the Model proto; none validates it
// (workloads/model_catalog.h does). Each function below states what it
// counts, with the formula where it is more than a plain sum;
// docs/cost_model.md has worked numbers.
//
// Example:
//   int64_t kv = KvBytesPerToken(llama_2_70b);  // 327,680 B = 320 KiB (bf16)
//   double gb = WeightBytes(llama_2_70b) / 1e9;  // ~138 GB
#ifndef FLEETSIM_HARDWARE_MODEL_FOOTPRINT_H_
#define FLEETSIM_HARDWARE_MODEL_FOOTPRINT_H_

#include <cstdint>

#include "fleetsim/v1/model.pb.h"

namespace fleetsim::hardware {

// Bytes per element of `dtype`: 2 for BF16/FP16, 1 for FP8/INT8 (and for
// FP4, whose weights outside the FFNs stay FP8: FfnWeightBytesPerElement).
// UNSPECIFIED is treated as BF16 (2), the proto's documented default.
int BytesPerElement(v1::Dtype dtype);

// NVFP4's bytes per element: 4-bit E2M1 values with one FP8 (E4M3) scale
// per 16 of them, (4 + 8 / 16) / 8 = 0.5625 B (the per-tensor FP32 scale is
// negligible): NVIDIA, "Introducing NVFP4 for Efficient and Accurate
// Low-Precision Inference" (technical blog, 24 June 2025); NVIDIA's NeMo
// AutoModel NVFP4 utilities (docs.nvidia.com/nemo/automodel,
// components/quantization/nvfp4) state the same 0.5625 bytes per parameter.
inline constexpr double kNvfp4BytesPerElement = 0.5625;

// Bytes per weight element (Model.dtype) and per KV-cache element
// (Model.kv_dtype, falling back to Model.dtype when unspecified). With FP4
// weights (Model.dtype FP4, NVFP4) only the FFN weights are 4-bit
// (FfnWeightBytesPerElement); WeightBytesPerElement is then that of every
// other weight, FP8's 1 byte, as NVIDIA's NVFP4 DeepSeek checkpoints
// (huggingface.co/nvidia/DeepSeek-R1-FP4, quantised from the FP8
// checkpoint by TensorRT-Model-Optimizer's examples/deepseek) keep them.
int WeightBytesPerElement(const v1::Model& model);
int KvBytesPerElement(const v1::Model& model);

// Bytes per element of the FFN weights (dense MLPs and MoE experts, routed
// and shared; not the router): kNvfp4BytesPerElement when Model.dtype is
// FP4, else WeightBytesPerElement.
double FfnWeightBytesPerElement(const v1::Model& model);

// Layer counts. SSM layers replace attention layers (ssm.num_ssm_layers of
// num_layers; hybrid models like Jamba interleave them); MoE layers are the
// layers after moe.first_dense_layers when moe.num_experts > 0. The schema
// has no MoE layer period, so a model with MoE on every other layer (Jamba)
// is over-counted; see docs/cost_model.md.
int NumAttentionLayers(const v1::Model& model);
int NumSsmLayers(const v1::Model& model);
int NumMoeLayers(const v1::Model& model);
// Layers with a dense MLP: every non-MoE layer when the model has one
// (ffn_dim > 0, or moe.dense_ffn_dim for the leading dense layers of a MoE
// model); 0 for attention-free, MLP-free stacks such as Mamba-2.
int NumDenseMlpLayers(const v1::Model& model);
// Intermediate size of the dense MLP layers (moe.dense_ffn_dim when set on a
// MoE model, else ffn_dim).
int64_t DenseFfnDim(const v1::Model& model);

// KV-cache bytes one token adds in ONE attention layer (whole model width,
// before any tensor-parallel split):
//   MHA/GQA: 2 * num_kv_heads * head_dim * b_kv
//   MLA:     (mla.kv_lora_rank + mla.qk_rope_head_dim) * b_kv  (latent+rope)
//   CCA:     2 * num_kv_heads * head_dim * b_kv  (e_k = n_k * d_h per K, V)
int64_t KvBytesPerTokenPerLayer(const v1::Model& model);

// KV-cache bytes one token adds across all attention layers. SSM layers add
// nothing per token. Llama-2-70B bf16: 80 * 2 * 8 * 128 * 2 = 327,680 B;
// BLOOM-176B: 4,014,080 B (3.83 MiB); DeepSeek-V3: 61 * 576 * 2 = 70,272 B.
int64_t KvBytesPerToken(const v1::Model& model);

// Copies of each token's KV that tp-way tensor parallelism keeps, one per
// rank that needs it: MLA's latent is one KV head every rank's query heads
// read, so each of the tp ranks holds all of it (vLLM and SGLang replicate
// it; SGLang's data-parallel attention exists to avoid that,
// lmsys.org/blog/2024-12-04-sglang-v0-4); MHA/GQA/CCA split their KV heads
// over the ranks, each head held by tp / num_kv_heads ranks when there are
// fewer heads than ranks. 1 for a model without attention.
int KvCopiesUnderTp(const v1::Model& model, int tp);

// Per-sequence recurrent state of the SSM layers (constant in context
// length), in KV dtype bytes:
//   Mamba-2 (ssm.head_dim > 0): H * P * N + conv (D + 2 G N) * K per layer,
//     H = D / P, D = expand * hidden, G = 1 (ASSUMPTION: ngroups is not in
//     the schema; 1 is the mamba2.py default);
//   Mamba-1: D * N + conv D * K per layer.
// Mamba2-2.7B: 64 * (80 * 64 * 128 + 5376 * 4) * 2 B = 86.6 MB.
int64_t SsmStateBytesPerSequence(const v1::Model& model);

// Per-sequence state of CCA layers (conv window plus the previous hidden
// state; CCA, arXiv:2510.04476, as in Zyphra/vllm
// vllm/model_executor/layers/mamba/cca.py): per attention layer
//   (e_q + e_k) * (k0 + k1 - 2) * b + hidden * b.  0 for other kinds.
int64_t CcaStateBytesPerSequence(const v1::Model& model);

// SsmStateBytesPerSequence + CcaStateBytesPerSequence: what a request holds
// (and a KV transfer moves) besides its per-token KV.
int64_t RecurrentStateBytesPerSequence(const v1::Model& model);

// Parameters of one attention mixer (projections only, no norms), of one
// dense MLP, of one MoE layer's experts + router, and of one SSM mixer.
double AttentionParameters(const v1::Model& model);
double DenseMlpParameters(const v1::Model& model);
double MoeLayerParameters(const v1::Model& model);
double SsmMixerParameters(const v1::Model& model);

// Parameters of the routed experts of every MoE layer (what expert
// parallelism shards): num_moe_layers * num_experts * 3 * hidden *
// expert_ffn_dim. DeepSeek-V3: 58 * 256 * 3 * 7168 * 2048 = 6.54e11.
double RoutedExpertParameters(const v1::Model& model);
// RoutedExpertParameters * FfnWeightBytesPerElement.
double RoutedExpertBytes(const v1::Model& model);

// Parameters of every FFN weight (those FfnWeightBytesPerElement sizes):
// dense MLPs and MoE experts, routed and shared, of every layer.
// DeepSeek-V3: 3 dense layers of 3 * 7168 * 18432 and 58 MoE layers of
// 257 experts of 3 * 7168 * 2048 = 6.577e11 of its 6.710e11.
double FfnParameters(const v1::Model& model);

// Total parameters: every layer, norms, embedding and (untied) LM head.
// DeepSeek-V3 ~671e9; Llama-2-70B ~69e9; BLOOM-176B ~176e9.
double ParameterCount(const v1::Model& model);

// Parameters touched per token (MoE: top_k routed + shared experts only).
double ActiveParameterCount(const v1::Model& model);

// Bytes of weights the whole model occupies (divide by TP * PP for one
// chip's share): ParameterCount * WeightBytesPerElement, with the
// FfnParameters at FfnWeightBytesPerElement instead. DeepSeek-V3 in FP4:
// 6.577e11 * 0.5625 + 1.34e10 * 1 = 383.3 GB (FP8: 671.0 GB).
double WeightBytes(const v1::Model& model);

// One projection: C[m, n] = A[m, k] * W[k, n] where m is the token count.
// `k` and `n` here are the FULL (unsharded) sizes; `split` says which one
// tensor parallelism divides.
struct GemmShape {
  enum class Split { kNone, kN, kK };  // kN: column-parallel; kK: row-parallel
  int64_t k = 0;
  int64_t n = 0;
  Split split = Split::kNone;
};

// The projections of one layer's mixer and MLP, by role. Fields that do not
// apply to the model are {0, 0}.
struct LayerGemms {
  // MHA/GQA/CCA: fused QKV (k = hidden, n = (h + 2 h_kv) d_h) and O.
  GemmShape qkv;
  GemmShape o;
  // MLA (DeepSeek): q_a (replicated), q_b, kv_a (replicated), kv_b (the
  // naive-form up-projection of the latent), o. When q_lora_rank is 0, q_b
  // is the direct q projection (k = hidden) and q_a is empty.
  GemmShape mla_q_a;
  GemmShape mla_q_b;
  GemmShape mla_kv_a;
  GemmShape mla_kv_b;
  // Dense MLP: up (gate+up fused for SwiGLU: n = 2 d_ff) and down.
  GemmShape mlp_up;
  GemmShape mlp_down;
  // SSM mixer: in_proj, out_proj; Mamba-1 also x_proj and dt_proj.
  GemmShape ssm_in;
  GemmShape ssm_out;
  GemmShape ssm_x;
  GemmShape ssm_dt;
  // LM head (n = vocab, vocab-parallel).
  GemmShape lm_head;
};
LayerGemms LayerGemmShapes(const v1::Model& model);

// SSM inner width D = expand * hidden, and Mamba-1's dt_rank
// (ceil(hidden / 16), the mamba_simple.py "auto" default; not in the schema).
int64_t SsmInnerDim(const v1::Model& model);
int64_t SsmDtRank(const v1::Model& model);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_MODEL_FOOTPRINT_H_
