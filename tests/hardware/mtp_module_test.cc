// Tests for hardware/mtp_module.h: a multi-token-prediction module's shape,
// its own weights by hand (DeepSeek-V3's layer 61), and the input norms and
// projection OperatorModelOptions::mtp_module adds to its iteration.
#include "hardware/mtp_module.h"

#include <memory>

#include "gtest/gtest.h"
#include "hardware/model_footprint.h"
#include "hardware/operator_model.h"
#include "tests/hardware/cost_model_fixtures.h"
#include "tests/hardware/operator_model_test_util.h"

namespace fleetsim::hardware {
namespace {

using fleetsim::testutil::DeepSeekV3;
using fleetsim::testutil::H100;
using fleetsim::testutil::Llama2_7b;

v1::Model DeepSeekV3WithMtp() {
  v1::Model model = DeepSeekV3();
  model.mutable_mtp()->set_num_modules(1);
  return model;
}

TEST(MtpModuleTest, TheModuleIsOneLayerShapedLikeTheLast) {
  const v1::Model module = MtpModuleModel(DeepSeekV3WithMtp());
  EXPECT_EQ(module.name(), "deepseek-v3-mtp");
  EXPECT_EQ(module.num_layers(), 1);
  EXPECT_FALSE(module.has_mtp());
  EXPECT_EQ(NumMoeLayers(module), 1);  // layer 61 is MoE, not dense
  EXPECT_EQ(NumDenseMlpLayers(module), 0);
  // One MLA layer's latent and rope key: (512 + 64) x 2 B.
  EXPECT_EQ(KvBytesPerToken(module), 1152);
  // A dense model's module is a dense layer.
  const v1::Model dense = MtpModuleModel(Llama2_7b());
  EXPECT_EQ(dense.num_layers(), 1);
  EXPECT_EQ(NumDenseMlpLayers(dense), 1);
}

TEST(MtpModuleTest, DeepSeekV3ModuleWeightsByHand) {
  // MLA: q_a 7168 x 1536, q_b 1536 x 128 x 192, kv_a 7168 x 576, kv_b
  // 512 x 128 x 256, o 128 x 128 x 7168.
  const double attention =
      11010048.0 + 37748736 + 4128768 + 16777216 + 117440512;  // 187,105,280
  // Router 7168 x 256, 256 routed and one shared SwiGLU expert of 2048.
  const double moe = 1835008.0 + 256 * 3.0 * 7168 * 2048 + 3.0 * 7168 * 2048;
  // The block's two norms, shared_head.norm, enorm and hnorm.
  const double norms = 5.0 * 7168;
  const double projection = 2.0 * 7168 * 7168;  // eh_proj
  const v1::Model model = DeepSeekV3WithMtp();
  EXPECT_DOUBLE_EQ(MtpProjectionParameters(model), projection);
  EXPECT_DOUBLE_EQ(MtpModuleParameters(model),
                   attention + moe + norms + projection);
  EXPECT_DOUBLE_EQ(MtpModuleParameters(model), 11610065920.0);
  // README_WEIGHTS.md: "11.5B unique parameters" besides the shared
  // embedding and head; ours is 1 % above.
  EXPECT_NEAR(MtpModuleParameters(model) / 11.5e9, 1.0, 0.011);
  // BF16: 2 B each. FP8 weights: 1 B each but the BF16 projection.
  EXPECT_DOUBLE_EQ(MtpModuleWeightBytes(model), 2 * 11610065920.0);
  v1::Model fp8 = model;
  fp8.set_dtype(v1::DTYPE_FP8);
  EXPECT_DOUBLE_EQ(MtpModuleWeightBytes(fp8),
                   (11610065920.0 - projection) + 2 * projection);
}

TEST(MtpModuleTest, TheOptionAddsTheInputNormsAndProjection) {
  const v1::Model module = MtpModuleModel(DeepSeekV3WithMtp());
  OperatorModelOptions as_module;
  as_module.mtp_module = true;
  auto plain = Make(module, H100(), 8);
  auto mtp = Make(module, H100(), 8, 1, as_module);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(mtp, nullptr);
  const BatchShape batch = Decode(4, 1000);
  const IterationBreakdown with = mtp->Explain(batch);
  const IterationBreakdown without = plain->Explain(batch);
  EXPECT_EQ(FindOp(without, "mtp_proj"), nullptr);
  EXPECT_EQ(FindOp(without, "mtp_norm"), nullptr);
  const OperatorTime* proj = FindOp(with, "mtp_proj");
  const OperatorTime* norm = FindOp(with, "mtp_norm");
  ASSERT_NE(proj, nullptr);
  ASSERT_NE(norm, nullptr);
  // [4 tokens, 14336] x [14336, 7168], replicated (not split by tp = 8),
  // its BF16 weights read once.
  EXPECT_DOUBLE_EQ(proj->flops, 2.0 * 14336 * 7168 * 4);
  EXPECT_GE(proj->bytes, 2.0 * 14336 * 7168);
  EXPECT_LT(proj->bytes, 2.0 * 14336 * 7168 * 1.01);
  EXPECT_NEAR(with.seconds - without.seconds, proj->seconds + norm->seconds,
              1e-12);
}

}  // namespace
}  // namespace fleetsim::hardware
