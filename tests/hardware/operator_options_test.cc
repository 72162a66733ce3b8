// Tests for hardware/operator_options.h's named operators outside the
// ELEMENTWISE class: MLA's absorbed decode has its own entry inside the
// ATTENTION_DECODE class entry, resolved per framework like every entry,
// and priced by both the pricer (calibration rows) and the operator model.
#include "hardware/operator_options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "hardware/operator_pricer.h"
#include "hardware/ops/attention_op.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using ::fleetsim::testutil::DeepSeekV3;
using ::fleetsim::testutil::H100;
using ::testing::HasSubstr;

// H100 with a decode class entry (compute 0.3) holding an mla_decode entry
// (compute 0.7); the vLLM kernel set sets the class's bandwidth and its own
// mla_decode compute 0.6.
v1::Chip ChipWithMlaEntries() {
  v1::Chip chip = H100();
  v1::OperatorEfficiency* cls = chip.add_efficiency();
  cls->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  cls->set_compute(0.3);
  cls->set_memory(0.8);
  v1::OperatorEfficiency* mla = cls->add_operators();
  mla->set_op_name("mla_decode");
  mla->set_compute(0.7);
  v1::OperatorEfficiency* vllm = chip.add_efficiency();
  vllm->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  vllm->set_framework("vllm");
  vllm->set_memory(0.9);
  v1::OperatorEfficiency* vllm_mla = vllm->add_operators();
  vllm_mla->set_op_name("mla_decode");
  vllm_mla->set_compute(0.6);
  return chip;
}

TEST(OperatorOptionsTest, MlaDecodeHasItsOwnEntryInTheDecodeClass) {
  EXPECT_EQ(
      NamedOperatorIndexIn(v1::OPERATOR_CLASS_ATTENTION_DECODE, "mla_decode"),
      static_cast<int>(NamedOperator::kMlaDecode));
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_ELEMENTWISE, "mla_decode"),
            -1);
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_ATTENTION_DECODE, "rope"),
            -1);
  EXPECT_STREQ(NamedOperatorName(NamedOperatorIndex("mla_decode")),
               "mla_decode");

  const v1::Chip chip = ChipWithMlaEntries();
  OperatorModelOptions o;
  o.framework = "";  // framework-free entries only
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE).compute,
      0.3);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE,
                        kAttnDecodeName)
          .compute,
      0.3);
  const ClassEfficiency mla = ResolveEfficiency(
      o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE, kMlaDecodeName);
  EXPECT_DOUBLE_EQ(mla.compute, 0.7);
  EXPECT_DOUBLE_EQ(mla.memory, 0.8);  // from the class entry
  // The framework's class entry, then its mla_decode entry.
  o.framework = "vllm";
  const ClassEfficiency vllm = ResolveEfficiency(
      o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE, kMlaDecodeName);
  EXPECT_DOUBLE_EQ(vllm.compute, 0.6);
  EXPECT_DOUBLE_EQ(vllm.memory, 0.9);
  // A framework-free operator entry beats the framework's class entry.
  v1::Chip fixed_memory = chip;
  fixed_memory.mutable_efficiency(0)->mutable_operators(0)->set_memory(0.5);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, fixed_memory, v1::OPERATOR_CLASS_ATTENTION_DECODE,
                        kMlaDecodeName)
          .memory,
      0.5);
  o.framework = "sglang";  // no entries of its own: the framework-free ones
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE,
                        kMlaDecodeName)
          .compute,
      0.7);
}

// A chip's alternative kernels (OperatorEfficiency.kernel) apply only when
// selected, after the kernel-free entries of their level: the Ascend 910C's
// default MLA decode is AMLA's, its "flashmla" entry a FlashMLA-class one.
TEST(OperatorOptionsTest, AnAlternativeKernelAppliesOnlyWhenSelected) {
  v1::Chip chip = ChipWithMlaEntries();
  v1::OperatorEfficiency* alt = chip.mutable_efficiency(0)->add_operators();
  alt->set_op_name("mla_decode");
  alt->set_kernel("flashmla");
  alt->set_compute(0.5);
  v1::OperatorEfficiency* fa2 = chip.add_efficiency();
  fa2->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  fa2->set_kernel("fa2");
  fa2->set_memory(0.4);
  EXPECT_THAT(ChipKernels(chip), ::testing::ElementsAre("fa2", "flashmla"));
  OperatorModelOptions o;  // vLLM: its mla_decode entry says 0.6
  auto mla = [&] {
    return ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE,
                             kMlaDecodeName);
  };
  EXPECT_DOUBLE_EQ(mla().compute, 0.6);
  EXPECT_DOUBLE_EQ(mla().memory, 0.9);
  o.kernels = {"flashmla"};
  // After the framework's operator entry: the chosen kernel's.
  EXPECT_DOUBLE_EQ(mla().compute, 0.5);
  EXPECT_DOUBLE_EQ(mla().memory, 0.9);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE).memory,
      0.9);
  // A class-level kernel entry after the class's kernel-free entries, before
  // the operator entries.
  o.kernels = {"fa2"};
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_ATTENTION_DECODE).memory,
      0.4);
  EXPECT_DOUBLE_EQ(mla().compute, 0.6);
  EXPECT_DOUBLE_EQ(mla().memory, 0.4);

  EXPECT_EQ(UnknownKernel(chip, {"flashmla", "fa2"}), "");
  EXPECT_EQ(UnknownKernel(chip, {"amla"}),
            "chip 'h100' has no kernel 'amla' (its alternative kernels: fa2, "
            "flashmla)");
  EXPECT_THAT(UnknownKernel(H100(), {"flashmla"}),
              HasSubstr("(its alternative kernels: none)"));
}

// The routed experts ("moe" rows, the model's "moe_experts") take the MOE
// class's "moe" entry, with its permutation traffic per (token, expert)
// pair: hidden elements x (local bytes + layer bytes x the layer's pairs
// per pair here); the shared experts (plain GEMMs) keep the class entry.
TEST(OperatorOptionsTest, MoeExpertsHaveTheirOwnEntryInTheMoeClass) {
  const int moe = static_cast<int>(NamedOperator::kMoe);
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_MOE, "moe"), moe);
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_MOE, "moe_experts"), moe);
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_MOE, "shared_expert_up"),
            -1);
  EXPECT_EQ(NamedOperatorIndexIn(v1::OPERATOR_CLASS_GEMM, "moe"), -1);
  EXPECT_STREQ(NamedOperatorName(moe), "moe");

  v1::Chip chip = H100();
  v1::OperatorEfficiency* cls = chip.add_efficiency();
  cls->set_op(v1::OPERATOR_CLASS_MOE);
  cls->set_memory(0.5);
  v1::OperatorEfficiency* sub = cls->add_operators();
  sub->set_op_name("moe");
  sub->set_memory(0.8);
  sub->set_local_pair_bytes(10);
  sub->set_layer_pair_bytes(2);
  const OperatorModelOptions o;
  const ClassEfficiency experts =
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_MOE, "moe_experts");
  EXPECT_DOUBLE_EQ(experts.memory, 0.8);
  EXPECT_DOUBLE_EQ(experts.local_pair_bytes, 10);
  EXPECT_DOUBLE_EQ(experts.layer_pair_bytes, 2);
  const ClassEfficiency shared =
      ResolveEfficiency(o, chip, v1::OPERATOR_CLASS_MOE, "shared_expert_up");
  EXPECT_DOUBLE_EQ(shared.memory, 0.5);
  EXPECT_DOUBLE_EQ(shared.local_pair_bytes, 0);

  OperatorQuery q;
  q.name = "moe";
  q.op_class = v1::OPERATOR_CLASS_MOE;
  q.m = 1024;  // pairs on this chip, one expert each
  q.k = 4096;
  q.n = 1792;
  q.experts = 8;
  q.top_k = 1;
  q.moe_spread = true;
  q.moe_layer_pairs = 4;
  absl::StatusOr<OperatorPricer> plain = OperatorPricer::Create(H100());
  absl::StatusOr<OperatorPricer> fitted = OperatorPricer::Create(chip);
  ASSERT_TRUE(plain.ok() && fitted.ok());
  OperatorQuery a;
  OperatorQuery b;
  plain->Seconds(q, &a);
  fitted->Seconds(q, &b);
  // The plain chip has the default `moe` entry's pair bytes (vLLM's fit).
  const ClassEfficiency dflt =
      OperatorModelOptions::DefaultOperatorEfficiencies()[moe];
  const double dflt_per_pair =
      4096 * (dflt.local_pair_bytes + dflt.layer_pair_bytes * 4);
  EXPECT_NEAR(b.bytes - a.bytes, 1024.0 * (4096 * (10 + 2 * 4) - dflt_per_pair),
              1e-3);
  // Spread routing: 1024 pairs touch all 8 experts, whose weights stream.
  EXPECT_NEAR(a.bytes,
              8 * 2.0 * 3 * 4096 * 1792 + 1024 * 2.0 * (2 * 4096 + 3 * 1792) +
                  1024 * dflt_per_pair,
              1e-9 * a.bytes);
  q.m = 3;  // 3 pairs spread over 3 of the 8 experts
  plain->Seconds(q, &a);
  EXPECT_NEAR(a.bytes,
              3 * 2.0 * 3 * 4096 * 1792 + 3 * 2.0 * (2 * 4096 + 3 * 1792) +
                  3 * dflt_per_pair,
              1e-9 * a.bytes);
}

// FP4 GEMMs carry FP8's efficiency (ASSUMPTION: none measured here): the
// FP8 default and the chip's FP8 entries apply, then its FP4 entries.
TEST(OperatorOptionsTest, Fp4GemmsTakeFp8EntriesThenTheirOwn) {
  const OperatorModelOptions o;
  v1::Chip chip = H100();
  chip.clear_efficiency();
  chip.set_fp4_tflops(2 * chip.fp8_tflops());
  const auto gemm = v1::OPERATOR_CLASS_GEMM;
  EXPECT_EQ(ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP4).compute,
            ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP8).compute);
  EXPECT_NE(ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP4).compute,
            ResolveEfficiency(o, chip, gemm, v1::DTYPE_BF16).compute);
  v1::OperatorEfficiency* fp8 = chip.add_efficiency();
  fp8->set_op(gemm);
  fp8->set_dtype(v1::DTYPE_FP8);
  fp8->set_compute(0.5);
  fp8->set_memory(0.6);
  EXPECT_EQ(ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP4).compute, 0.5);
  v1::OperatorEfficiency* fp4 = chip.add_efficiency();
  fp4->set_op(gemm);
  fp4->set_dtype(v1::DTYPE_FP4);
  fp4->set_compute(0.4);
  const ClassEfficiency e = ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP4);
  EXPECT_EQ(e.compute, 0.4);
  EXPECT_EQ(e.memory, 0.6);  // FP8's, which FP4's entry leaves
  EXPECT_EQ(ResolveEfficiency(o, chip, gemm, v1::DTYPE_FP8).compute, 0.5);
}

TEST(OperatorOptionsTest, OperatorEntriesOnlyInTheirOwnClass) {
  v1::Chip chip = H100();
  v1::OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ELEMENTWISE);
  e->add_operators()->set_op_name("mla_decode");
  absl::Status status = OperatorPricer::Create(chip).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'mla_decode'"));
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  e->add_operators()->set_op_name("rope");
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  v1::OperatorEfficiency* sub = e->add_operators();
  sub->set_op_name("mla_decode");
  sub->set_compute(1.5);
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A compute-bound MLA decode (128 heads on the chip, 4k context) prices at
// the mla_decode entry's tensor efficiency in the pricer and in the model;
// GQA decode keeps the class's.
TEST(OperatorOptionsTest, MlaDecodeIsPricedWithItsEntry) {
  OperatorModelOptions o;
  o.framework = "";
  const v1::Chip with_mla = ChipWithMlaEntries();
  OperatorQuery q;
  q.name = kMlaDecodeName;
  q.op_class = v1::OPERATOR_CLASS_ATTENTION_DECODE;
  q.requests = 64;
  q.new_tokens = 64;
  q.context_tokens = 64 * 4096;
  q.heads = 128;
  q.kv_heads = 1;
  q.head_dim = 576;
  q.v_head_dim = 512;
  q.latent_dim = 576;
  OperatorQuery filled;
  const double fast = OperatorPricer::Create(with_mla, o)->Seconds(q, &filled);
  // 128 x 1088 x 2 FLOPs per cached token read, at 0.7 of the tensor peak
  // (near the ridge: the latent stream adds to it).
  EXPECT_DOUBLE_EQ(filled.flops, 2.0 * 128 * 1088 * 64 * 4096);
  EXPECT_GT(fast, filled.flops / (H100().bf16_tflops() * 1e12 * 0.7));
  // The same query named attn_decode takes the class's 0.3.
  OperatorQuery gqa_named = q;
  gqa_named.name = kAttnDecodeName;
  EXPECT_GT(OperatorPricer::Create(with_mla, o)->Seconds(gqa_named),
            1.4 * fast);

  // The model's DeepSeek-V3 decode at TP1 (128 heads per chip): only the
  // mla_decode operator moves with its entry's eta_c (0.3 -> 0.7).
  v1::Chip slow_mla = with_mla;
  slow_mla.mutable_efficiency(0)->mutable_operators(0)->set_compute(0.3);
  auto model_on = [&o](const v1::Chip& chip) {
    return OperatorModel::Create(DeepSeekV3(), chip, 1, 1, o);
  };
  auto before = model_on(slow_mla);
  auto after = model_on(with_mla);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  BatchShape decode;
  for (int i = 0; i < 64; ++i) decode.AddDecode(4096);
  const IterationBreakdown b = (*before)->Explain(decode);
  const IterationBreakdown a = (*after)->Explain(decode);
  int mla_ops = 0;
  for (size_t i = 0; i < b.ops.size(); ++i) {
    ASSERT_EQ(a.ops[i].name, b.ops[i].name);
    if (a.ops[i].name == kMlaDecodeName) {
      ++mla_ops;
      EXPECT_LT(a.ops[i].seconds, 0.8 * b.ops[i].seconds);
    } else if (a.ops[i].op_class != v1::OPERATOR_CLASS_ATTENTION_DECODE) {
      EXPECT_DOUBLE_EQ(a.ops[i].seconds, b.ops[i].seconds) << a.ops[i].name;
    }
  }
  EXPECT_EQ(mla_ops, 1);
}

}  // namespace
}  // namespace fleetsim::hardware
