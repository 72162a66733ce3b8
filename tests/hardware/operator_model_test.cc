// Tests for hardware/operator_model.h: FLOP accounting against hand
// arithmetic, which unit bounds which regime, the shape of the curves
// (batch, context, prompt length), collectives, the H100 calibration
// snapshot from Vidur's measurements, and SPAD Table 3's chip ratios.
#include "hardware/operator_model.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/model_footprint.h"
#include "tests/catalog_test_util.h"
#include "tests/hardware/cost_model_fixtures.h"
#include "tests/hardware/operator_model_test_util.h"
#include "tests/hardware/ops/op_family_fixture.h"
#include "workloads/model_catalog.h"

namespace fleetsim::hardware {
namespace {

using fleetsim::testutil::Bloom176b;
using fleetsim::testutil::DeepSeekV3;
using fleetsim::testutil::H100;
using fleetsim::testutil::JambaLikeHybrid;
using fleetsim::testutil::Llama2_70b;
using fleetsim::testutil::Llama2_7b;
using fleetsim::testutil::Mamba2_2_7b;
using fleetsim::testutil::Mixtral8x7b;
using fleetsim::testutil::SpadDecode;
using fleetsim::testutil::SpadPrefill;

double TotalFlops(const IterationBreakdown& b) {
  double f = 0;
  for (const OperatorTime& op : b.ops) f += op.flops;
  return f;
}

TEST(OperatorModelTest, BoundNames) {
  EXPECT_STREQ(BoundName(Bound::kCompute), "compute");
  EXPECT_STREQ(BoundName(Bound::kVector), "vector");
  EXPECT_STREQ(BoundName(Bound::kMemory), "memory");
  EXPECT_STREQ(BoundName(Bound::kFloor), "floor");
  EXPECT_STREQ(BoundName(Bound::kNetwork), "network");
}

// Llama-2-7B (32 layers, d = 4096, 32 heads x 128, d_ff = 11008, V = 32000),
// one decode token after 1000 cached tokens (BatchShape counts 1001 K/V rows
// read), TP 1. Per layer:
//   QKV:  2 * 1 * 4096 * (3 * 4096)   = 100,663,296
//   O:    2 * 1 * 4096 * 4096         =  33,554,432
//   up:   2 * 1 * 4096 * (2 * 11008)  = 180,355,072 (gate + up)
//   down: 2 * 1 * 11008 * 4096        =  90,177,536
//   attention decode: 4 * 32 * 128 * 1001 = 16,400,384
// times 32 layers, plus the LM head 2 * 1 * 4096 * 32000 = 262,144,000.
TEST(OperatorModelTest, Llama2_7bDecodeFlopsMatchHandArithmetic) {
  auto m = Make(Llama2_7b(), H100(), 1);
  const IterationBreakdown b = m->Explain(Decode(1, 1000));
  EXPECT_DOUBLE_EQ(FindOp(b, "qkv_proj")->flops, 32.0 * 100663296);
  EXPECT_DOUBLE_EQ(FindOp(b, "o_proj")->flops, 32.0 * 33554432);
  EXPECT_DOUBLE_EQ(FindOp(b, "mlp_up")->flops, 32.0 * 180355072);
  EXPECT_DOUBLE_EQ(FindOp(b, "mlp_down")->flops, 32.0 * 90177536);
  EXPECT_DOUBLE_EQ(FindOp(b, "attn_decode")->flops, 32.0 * 16400384);
  EXPECT_DOUBLE_EQ(FindOp(b, "lm_head")->flops, 262144000.0);
  EXPECT_DOUBLE_EQ(TotalFlops(b), 32.0 * (100663296 + 33554432 + 180355072 +
                                          90177536 + 16400384) +
                                      262144000.0);
  EXPECT_EQ(FindOp(b, "attn_prefill"), nullptr);  // no prefill: not run
  EXPECT_EQ(FindOp(b, "allreduce"), nullptr);     // tp = 1
  // Weight bytes dominate: QKV streams 4096 * 12288 * 2 B per layer plus
  // 2 * (4096 + 12288) B of activations.
  EXPECT_DOUBLE_EQ(FindOp(b, "qkv_proj")->bytes,
                   32.0 * (4096.0 * 12288 * 2 + 2.0 * (4096 + 12288)));
}

// Prefill of 2048 tokens: causal pairs 2048 * 2049 / 2 = 2,098,176, so the
// attention core is 4 * 32 * 128 * 2,098,176 = 34,376,515,584 FLOPs per layer
// and the QKV GEMM 2 * 2048 * 4096 * 12288 = 206,158,430,208.
TEST(OperatorModelTest, Llama2_7bPrefillFlopsMatchHandArithmetic) {
  auto m = Make(Llama2_7b(), H100(), 1);
  const IterationBreakdown b = m->Explain(Prefill(2048));
  EXPECT_DOUBLE_EQ(FindOp(b, "attn_prefill")->flops, 32.0 * 34376515584.0);
  EXPECT_DOUBLE_EQ(FindOp(b, "qkv_proj")->flops, 32.0 * 206158430208.0);
  EXPECT_DOUBLE_EQ(FindOp(b, "lm_head")->flops, 262144000.0);  // 1 row
}

// A speculative verify scores k + 1 positions of a chunk: the LM head,
// sampling and logits gather grow by the extra rows; the per-request
// overhead does not.
TEST(OperatorModelTest, ExtraLogitRowsGrowTheLmHeadNotTheRequestOverhead) {
  OperatorModelOptions options;
  options.request_layer_overhead_s = 1e-6;
  auto m = Make(Llama2_7b(), H100(), 2, 1, options);
  BatchShape verify = Prefill(5, 3);
  const IterationBreakdown one_row = m->Explain(verify);
  verify.extra_logit_rows = 3 * 4;
  const IterationBreakdown five_rows = m->Explain(verify);
  EXPECT_DOUBLE_EQ(FindOp(five_rows, "lm_head")->flops,
                   5 * FindOp(one_row, "lm_head")->flops);
  EXPECT_GT(FindOp(five_rows, "sampling")->seconds,
            FindOp(one_row, "sampling")->seconds);
  EXPECT_GT(FindOp(five_rows, "logits_gather")->bytes,
            FindOp(one_row, "logits_gather")->bytes);
  EXPECT_DOUBLE_EQ(FindOp(five_rows, "framework_overhead")->seconds,
                   FindOp(one_row, "framework_overhead")->seconds);
  EXPECT_DOUBLE_EQ(FindOp(five_rows, "qkv_proj")->flops,
                   FindOp(one_row, "qkv_proj")->flops);
}

// Kernel time only: the framework overhead is charged to no unit.
OperatorModelOptions KernelOnly() {
  OperatorModelOptions o;
  o.iteration_overhead_s = 0;
  o.layer_overhead_s = 0;
  return o;
}

TEST(OperatorModelTest, DecodeOfLargeModelOnH100IsMemoryBound) {
  auto m = Make(Llama2_70b(), H100(), 4, 1, KernelOnly());
  for (int batch : {1, 16, 64}) {
    const IterationBreakdown b = m->Explain(Decode(batch, 1024));
    double memory_s = 0;
    for (const OperatorTime& op : b.ops) {
      if (op.bound == Bound::kMemory) memory_s += op.seconds;
    }
    for (const char* name : {"qkv_proj", "mlp_up", "mlp_down"}) {
      EXPECT_EQ(FindOp(b, name)->bound, Bound::kMemory)
          << name << " at batch " << batch;
    }
    // One request's 1 MB of K/V per layer hits the 5 us launch floor.
    if (batch >= 16) {
      EXPECT_EQ(FindOp(b, "attn_decode")->bound, Bound::kMemory);
    }
    EXPECT_GT(memory_s / b.seconds, 0.7) << "batch " << batch;
  }
}

TEST(OperatorModelTest, Prefill2kTokensIsComputeBound) {
  auto m = Make(Llama2_7b(), H100(), 1, 1, KernelOnly());
  const IterationBreakdown b = m->Explain(Prefill(2048));
  double compute_s = 0;
  for (const OperatorTime& op : b.ops) {
    if (op.bound == Bound::kCompute) compute_s += op.seconds;
  }
  for (const char* name :
       {"qkv_proj", "o_proj", "mlp_up", "mlp_down", "attn_prefill"}) {
    EXPECT_EQ(FindOp(b, name)->bound, Bound::kCompute) << name;
  }
  EXPECT_GT(compute_s / b.seconds, 0.75);
}

TEST(OperatorModelTest, DecodeTimeGrowsWithBatchAndContext) {
  auto m = Make(Llama2_70b(), H100(), 8, 1, KernelOnly());
  double prev = 0;
  for (int batch : {1, 8, 32, 128}) {
    const double t = m->IterationSeconds(Decode(batch, 2048));
    EXPECT_GT(t, prev) << "batch " << batch;
    prev = t;
  }
  prev = 0;
  for (int64_t context : {128, 1024, 4096, 16384}) {
    const double t = m->IterationSeconds(Decode(32, context));
    EXPECT_GT(t, prev) << "context " << context;
    prev = t;
  }
  // KV reads are a real share even with GQA (one KV head per chip at TP8):
  // 32 x 16k context costs ~1.5x 32 x 128.
  EXPECT_GT(m->IterationSeconds(Decode(32, 16384)),
            1.3 * m->IterationSeconds(Decode(32, 128)));
}

TEST(OperatorModelTest, PrefillCostIsSuperlinearInPromptLength) {
  auto m = Make(Llama2_7b(), H100(), 1);
  const IterationBreakdown b4 = m->Explain(Prefill(4096));
  const IterationBreakdown b8 = m->Explain(Prefill(8192));
  // Attention core FLOPs ~4x for 2x tokens (8192*8193 / (4096*4097)).
  EXPECT_NEAR(
      FindOp(b8, "attn_prefill")->flops / FindOp(b4, "attn_prefill")->flops,
      8192.0 * 8193 / (4096.0 * 4097), 1e-9);
  EXPECT_GT(b8.seconds, 2.0 * b4.seconds);
  // Per-token cost rises with length once GEMMs are compute-bound.
  EXPECT_GT(m->IterationSeconds(Prefill(16384)) / 16384,
            m->IterationSeconds(Prefill(2048)) / 2048);
}

TEST(OperatorModelTest, CachedPrefixAddsQuadraticTermAndKvReads) {
  auto m = Make(Llama2_7b(), H100(), 1);
  BatchShape cold;
  cold.AddPrefillChunk(512, 0);
  BatchShape warm;
  warm.AddPrefillChunk(512, 3584);
  const IterationBreakdown c = m->Explain(cold);
  const IterationBreakdown w = m->Explain(warm);
  EXPECT_GT(FindOp(w, "attn_prefill")->flops,
            7 * FindOp(c, "attn_prefill")->flops);
  EXPECT_GT(FindOp(w, "attn_prefill")->bytes, FindOp(c, "attn_prefill")->bytes);
  EXPECT_DOUBLE_EQ(FindOp(w, "qkv_proj")->flops, FindOp(c, "qkv_proj")->flops);
}

TEST(OperatorModelTest, TensorParallelAllReduceOnlyWhenTpAboveOne) {
  const BatchShape batch = Decode(16, 512);
  auto tp1 = Make(Llama2_70b(), H100(), 1);
  EXPECT_EQ(FindOp(tp1->Explain(batch), "allreduce"), nullptr);
  auto tp8 = Make(Llama2_70b(), H100(), 8);
  const IterationBreakdown b = tp8->Explain(batch);
  const OperatorTime* ar = FindOp(b, "allreduce");
  ASSERT_NE(ar, nullptr);
  EXPECT_EQ(ar->bound, Bound::kNetwork);
  EXPECT_EQ(ar->op_class, v1::OPERATOR_CLASS_COLLECTIVE);
  // 2 per layer + 1 after the embedding, 16 x 8192 x 2 B = 256 KiB each:
  // NCCL's low-latency line on 8 x H100 (16.7 us + 2.3 us of bus time),
  // next to the 19.15 us aiconfigurator measured for that message
  // (data/calibration/aiconfigurator/h100/nccl.csv.gz).
  EXPECT_NEAR(ar->seconds / 161, 19.15e-6, 1e-6);
  // TP shrinks the per-chip GEMM: QKV FLOPs drop 8x.
  EXPECT_NEAR(FindOp(tp1->Explain(batch), "qkv_proj")->flops /
                  FindOp(b, "qkv_proj")->flops,
              8.0, 1e-9);
}

TEST(OperatorModelTest, PipelineStagesSumAndAddSends) {
  const BatchShape batch = Prefill(1024);
  auto pp1 = Make(Llama2_70b(), H100(), 4, 1);
  auto pp2 = Make(Llama2_70b(), H100(), 4, 2);
  const IterationBreakdown b = pp2->Explain(batch);
  const OperatorTime* send = FindOp(b, "pp_send");
  ASSERT_NE(send, nullptr);
  EXPECT_NEAR(b.seconds, pp1->IterationSeconds(batch) + send->seconds, 1e-12);
}

TEST(OperatorModelTest, IterationSecondsEqualsExplainTotal) {
  auto m = Make(Bloom176b(), H100(), 8);
  BatchShape mixed = Decode(32, 900);
  mixed.AddPrefillChunk(512, 1024);
  const IterationBreakdown b = m->Explain(mixed);
  EXPECT_DOUBLE_EQ(m->IterationSeconds(mixed), b.seconds);
  double sum = 0;
  for (const OperatorTime& op : b.ops) sum += op.seconds;
  EXPECT_NEAR(sum, b.seconds, 1e-12);
}

TEST(OperatorModelTest, MoeStreamsOnlyTheExpertsTouched) {
  // Mixtral TP1: one token touches top_k = 2 of 8 experts; 64 tokens touch
  // E (1 - (1 - 2/8)^64) ~ 8.
  // Activations add k (2 d + 3 d_e) bf16 per token to the weight stream,
  // and the fused layer's permutation traffic k d (local + layer pair
  // bytes).
  auto m = Make(Mixtral8x7b(), H100(), 1);
  const ClassEfficiency moe =
      OperatorModelOptions::DefaultOperatorEfficiencies()[static_cast<int>(
          NamedOperator::kMoe)];
  const double expert_bytes = 3.0 * 4096 * 14336 * 2;
  const double act_bytes =
      2.0 * 2 * (2 * 4096 + 3 * 14336) +
      2.0 * 4096 * (moe.local_pair_bytes + moe.layer_pair_bytes);
  const IterationBreakdown b1 = m->Explain(Decode(1, 100));
  const OperatorTime* one = FindOp(b1, "moe_experts");
  ASSERT_NE(one, nullptr);
  EXPECT_NEAR((one->bytes / 32 - act_bytes) / expert_bytes, 2.0, 1e-9);
  const IterationBreakdown b64 = m->Explain(Decode(64, 100));
  const OperatorTime* many = FindOp(b64, "moe_experts");
  EXPECT_NEAR((many->bytes / 32 - 64 * act_bytes) / expert_bytes,
              8.0 * (1 - std::pow(0.75, 64)), 1e-9);
  EXPECT_EQ(many->op_class, v1::OPERATOR_CLASS_MOE);
}

// A chip's FP8 entry for the fused MoE layer prices FP8 experts, and its
// per-call latency (a fused-layer fit, whose time includes the SwiGLU)
// decides whether the experts' activation is charged apart: here only the
// FP8 entry is a fused-layer fit, so BF16 experts keep their activation.
TEST(OperatorModelTest, Fp8ExpertsTakeTheChipsFp8FusedLayerEntry) {
  OperatorModelOptions options;
  options.operator_efficiency[static_cast<int>(NamedOperator::kMoe)].latency_s =
      0;
  v1::Chip chip = H100();
  v1::OperatorEfficiency* fp8 = chip.add_efficiency();
  fp8->set_op(v1::OPERATOR_CLASS_MOE);
  fp8->set_dtype(v1::DTYPE_FP8);
  v1::OperatorEfficiency* fused = fp8->add_operators();
  fused->set_op_name("moe");
  fused->set_latency_us(5000);
  for (const v1::Dtype dtype : {v1::DTYPE_BF16, v1::DTYPE_FP8}) {
    v1::Model model = Mixtral8x7b();
    model.set_dtype(dtype);
    const IterationBreakdown b =
        Make(model, chip, 1, 1, options)->Explain(Decode(4, 100));
    const OperatorTime* experts = FindOp(b, "moe_experts");
    ASSERT_NE(experts, nullptr);
    if (dtype == v1::DTYPE_FP8) {
      EXPECT_GT(experts->seconds, 32 * 5000e-6);
      EXPECT_EQ(FindOp(b, "moe_activation"), nullptr);
    } else {
      EXPECT_LT(experts->seconds, 32 * 5000e-6);
      EXPECT_NE(FindOp(b, "moe_activation"), nullptr);
    }
  }
}

TEST(OperatorModelTest, MlaDecodeReadsTheLatentCache) {
  auto m = Make(DeepSeekV3(), H100(), 8);
  const IterationBreakdown b1 = m->Explain(Decode(8, 1000));
  const IterationBreakdown b2 = m->Explain(Decode(8, 3000));
  // 576 bf16 elements per cached token per layer, on every TP rank.
  EXPECT_NEAR(FindOp(b2, "mla_decode")->bytes - FindOp(b1, "mla_decode")->bytes,
              61.0 * 8 * 2000 * 576 * 2, 1.0);
  // Absorbed form: 2 * h/t * (576 + 512) FLOPs per context token per layer.
  EXPECT_NEAR(FindOp(b2, "mla_decode")->flops - FindOp(b1, "mla_decode")->flops,
              61.0 * 8 * 2000 * 2 * 16 * 1088, 1.0);
  EXPECT_NE(FindOp(m->Explain(Prefill(1024)), "mla_kv_up"), nullptr);
}

// CCGQA (arXiv:2510.04476) attends inside its compressed latent: at a 16k
// prompt the attention's FLOPs fall by the query heads' ratio (the
// shipped twins: 16 / 8), and its time, CCA's convolutions included, falls
// by a little less (the convolutions cost) but by more than 1.5x (the
// paper measures ~1.7x on H100; docs/seeds.md).
TEST(OperatorModelTest, CcgqaPrefillAttentionShrinksWithItsLatentHeads) {
  const workloads::ModelCatalog catalog = testutil::LoadedOrFail(
      workloads::LoadModelCatalog(FLEETSIM_SOURCE_DIR "/data"));
  const v1::Model& mha = testutil::FindOrFail(catalog, "zaya1-mha-twin");
  const v1::Model& ccgqa = testutil::FindOrFail(catalog, "zaya1-ccgqa");
  auto full = Make(mha, H100(), 1);
  auto latent = Make(ccgqa, H100(), 1);
  ASSERT_NE(full, nullptr);
  ASSERT_NE(latent, nullptr);
  const IterationBreakdown b_full = full->Explain(Prefill(16384));
  const IterationBreakdown b_latent = latent->Explain(Prefill(16384));
  const OperatorTime* attn_full = FindOp(b_full, "attn_prefill");
  const OperatorTime* attn_latent = FindOp(b_latent, "attn_prefill");
  const OperatorTime* conv = FindOp(b_latent, "cca_conv");
  ASSERT_NE(attn_full, nullptr);
  ASSERT_NE(attn_latent, nullptr);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(FindOp(b_full, "cca_conv"), nullptr);
  const double heads_ratio =
      static_cast<double>(mha.num_heads()) / ccgqa.num_heads();
  EXPECT_NEAR(attn_full->flops / attn_latent->flops, heads_ratio, 1e-9);
  const double speedup =
      attn_full->seconds / (attn_latent->seconds + conv->seconds);
  EXPECT_LT(speedup, heads_ratio);
  EXPECT_GT(speedup, 1.5);
}

TEST(OperatorModelTest, SsmDecodeIsConstantInContext) {
  auto m = Make(Mamba2_2_7b(), H100(), 1);
  EXPECT_DOUBLE_EQ(m->IterationSeconds(Decode(16, 100)),
                   m->IterationSeconds(Decode(16, 100000)));
  auto hybrid = Make(JambaLikeHybrid(), H100(), 1);
  EXPECT_GT(hybrid->IterationSeconds(Decode(16, 100000)),
            hybrid->IterationSeconds(Decode(16, 100)));
  EXPECT_NE(FindOp(hybrid->Explain(Decode(4, 10)), "ssm_scan_decode"), nullptr);
}

TEST(OperatorModelTest, CreateRejectsBadConfigurations) {
  EXPECT_EQ(OperatorModel::Create(Llama2_7b(), H100(), 3, 1).status().code(),
            absl::StatusCode::kInvalidArgument);  // 32 heads % 3
  EXPECT_EQ(OperatorModel::Create(Llama2_7b(), H100(), 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OperatorModel::Create(Llama2_7b(), H100(), 1, 64).status().code(),
            absl::StatusCode::kInvalidArgument);  // pp > layers
  v1::Chip no_vector = H100();
  no_vector.clear_vector_tflops();
  EXPECT_EQ(OperatorModel::Create(Llama2_7b(), no_vector, 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Chip no_link = H100();
  no_link.clear_scale_up_gbytes_per_s();
  auto status = OperatorModel::Create(Llama2_7b(), no_link, 2, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("scale_up_gbytes_per_s"), std::string::npos);
  OperatorModelOptions bad;
  bad.overlap_exponent = 0.5;
  EXPECT_FALSE(OperatorModel::Create(Llama2_7b(), H100(), 1, 1, bad).ok());
  // 8 KV heads on 16 ranks: replicated, allowed.
  EXPECT_TRUE(OperatorModel::Create(Llama2_70b(), H100(), 16, 1).ok());
}

TEST(OperatorModelTest, ChipEfficiencyOverridesApplyPerClass) {
  v1::Chip slow = H100();
  v1::OperatorEfficiency* e = slow.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_GEMM);
  e->set_compute(0.36);
  auto base = Make(Llama2_7b(), H100(), 1);
  auto over = Make(Llama2_7b(), slow, 1);
  const BatchShape batch = Prefill(4096);
  const double ratio = FindOp(over->Explain(batch), "mlp_up")->seconds /
                       FindOp(base->Explain(batch), "mlp_up")->seconds;
  // Compute-bound: about the ratio of the efficiencies.
  const double eta =
      OperatorModelOptions().efficiency[v1::OPERATOR_CLASS_GEMM].compute;
  EXPECT_GT(ratio, 0.9 * eta / 0.36);
  EXPECT_LT(ratio, 1.02 * eta / 0.36);
  EXPECT_DOUBLE_EQ(FindOp(over->Explain(batch), "attn_prefill")->seconds,
                   FindOp(base->Explain(batch), "attn_prefill")->seconds);
}

TEST(OperatorModelTest, CorrectionHookReplacesAnOperatorClass) {
  OperatorModelOptions o;
  int64_t seen_m = 0;
  o.corrections[v1::OPERATOR_CLASS_GEMM] = [&seen_m](const OperatorQuery& q) {
    if (q.name == "qkv_proj") seen_m = q.m;
    return q.name == "qkv_proj" ? 1e-3 : q.analytic_s;
  };
  auto m = Make(Llama2_7b(), H100(), 1, 1, o);
  auto base = Make(Llama2_7b(), H100(), 1);
  const IterationBreakdown b = m->Explain(Prefill(300));
  EXPECT_EQ(seen_m, 300);
  EXPECT_DOUBLE_EQ(FindOp(b, "qkv_proj")->seconds, 32 * 1e-3);
  EXPECT_DOUBLE_EQ(FindOp(b, "mlp_up")->seconds,
                   FindOp(base->Explain(Prefill(300)), "mlp_up")->seconds);
}

TEST(OperatorModelTest, FusingElementwiseRemovesTheirTraffic) {
  OperatorModelOptions fused;
  fused.fuse_elementwise = true;
  auto a = Make(Bloom176b(), H100(), 8);
  auto f = Make(Bloom176b(), H100(), 8, 1, fused);
  const BatchShape batch = Prefill(1500);
  EXPECT_EQ(FindOp(f->Explain(batch), "norm")->bytes, 0);
  EXPECT_LT(f->IterationSeconds(batch), a->IterationSeconds(batch));
}

// H100 calibration snapshot, measured by Vidur (microsoft/vidur @ 7d47513,
// data/profiling/compute/h100/*/mlp.csv, medians). Tolerance: +-15% per point,
// +-20% at the roofline knee (128-512 tokens on a large matrix), where the
// smooth maximum is least accurate. The errors are printed and listed in
// docs/cost_model.md.
struct SnapshotPoint {
  const char* label;
  v1::Model (*model)();
  int tp;
  int tokens;
  const char* op;
  double measured_us;
  double tolerance;  // relative
};

TEST(OperatorModelTest, ReproducesVidurH100GemmSnapshot) {
  const SnapshotPoint points[] = {
      {"7B TP1 QKV 4096", Llama2_7b, 1, 4096, "qkv_proj", 584, 0.15},
      {"7B TP1 QKV 512", Llama2_7b, 1, 512, "qkv_proj", 90, 0.20},
      {"7B TP1 QKV 32", Llama2_7b, 1, 32, "qkv_proj", 38, 0.15},
      {"7B TP1 QKV 1", Llama2_7b, 1, 1, "qkv_proj", 38, 0.15},
      {"7B TP1 gate+up 4096", Llama2_7b, 1, 4096, "mlp_up", 987, 0.15},
      {"7B TP1 gate+up 1", Llama2_7b, 1, 1, "mlp_up", 64, 0.15},
      {"70B TP1 QKV 4096", Llama2_70b, 1, 4096, "qkv_proj", 982, 0.15},
      {"70B TP1 gate+up 4096", Llama2_70b, 1, 4096, "mlp_up", 5668, 0.15},
      {"70B TP1 gate+up 128", Llama2_70b, 1, 128, "mlp_up", 327, 0.20},
      {"70B TP8 QKV 4096", Llama2_70b, 8, 4096, "qkv_proj", 151, 0.15},
      {"70B TP8 QKV 32", Llama2_70b, 8, 32, "qkv_proj", 13, 0.15},
      {"70B TP8 gate+up 4096", Llama2_70b, 8, 4096, "mlp_up", 643, 0.15},
      {"70B TP8 gate+up 1", Llama2_70b, 8, 1, "mlp_up", 43.5, 0.15},
  };
  for (const SnapshotPoint& p : points) {
    const v1::Model model = p.model();
    auto m = Make(model, H100(), p.tp, 1, testutil::WithVidurGemm());
    const IterationBreakdown breakdown = m->Explain(Prefill(p.tokens));
    const OperatorTime* op = FindOp(breakdown, p.op);
    ASSERT_NE(op, nullptr);
    const double us = op->seconds / model.num_layers() * 1e6;
    std::printf(
        "[snapshot] %-22s measured %7.1f us  model %7.1f us  %+5.1f%%\n",
        p.label, p.measured_us, us, 100 * (us / p.measured_us - 1));
    EXPECT_NEAR(us / p.measured_us, 1.0, p.tolerance) << p.label;
  }
}

// SPAD Table 3: BLOOM-176B, TP8, performance relative to H100 (time on H100
// / time on the chip). Workload points: prefill of one 1500-token prompt
// (the Azure coding trace's median prompt, SPAD §1.4) and a decode step of 64
// requests at 1500 tokens of context.
struct SpadRatios {
  double prefill_chip_prefill, prefill_chip_decode;
  double decode_chip_prefill, decode_chip_decode;
};

SpadRatios ComputeSpadRatios(const OperatorModelOptions& o) {
  const v1::Model bloom = Bloom176b();
  auto h100 = Make(bloom, H100(), 8, 1, o);
  auto pre = Make(bloom, SpadPrefill(), 8, 1, o);
  auto dec = Make(bloom, SpadDecode(), 8, 1, o);
  const BatchShape p = Prefill(1500);
  const BatchShape d = Decode(64, 1500);
  return {h100->IterationSeconds(p) / pre->IterationSeconds(p),
          h100->IterationSeconds(d) / pre->IterationSeconds(d),
          h100->IterationSeconds(p) / dec->IterationSeconds(p),
          h100->IterationSeconds(d) / dec->IterationSeconds(d)};
}

void PrintRatios(const char* mode, const SpadRatios& r) {
  std::printf(
      "[spad] %-16s prefill chip: prefill %.3f (SPAD 1.08) decode %.3f "
      "(0.80) | decode chip: prefill %.3f (0.69) decode %.3f (0.97)\n",
      mode, r.prefill_chip_prefill, r.prefill_chip_decode,
      r.decode_chip_prefill, r.decode_chip_decode);
}

// Three of the four ratios land within +-15% of SPAD's. The Prefill chip's
// decode ratio does not: decode is memory-bound on both chips, so the ratio
// tends to the bandwidth ratio 2.048 / 3.35 = 0.61, lifted only by the
// chip-independent all-reduce and launch floors; SPAD's 0.80 needs a much
// larger chip-independent or compute-sensitive share of decode time than a
// roofline of BLOOM decode has (docs/cost_model.md, "SPAD Table 3").
TEST(OperatorModelTest, SpadTable3RatiosDefaultFusedModel) {
  const SpadRatios r = ComputeSpadRatios(OperatorModelOptions{});
  PrintRatios("fused (default)", r);
  EXPECT_NEAR(r.prefill_chip_prefill, 1.08, 0.15 * 1.08);
  EXPECT_NEAR(r.decode_chip_prefill, 0.69, 0.15 * 0.69);
  EXPECT_NEAR(r.decode_chip_decode, 0.97, 0.15 * 0.97);
  // Documented gap: 0.67 vs 0.80.
  EXPECT_GT(r.prefill_chip_decode, 0.61);
  EXPECT_LT(r.prefill_chip_decode, 0.80);
}

// The simulator's default cost model: kernels plus the serving-stack profile
// fitted to SplitwiseSim's measured iterations (154.5 us per layer + 3.65 us
// per request per layer; docs/calibration.md §6). The profile is
// chip-independent time, so it lifts the Prefill chip's decode ratio from
// 0.67 to 0.77 (SPAD 0.80); nothing here is fitted to SPAD.
TEST(OperatorModelTest, SpadTable3RatiosWithServingStackProfile) {
  const SpadRatios r =
      ComputeSpadRatios(OperatorModelOptions::WithSplitwiseOverhead());
  PrintRatios("serving profile", r);
  EXPECT_NEAR(r.prefill_chip_prefill, 1.08, 0.15 * 1.08);
  EXPECT_NEAR(r.decode_chip_prefill, 0.69, 0.15 * 0.69);
  EXPECT_NEAR(r.decode_chip_decode, 0.97, 0.15 * 0.97);
  EXPECT_NEAR(r.prefill_chip_decode, 0.80, 0.15 * 0.80);
}

TEST(OperatorModelTest, SpadTable3RatiosLlmCompassAccounting) {
  const SpadRatios r =
      ComputeSpadRatios(OperatorModelOptions::LlmCompassLike());
  PrintRatios("llmcompass-like", r);
  EXPECT_NEAR(r.prefill_chip_prefill, 1.08, 0.15 * 1.08);
  EXPECT_NEAR(r.decode_chip_prefill, 0.69, 0.15 * 0.69);
  EXPECT_NEAR(r.decode_chip_decode, 0.97, 0.15 * 0.97);
  EXPECT_GT(r.prefill_chip_decode, 0.61);
  EXPECT_LT(r.prefill_chip_decode, 0.80);
}

// SPAD §5: the Prefill chip is slower than H100 for batches of <= 256
// tokens (memory-bound GEMMs on 61% of the bandwidth) and, in LLMCompass's
// unfused accounting, for very long prompts (softmax on half the vector
// throughput); the Decode chip is slower at decode batch 256.
TEST(OperatorModelTest, SpadCrossovers) {
  const v1::Model bloom = Bloom176b();
  for (const OperatorModelOptions& o :
       {OperatorModelOptions{}, OperatorModelOptions::LlmCompassLike()}) {
    auto h100 = Make(bloom, H100(), 8, 1, o);
    auto pre = Make(bloom, SpadPrefill(), 8, 1, o);
    auto dec = Make(bloom, SpadDecode(), 8, 1, o);
    EXPECT_LT(h100->IterationSeconds(Prefill(256)),
              pre->IterationSeconds(Prefill(256)));
    EXPECT_LT(h100->IterationSeconds(Decode(256, 1500)),
              dec->IterationSeconds(Decode(256, 1500)));
  }
  const OperatorModelOptions lc = OperatorModelOptions::LlmCompassLike();
  auto h100 = Make(bloom, H100(), 8, 1, lc);
  auto pre = Make(bloom, SpadPrefill(), 8, 1, lc);
  for (int tokens : {256, 1500, 12288}) {
    std::printf(
        "[spad] llmcompass-like prefill %5d tokens: prefill chip %.3f\n",
        tokens,
        h100->IterationSeconds(Prefill(tokens)) /
            pre->IterationSeconds(Prefill(tokens)));
  }
  EXPECT_LT(h100->IterationSeconds(Prefill(12288)),
            pre->IterationSeconds(Prefill(12288)));
}

// Every entry of the iteration table, for every catalog model and
// accounting, prices through the shape-only pricer (what the calibration
// fit runs) to the table's own seconds: a family wired into the table but
// not into hardware/ops/op_query.cc fails here. The family tests
// (tests/hardware/ops/*_op_test.cc) cover the fit's row path per family.
TEST(OperatorModelTest, EveryEntryPricesAlikeThroughThePricer) {
  const v1::Chip chip = family_test::H100();
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(FLEETSIM_SOURCE_DIR) + "/data/models")) {
    const v1::Model model = family_test::CatalogEntry<v1::Model>(
        std::filesystem::relative(entry.path(), FLEETSIM_SOURCE_DIR).string());
    ++models;
    for (const auto& [accounting, options] : family_test::FamilyOptions()) {
      auto pricer = OperatorPricer::Create(chip, options);
      ASSERT_TRUE(pricer.ok()) << pricer.status();
      for (const BatchShape& batch : family_test::FamilyBatches()) {
        EXPECT_GT(family_test::ExpectPricerAgrees(
                      family_test::SimulatorQueries(model, chip, 4, 2, options,
                                                    batch),
                      *pricer, [](const OperatorQuery&) { return true; },
                      model.name() + " " + accounting),
                  10);
      }
    }
  }
  EXPECT_GE(models, 10);
}

// The run totals (LatencyModel::AddOperatorTotals) add up what Explain
// reports operator by operator, and their seconds sum to the iteration's.
TEST(OperatorModelTest, OperatorTotalsAddUpExplain) {
  auto m = Make(Bloom176b(), H100(), 8);
  const std::vector<OperatorLabel> labels = m->OperatorLabels();
  ASSERT_FALSE(labels.empty());
  EXPECT_EQ(labels[0].name, "framework_overhead");
  BatchShape mixed = Decode(16, 900);
  mixed.AddPrefillChunk(512, 128);
  for (const BatchShape& batch : {Prefill(1500), Decode(32, 2000), mixed}) {
    std::vector<double> seconds(labels.size()), flops(labels.size());
    const double iteration_s =
        m->AddOperatorTotals(batch, seconds.data(), flops.data());
    EXPECT_DOUBLE_EQ(iteration_s, m->IterationSeconds(batch));
    double sum_s = 0;
    for (double s : seconds) sum_s += s;
    EXPECT_NEAR(sum_s, iteration_s, 1e-12 * iteration_s);
    const IterationBreakdown explained = m->Explain(batch);
    for (const OperatorTime& op : explained.ops) {
      double s = 0, f = 0;
      for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i].name != op.name) continue;
        EXPECT_EQ(labels[i].op_class, op.op_class) << op.name;
        s += seconds[i];
        f += flops[i];
      }
      EXPECT_DOUBLE_EQ(s, op.seconds) << op.name;
      EXPECT_DOUBLE_EQ(f, op.flops) << op.name;
    }
  }
}

}  // namespace
}  // namespace fleetsim::hardware
