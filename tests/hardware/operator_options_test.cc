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
Chip ChipWithMlaEntries() {
  Chip chip = H100();
  OperatorEfficiency* cls = chip.add_efficiency();
  cls->set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  cls->set_compute(0.3);
  cls->set_memory(0.8);
  OperatorEfficiency* mla = cls->add_operators();
  mla->set_op_name("mla_decode");
  mla->set_compute(0.7);
  OperatorEfficiency* vllm = chip.add_efficiency();
  vllm->set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  vllm->set_framework("vllm");
  vllm->set_memory(0.9);
  OperatorEfficiency* vllm_mla = vllm->add_operators();
  vllm_mla->set_op_name("mla_decode");
  vllm_mla->set_compute(0.6);
  return chip;
}

TEST(OperatorOptionsTest, MlaDecodeHasItsOwnEntryInTheDecodeClass) {
  EXPECT_EQ(NamedOperatorIndexIn(OPERATOR_CLASS_ATTENTION_DECODE, "mla_decode"),
            static_cast<int>(NamedOperator::kMlaDecode));
  EXPECT_EQ(NamedOperatorIndexIn(OPERATOR_CLASS_ELEMENTWISE, "mla_decode"), -1);
  EXPECT_EQ(NamedOperatorIndexIn(OPERATOR_CLASS_ATTENTION_DECODE, "rope"), -1);
  EXPECT_STREQ(NamedOperatorName(NamedOperatorIndex("mla_decode")),
               "mla_decode");

  const Chip chip = ChipWithMlaEntries();
  OperatorModelOptions o;
  o.framework = "";  // framework-free entries only
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, chip, OPERATOR_CLASS_ATTENTION_DECODE).compute, 0.3);
  EXPECT_DOUBLE_EQ(ResolveEfficiency(o, chip, OPERATOR_CLASS_ATTENTION_DECODE,
                                     kAttnDecodeName)
                       .compute,
                   0.3);
  const ClassEfficiency mla = ResolveEfficiency(
      o, chip, OPERATOR_CLASS_ATTENTION_DECODE, kMlaDecodeName);
  EXPECT_DOUBLE_EQ(mla.compute, 0.7);
  EXPECT_DOUBLE_EQ(mla.memory, 0.8);  // from the class entry
  // The framework's class entry, then its mla_decode entry.
  o.framework = "vllm";
  const ClassEfficiency vllm = ResolveEfficiency(
      o, chip, OPERATOR_CLASS_ATTENTION_DECODE, kMlaDecodeName);
  EXPECT_DOUBLE_EQ(vllm.compute, 0.6);
  EXPECT_DOUBLE_EQ(vllm.memory, 0.9);
  // A framework-free operator entry beats the framework's class entry.
  Chip fixed_memory = chip;
  fixed_memory.mutable_efficiency(0)->mutable_operators(0)->set_memory(0.5);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(o, fixed_memory, OPERATOR_CLASS_ATTENTION_DECODE,
                        kMlaDecodeName)
          .memory,
      0.5);
  o.framework = "sglang";  // no entries of its own: the framework-free ones
  EXPECT_DOUBLE_EQ(ResolveEfficiency(o, chip, OPERATOR_CLASS_ATTENTION_DECODE,
                                     kMlaDecodeName)
                       .compute,
                   0.7);
}

TEST(OperatorOptionsTest, OperatorEntriesOnlyInTheirOwnClass) {
  Chip chip = H100();
  OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(OPERATOR_CLASS_ELEMENTWISE);
  e->add_operators()->set_op_name("mla_decode");
  absl::Status status = OperatorPricer::Create(chip).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'mla_decode'"));
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  e->add_operators()->set_op_name("rope");
  EXPECT_EQ(OperatorPricer::Create(chip).status().code(),
            absl::StatusCode::kInvalidArgument);
  chip = H100();
  e = chip.add_efficiency();
  e->set_op(OPERATOR_CLASS_ATTENTION_DECODE);
  OperatorEfficiency* sub = e->add_operators();
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
  const Chip with_mla = ChipWithMlaEntries();
  OperatorQuery q;
  q.name = kMlaDecodeName;
  q.op_class = OPERATOR_CLASS_ATTENTION_DECODE;
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
  Chip slow_mla = with_mla;
  slow_mla.mutable_efficiency(0)->mutable_operators(0)->set_compute(0.3);
  auto model_on = [&o](const Chip& chip) {
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
    } else if (a.ops[i].op_class != OPERATOR_CLASS_ATTENTION_DECODE) {
      EXPECT_DOUBLE_EQ(a.ops[i].seconds, b.ops[i].seconds) << a.ops[i].name;
    }
  }
  EXPECT_EQ(mla_ops, 1);
}

}  // namespace
}  // namespace fleetsim::hardware
