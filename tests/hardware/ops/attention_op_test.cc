// Tests for hardware/ops/attention_op.h: the simulator and the calibration
// fit price every attention kernel (fused and unfused prefill, decode; MHA,
// GQA, MLA, CCA) alike, and the family's MLA and CCA accounting.
#include "hardware/ops/attention_op.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/hardware/ops/op_family_fixture.h"

namespace fleetsim::hardware {
namespace {

using family_test::CheckEveryModel;
using family_test::ExpectPricerAgrees;
using family_test::ExpectRowAgrees;
using family_test::FamilyModel;
using family_test::FamilyModels;
using family_test::ForEachSeenOp;
using family_test::SeenOp;
using family_test::SimulatorQueries;

bool IsAttention(const OperatorQuery& q) {
  return q.op_class == v1::OPERATOR_CLASS_ATTENTION_PREFILL ||
         q.op_class == v1::OPERATOR_CLASS_ATTENTION_DECODE ||
         q.name == kAttnSoftmaxName || q.name == kCcaConvName;
}

TEST(AttentionOpTest, SimulatorAndFitPriceEveryAttentionKernelAlike) {
  const std::map<std::string, int> checked = CheckEveryModel(IsAttention);
  for (const FamilyModel& fm : FamilyModels()) {
    if (fm.label == "ssm") {
      EXPECT_EQ(checked.at(fm.label), 0);  // attention-free
    } else {
      EXPECT_GT(checked.at(fm.label), 0) << fm.label;
    }
  }
}

// FlashAttention-3's tile loop, worked by hand: one request of 256 new
// tokens, 8 query heads on 8 KV heads, 128 x 128 tiles: 2 query tiles per
// KV head seeing 1 and 2 key tiles (the closed form charges ceil(y) as
// y + 1/2: 4 steps), 16 units.
TEST(AttentionOpTest, FlashTileSecondsByHand) {
  double x[kNumFeatures] = {};
  x[kPrefillRequests] = 1;
  x[kPrefillTokens] = 256;
  x[kPrefillContext] = 256;
  // One request: the longest loop (2.5 steps + one unit) bounds it.
  EXPECT_DOUBLE_EQ(FlashTileSeconds(x, 8, 8, 128, 128, 1.0, 0.5, 132),
                   2.5 + 0.5);
  // A thousand: the steps and units spread over 132 SMs.
  x[kPrefillRequests] = 1000;
  x[kPrefillTokens] = 256000;
  x[kPrefillContext] = 256000;
  EXPECT_DOUBLE_EQ(FlashTileSeconds(x, 8, 8, 128, 128, 1.0, 0.5, 132),
                   (1000 * 8 * 4 * 1.0 + 16000 * 0.5) / 132);
  // GQA packs 8 query heads into a tile's rows: 16 positions per tile, the
  // same 256 tokens in 16 tiles per KV head.
  x[kPrefillRequests] = 1;
  x[kPrefillTokens] = 256;
  x[kPrefillContext] = 256;
  const double steps = (16 * 15 / 2.0 * 16 + 256) / 128 + 0.5 * 16;
  EXPECT_DOUBLE_EQ(FlashTileSeconds(x, 64, 8, 128, 128, 1.0, 0, 1), 8 * steps);
}

// No catalog model uses CCA: Llama-3-8B's shape with CCA's convolutions
// (Zyphra's default kernels, 2 and 2).
TEST(AttentionOpTest, CcaPricesAlike) {
  v1::Model model =
      family_test::CatalogEntry<v1::Model>("data/models/llama-3-8b.txtpb");
  model.set_attention(v1::ATTENTION_KIND_CCA);
  model.mutable_cca()->set_conv_kernel_q(2);
  model.mutable_cca()->set_conv_kernel_k(2);
  const v1::Chip chip = family_test::H100();
  for (int tp : {1, 4}) {
    auto pricer = OperatorPricer::Create(chip);
    ASSERT_TRUE(pricer.ok()) << pricer.status();
    const std::vector<SeenOp> seen = SimulatorQueries(
        model, chip, tp, 1, {}, family_test::FamilyBatches()[0]);
    EXPECT_EQ(ExpectPricerAgrees(
                  seen, *pricer,
                  [](const OperatorQuery& q) { return q.name == kCcaConvName; },
                  "cca"),
              1);
    EXPECT_GT(ExpectPricerAgrees(seen, *pricer, IsAttention, "cca"), 1);
  }
}

// The fit's row path: the attention rows a profiler records for the
// simulator's MHA/GQA invocations (one prefill chunk after a cached prefix;
// uniform decodes) and MLA's absorbed decode (aiconfigurator's MLA rows,
// priced with the shipped H100's mla_decode entry). MLA prefill and CCA
// have no row schema here.
TEST(AttentionOpTest, MeasuredRowsPriceAsTheSimulatorsInvocation) {
  BatchShape prefill;
  prefill.AddPrefillChunk(700, 300);
  BatchShape decode;
  for (int i = 0; i < 3; ++i) decode.AddDecode(1000);
  int checked = 0;
  ForEachSeenOp(1, {prefill, decode},
                [&checked](const FamilyModel& fm, const SeenOp& s) {
                  const OperatorQuery q = s.Query();
                  const bool mla = fm.label == "mla";
                  if (!IsAttention(q) || (mla && s.name != kMlaDecodeName)) {
                    return;
                  }
                  v1::CalibrationRow row;
                  row.set_op(s.name);
                  row.set_op_class(q.op_class);
                  row.set_tp(fm.tp);
                  row.set_dtype(v1::DTYPE_BF16);
                  row.set_heads(q.heads);
                  row.set_kv_heads(q.kv_heads);
                  row.set_head_dim(q.head_dim);
                  row.set_batch(q.requests);
                  if (mla) {
                    // DeepSeek-V3's dimensions, as the importer writes them.
                    row.set_kv_heads(1);
                    row.set_head_dim(128);
                    row.set_latent_dim(512);
                    row.set_rope_dim(64);
                    row.set_v_head_dim(128);
                    row.set_absorbed(true);
                  }
                  if (q.op_class == v1::OPERATOR_CLASS_ATTENTION_PREFILL) {
                    row.set_new_tokens(700);
                    row.set_context_tokens(300);
                  } else {
                    row.set_context_tokens(1000);
                  }
                  ExpectRowAgrees(row, q, fm.label + " " + s.name);
                  ++checked;
                });
  EXPECT_EQ(checked, 9);  // 4 models x (prefill, decode), MLA decode
}

// DeepSeek-V3 decode at TP8 (16 heads per chip) reads the 576-wide latent
// per context token, not K/V heads, and multiplies q against latent + r_kv.
TEST(AttentionOpTest, MlaDecodeReadsTheLatent) {
  OperatorQuery s;
  s.heads = 16;
  s.kv_heads = 1;
  s.head_dim = 576;
  s.v_head_dim = 512;
  s.latent_dim = 576;
  s.kv_bytes = 2;
  const OperatorModelOptions o;
  const OpCost mla = AttentionDecodeCost(s, o);
  EXPECT_EQ(mla.bytes[kDecodeContext], 2.0 * 576);
  EXPECT_EQ(mla.flops[kDecodeContext], 2.0 * 16 * (576 + 512));
  s.latent_dim = 0;  // the same heads as MQA over K and V
  const OpCost mqa = AttentionDecodeCost(s, o);
  EXPECT_EQ(mqa.bytes[kDecodeContext], 2.0 * 2 * 576);
}

}  // namespace
}  // namespace fleetsim::hardware
