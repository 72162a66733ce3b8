// File: tests/hardware/cost_model_fixtures.h
//
// Model and Chip protos for the cost-model tests, written inline so the tests
// do not depend on the shipped catalogs (data/models, data/chips). Numbers
// are the published ones: each model's HF config.json (the sources named in
// data/models/) and SPAD arXiv:2510.08544 Table 3 (H100 and the SPAD
// chips).
#ifndef FLEETSIM_TESTS_HARDWARE_COST_MODEL_FIXTURES_H_
#define FLEETSIM_TESTS_HARDWARE_COST_MODEL_FIXTURES_H_

#include <string>

#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "gtest/gtest.h"
#include "hardware/operator_options.h"
#include "util/textproto.h"

namespace fleetsim::testutil {

// The message `text` holds; on a parse error the test fails (EXPECT, so it
// goes on) and the message is what parsed before the error.
template <typename Message>
Message ParsedOrFail(const std::string& text) {
  Message message;
  absl::Status status = ParseTextProto(text, "fixture", &message);
  EXPECT_TRUE(status.ok()) << status;
  return message;
}

inline v1::Model Llama2_7b() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "llama-2-7b"
    num_layers: 32
    hidden_size: 4096
    num_heads: 32
    num_kv_heads: 32
    head_dim: 128
    ffn_dim: 11008
    vocab_size: 32000
    attention: ATTENTION_KIND_MHA
    mlp: MLP_KIND_SWIGLU
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
  )pb");
}

inline v1::Model Llama2_70b() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "llama-2-70b"
    num_layers: 80
    hidden_size: 8192
    num_heads: 64
    num_kv_heads: 8
    head_dim: 128
    ffn_dim: 28672
    vocab_size: 32000
    attention: ATTENTION_KIND_GQA
    mlp: MLP_KIND_SWIGLU
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
  )pb");
}

inline v1::Model Bloom176b() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "bloom-176b"
    num_layers: 70
    hidden_size: 14336
    num_heads: 112
    num_kv_heads: 112
    head_dim: 128
    ffn_dim: 57344
    vocab_size: 250880
    attention: ATTENTION_KIND_MHA
    mlp: MLP_KIND_GELU
    norm: NORM_KIND_LAYERNORM
    dtype: DTYPE_FP16
    qkv_bias: true
    tied_embeddings: true
  )pb");
}

inline v1::Model Mixtral8x7b() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "mixtral-8x7b"
    num_layers: 32
    hidden_size: 4096
    num_heads: 32
    num_kv_heads: 8
    head_dim: 128
    ffn_dim: 14336
    vocab_size: 32000
    attention: ATTENTION_KIND_GQA
    mlp: MLP_KIND_SWIGLU
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
    moe { num_experts: 8 top_k: 2 expert_ffn_dim: 14336 }
  )pb");
}

inline v1::Model DeepSeekV3() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "deepseek-v3"
    num_layers: 61
    hidden_size: 7168
    num_heads: 128
    num_kv_heads: 128
    head_dim: 128
    ffn_dim: 18432
    vocab_size: 129280
    attention: ATTENTION_KIND_MLA
    mlp: MLP_KIND_SWIGLU
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
    mla {
      q_lora_rank: 1536
      kv_lora_rank: 512
      qk_nope_head_dim: 128
      qk_rope_head_dim: 64
      v_head_dim: 128
    }
    moe {
      num_experts: 256
      top_k: 8
      num_shared_experts: 1
      expert_ffn_dim: 2048
      shared_expert_ffn_dim: 2048
      first_dense_layers: 3
      dense_ffn_dim: 18432
    }
  )pb");
}

inline v1::Model Mamba2_2_7b() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "mamba2-2.7b"
    num_layers: 64
    hidden_size: 2560
    vocab_size: 50288
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
    tied_embeddings: true
    ssm {
      num_ssm_layers: 64
      d_state: 128
      expand: 2
      head_dim: 64
      conv_kernel: 4
    }
  )pb");
}

// Jamba-v0.1: 4 attention + 28 Mamba-1 layers (MoE omitted: the schema has
// no MoE layer period).
inline v1::Model JambaLikeHybrid() {
  return ParsedOrFail<v1::Model>(R"pb(
    name: "jamba-like"
    num_layers: 32
    hidden_size: 4096
    num_heads: 32
    num_kv_heads: 8
    head_dim: 128
    ffn_dim: 14336
    vocab_size: 65536
    attention: ATTENTION_KIND_GQA
    mlp: MLP_KIND_SWIGLU
    norm: NORM_KIND_RMSNORM
    dtype: DTYPE_BF16
    ssm { num_ssm_layers: 28 d_state: 16 expand: 2 conv_kernel: 4 }
  )pb");
}

// The default options with the GEMM class at Vidur's H100 fit (eager fp16
// GEMMs, M-tile padding; the chip-wide default) instead of the GEMM default
// fitted on today's CUDA-graph kernels, which has no M-tile term
// (docs/calibration.md §4.1.1): for tests of the M-tile term and of
// Vidur's measurements.
inline hardware::OperatorModelOptions WithVidurGemm() {
  hardware::OperatorModelOptions o;
  o.efficiency[v1::OPERATOR_CLASS_GEMM] =
      o.efficiency[v1::OPERATOR_CLASS_UNSPECIFIED];
  return o;
}

// SPAD Table 3 columns; scale-up 450 GB/s per direction for all three
// (SPAD §4: same 900 GB/s NVLink-class scale-up as H100).
inline v1::Chip H100() {
  return ParsedOrFail<v1::Chip>(R"pb(
    name: "h100"
    bf16_tflops: 989.4
    fp8_tflops: 1978.9
    vector_tflops: 66.9
    sram_mb: 84
    compute_units: 132
    memory_gib: 80
    memory_bandwidth_tbps: 3.35
    tdp_w: 700
    scale_up_gbytes_per_s: 450
    scale_out_gbytes_per_s: 50
  )pb");
}

inline v1::Chip SpadPrefill() {
  return ParsedOrFail<v1::Chip>(R"pb(
    name: "spad_prefill"
    bf16_tflops: 1920
    vector_tflops: 32.4
    sram_mb: 73
    compute_units: 128
    memory_gib: 64
    memory_bandwidth_tbps: 2.048
    tdp_w: 596
    scale_up_gbytes_per_s: 450
    scale_out_gbytes_per_s: 50
  )pb");
}

inline v1::Chip SpadDecode() {
  return ParsedOrFail<v1::Chip>(R"pb(
    name: "spad_decode"
    bf16_tflops: 540
    vector_tflops: 18.2
    sram_mb: 48
    compute_units: 144
    memory_gib: 80
    memory_bandwidth_tbps: 3.352
    tdp_w: 507
    scale_up_gbytes_per_s: 450
    scale_out_gbytes_per_s: 50
  )pb");
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_HARDWARE_COST_MODEL_FIXTURES_H_
