// Tests for hardware/model_footprint.h: exact KV bytes per token per
// attention kind, recurrent state, parameter counts.
#include "hardware/model_footprint.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/catalog_test_util.h"
#include "tests/hardware/cost_model_fixtures.h"
#include "workloads/model_catalog.h"

namespace fleetsim::hardware {
namespace {

using fleetsim::testutil::Bloom176b;
using fleetsim::testutil::DeepSeekV3;
using fleetsim::testutil::JambaLikeHybrid;
using fleetsim::testutil::Llama2_70b;
using fleetsim::testutil::Llama2_7b;
using fleetsim::testutil::Mamba2_2_7b;
using fleetsim::testutil::Mixtral8x7b;

TEST(ModelFootprintTest, Llama2_70bKvIs320KiBPerTokenAtBf16) {
  // GQA: 80 layers * 2 (K, V) * 8 KV heads * 128 * 2 B = 327,680 B.
  EXPECT_EQ(KvBytesPerToken(Llama2_70b()), 327680);
  EXPECT_EQ(KvBytesPerToken(Llama2_70b()), 320 * 1024);
}

TEST(ModelFootprintTest, MhaKvSizes) {
  // Llama-2-7B: 32 * 2 * 32 * 128 * 2 = 524,288 B = 512 KiB.
  EXPECT_EQ(KvBytesPerToken(Llama2_7b()), 512 * 1024);
  // BLOOM-176B: 70 * 2 * 112 * 128 * 2 = 4,014,080 B = 3.83 MiB.
  EXPECT_EQ(KvBytesPerToken(Bloom176b()), 4014080);
  EXPECT_NEAR(KvBytesPerToken(Bloom176b()) / (1024.0 * 1024.0), 3.83, 0.005);
}

TEST(ModelFootprintTest, MlaCachesTheLatentOnly) {
  const v1::Model ds = DeepSeekV3();
  EXPECT_EQ(KvBytesPerTokenPerLayer(ds), 576 * 2);  // (512 + 64) el, bf16
  EXPECT_EQ(KvBytesPerToken(ds), 61 * 576 * 2);     // 70,272 B = 68.6 KiB
  v1::Model fp8 = ds;
  fp8.set_kv_dtype(v1::DTYPE_FP8);
  EXPECT_EQ(KvBytesPerToken(fp8), 61 * 576);
}

TEST(ModelFootprintTest, TensorParallelRanksKeepCopiesOfSharedKv) {
  // MLA's latent is read by every rank's heads: one copy per rank.
  EXPECT_EQ(KvCopiesUnderTp(DeepSeekV3(), 1), 1);
  EXPECT_EQ(KvCopiesUnderTp(DeepSeekV3(), 8), 8);
  // GQA's 8 KV heads split over up to 8 ranks, each held twice over 16.
  EXPECT_EQ(KvCopiesUnderTp(Llama2_70b(), 8), 1);
  EXPECT_EQ(KvCopiesUnderTp(Llama2_70b(), 16), 2);
  EXPECT_EQ(KvCopiesUnderTp(Bloom176b(), 8), 1);    // MHA, 112 heads
  EXPECT_EQ(KvCopiesUnderTp(Mamba2_2_7b(), 4), 1);  // no attention
}

TEST(ModelFootprintTest, CcaCachesCompressedKvAndAConvWindow) {
  v1::Model cca = Llama2_7b();
  cca.set_attention(v1::ATTENTION_KIND_CCA);
  cca.set_hidden_size(2048);
  cca.set_num_heads(8);
  cca.set_num_kv_heads(2);
  cca.mutable_cca()->set_conv_kernel_q(2);
  cca.mutable_cca()->set_conv_kernel_k(2);
  // 2 * e_k * b = 2 * 256 * 2 per layer.
  EXPECT_EQ(KvBytesPerTokenPerLayer(cca), 1024);
  // (e_q + e_k) * (k0 + k1 - 2) * b + d * b = (1024 + 256) * 2 * 2 + 4096.
  EXPECT_EQ(CcaStateBytesPerSequence(cca), 32 * (1280 * 2 * 2 + 4096));
}

// The shipped CCGQA model (ZAYA1-base, arXiv:2510.04476) and its MHA and
// GQA twins: one body, and each KV cache smaller than the MHA twin's by
// the compression its fields give, hidden_size over the cached K (or V)
// width; CCGQA's is the paper's 8x.
TEST(ModelFootprintTest, CcgqaTwinsDifferByTheirKvCompression) {
  const workloads::ModelCatalog catalog = testutil::LoadedOrFail(
      workloads::LoadModelCatalog(FLEETSIM_SOURCE_DIR "/data"));
  const v1::Model& mha = testutil::FindOrFail(catalog, "zaya1-mha-twin");
  const v1::Model& gqa = testutil::FindOrFail(catalog, "zaya1-gqa-twin");
  const v1::Model& ccgqa = testutil::FindOrFail(catalog, "zaya1-ccgqa");
  const auto compression = [](const v1::Model& m) {
    return m.hidden_size() / (m.num_kv_heads() * m.head_dim());
  };
  EXPECT_EQ(compression(mha), 1);
  EXPECT_EQ(compression(ccgqa), 8);
  for (const v1::Model* m : {&gqa, &ccgqa}) {
    EXPECT_EQ(m->num_layers(), mha.num_layers()) << m->name();
    EXPECT_EQ(m->hidden_size(), mha.hidden_size()) << m->name();
    EXPECT_EQ(m->moe().SerializeAsString(), mha.moe().SerializeAsString())
        << m->name();
    EXPECT_EQ(m->hidden_size() % (m->num_kv_heads() * m->head_dim()), 0);
    EXPECT_EQ(KvBytesPerToken(mha), compression(*m) * KvBytesPerToken(*m))
        << m->name();
  }
  // Only CCA keeps a conv window per sequence, besides its KV.
  EXPECT_GT(RecurrentStateBytesPerSequence(ccgqa), 0);
  EXPECT_EQ(RecurrentStateBytesPerSequence(gqa), 0);
}

TEST(ModelFootprintTest, SsmStateIsConstantPerSequence) {
  const v1::Model m = Mamba2_2_7b();
  EXPECT_EQ(KvBytesPerToken(m), 0);
  // 64 layers * (80 heads * 64 * 128 + (5120 + 256) * 4) * 2 B.
  EXPECT_EQ(SsmStateBytesPerSequence(m), 64LL * (80 * 64 * 128 + 5376 * 4) * 2);
  // Hybrid: only the 4 attention layers hold KV.
  const v1::Model j = JambaLikeHybrid();
  EXPECT_EQ(NumAttentionLayers(j), 4);
  EXPECT_EQ(KvBytesPerToken(j), 4 * 2 * 8 * 128 * 2);  // 16 KiB
  // Mamba-1: 28 * (8192 * 16 + 8192 * 4) * 2 B ~ 9.2 MB.
  EXPECT_EQ(SsmStateBytesPerSequence(j), 28LL * (8192 * 16 + 8192 * 4) * 2);
}

TEST(ModelFootprintTest, ParameterCountsMatchPublishedSizes) {
  EXPECT_NEAR(ParameterCount(Llama2_7b()) / 1e9, 6.74, 0.05);
  EXPECT_NEAR(ParameterCount(Llama2_70b()) / 1e9, 68.98, 0.2);
  EXPECT_NEAR(ParameterCount(Bloom176b()) / 1e9, 176.2, 0.5);
  EXPECT_NEAR(ParameterCount(DeepSeekV3()) / 1e9, 671, 5);
  EXPECT_NEAR(ActiveParameterCount(DeepSeekV3()) / 1e9, 37.5, 1.5);
  EXPECT_NEAR(ParameterCount(Mixtral8x7b()) / 1e9, 46.7, 0.3);
  EXPECT_NEAR(ActiveParameterCount(Mixtral8x7b()) / 1e9, 12.9, 0.2);
  EXPECT_NEAR(ParameterCount(Mamba2_2_7b()) / 1e9, 2.7, 0.1);
  EXPECT_DOUBLE_EQ(WeightBytes(Llama2_70b()), 2 * ParameterCount(Llama2_70b()));
}

TEST(ModelFootprintTest, RoutedExpertsAreWhatExpertParallelismShards) {
  // DeepSeek-V3: 58 MoE layers x 256 experts x 3 x 7168 x 2048.
  EXPECT_DOUBLE_EQ(RoutedExpertParameters(DeepSeekV3()),
                   58.0 * 256 * 3 * 7168 * 2048);
  EXPECT_DOUBLE_EQ(RoutedExpertParameters(Llama2_70b()), 0);
}

// FP4 weights: NVFP4 (4-bit values, one FP8 scale per 16: 4.5 bits) on the
// FFN weights only, the rest FP8, as NVIDIA's DeepSeek FP4 checkpoints.
TEST(ModelFootprintTest, Fp4WeightsAreNvfp4OnTheFfnsAndFp8Elsewhere) {
  v1::Model ds = DeepSeekV3();
  ds.set_dtype(v1::DTYPE_FP4);
  EXPECT_DOUBLE_EQ(FfnWeightBytesPerElement(ds), 4.5 / 8);
  EXPECT_EQ(WeightBytesPerElement(ds), 1);
  // 3 dense layers of SwiGLU 7168 -> 18432, 58 MoE layers of 256 routed
  // and 1 shared expert of 7168 -> 2048 (the router is not an FFN weight).
  const double ffn = 3.0 * 3 * 7168 * 18432 + 58.0 * 257 * 3 * 7168 * 2048;
  EXPECT_DOUBLE_EQ(FfnParameters(ds), ffn);
  const double total = ParameterCount(ds);
  EXPECT_DOUBLE_EQ(WeightBytes(ds), (total - ffn) * 1 + ffn * 0.5625);
  EXPECT_NEAR(WeightBytes(ds) / 1e9, 383.3, 0.1);  // FP8: 671.0 GB
  EXPECT_DOUBLE_EQ(RoutedExpertBytes(ds),
                   58.0 * 256 * 3 * 7168 * 2048 * 0.5625);
  // Other precisions keep every weight at one size.
  ds.set_dtype(v1::DTYPE_FP8);
  EXPECT_DOUBLE_EQ(FfnWeightBytesPerElement(ds), 1);
  EXPECT_DOUBLE_EQ(WeightBytes(ds), total);
  // A dense model: its MLPs (80 x 3 x 8192 x 28672) in NVFP4.
  v1::Model llama = Llama2_70b();
  llama.set_dtype(v1::DTYPE_FP4);
  const double mlp = 80.0 * 3 * 8192 * 28672;
  EXPECT_DOUBLE_EQ(FfnParameters(llama), mlp);
  EXPECT_DOUBLE_EQ(WeightBytes(llama),
                   ParameterCount(llama) - mlp + 0.5625 * mlp);
}

TEST(ModelFootprintTest, GemmShapesAndSplits) {
  const LayerGemms g = LayerGemmShapes(Llama2_70b());
  EXPECT_EQ(g.qkv.k, 8192);
  EXPECT_EQ(g.qkv.n, (64 + 2 * 8) * 128);
  EXPECT_EQ(g.qkv.split, GemmShape::Split::kN);
  EXPECT_EQ(g.o.split, GemmShape::Split::kK);
  EXPECT_EQ(g.mlp_up.n, 2 * 28672);  // gate + up fused
  const LayerGemms b = LayerGemmShapes(Bloom176b());
  EXPECT_EQ(b.mlp_up.n, 57344);  // GELU: up only
  const LayerGemms ds = LayerGemmShapes(DeepSeekV3());
  EXPECT_EQ(ds.mla_kv_a.n, 576);
  EXPECT_EQ(ds.mla_kv_a.split, GemmShape::Split::kNone);
  EXPECT_EQ(ds.mla_kv_b.n, 128 * (128 + 128));
}

}  // namespace
}  // namespace fleetsim::hardware
