// Tests for hardware/deformable_detr_model.h: Deformable DETR's geometry
// and counts by hand (arXiv:2010.04159: d_model 256, 8 heads, 4 levels, 4
// points, 300 queries, 6 + 6 layers, 800 x 1333 images), and what its
// operators are bound by on an H100.
#include "hardware/deformable_detr_model.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

v1::Model DeformableDetr(const std::string& extra = "") {
  return testutil::ParsedOrFail<v1::Model>(
      R"pb(
        name: "deformable-detr"
        num_layers: 12
        hidden_size: 256
        num_heads: 8
        num_kv_heads: 8
        head_dim: 32
        ffn_dim: 1024
        vocab_size: 91
        attention: ATTENTION_KIND_MHA
        mlp: MLP_KIND_GELU
        norm: NORM_KIND_LAYERNORM
        dtype: DTYPE_BF16
        deformable_detr { encoder_layers: 6 num_levels: 4 num_points: 4
                          num_queries: 300
                          image_height_px: 800
                          image_width_px: 1333
                          backbone_channels: [ 512, 1024, 2048 ]
                          backbone: "resnet50"
      )pb" +
      extra + "}");
}

BatchShape Images(const DetrGeometry& g, int images) {
  BatchShape b;
  for (int i = 0; i < images; ++i) b.AddPrefillChunk(g.encoder_tokens, 0);
  return b;
}

std::map<std::string, OperatorTime> ByName(const IterationBreakdown& b) {
  std::map<std::string, OperatorTime> ops;
  for (const OperatorTime& op : b.ops) ops[op.name] = op;
  return ops;
}

// 800 -> 400 -> 200 -> 100 (stride 8) -> 50 -> 25 -> 13; 1333 -> 667 ->
// 334 -> 167 -> 84 -> 42 -> 21.
TEST(DeformableDetrModelTest, FeatureMapsOfAnImageByHand) {
  auto g = DetrGeometryOf(DeformableDetr());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->level_height, (std::vector<int64_t>{100, 50, 25, 13}));
  EXPECT_EQ(g->level_width, (std::vector<int64_t>{167, 84, 42, 21}));
  EXPECT_EQ(g->encoder_tokens, 16700 + 4200 + 1050 + 273);
  ASSERT_EQ(g->input_proj.size(), 4u);
  EXPECT_EQ(g->input_proj[3].k, 9 * 2048);  // 3x3 stride-2 conv on C5
  EXPECT_EQ(g->input_proj[3].rows, 273);
}

// ResNet-50 (v1.5) at 224 x 224: 4.09 G multiply-adds without the final
// fully connected layer (torchvision's published 4.09 GFLOPS counts
// multiply-adds, with the fc's 2 M).
TEST(DeformableDetrModelTest, ResNet50MultiplyAddsAt224) {
  const double macs = ConvMacs(ResNet50Convs(224, 224));
  EXPECT_NEAR(macs, 4.09e9, 0.02e9);
  EXPECT_EQ(ResNet50Convs(224, 224).size(), 53u);  // 1 + 16 x 3 + 4
}

// The transformer's GEMM FLOPs of one image, from the paper's shapes:
// per encoder token value and output projections (2 x 256 x 256), offsets
// and weights (256 x 384) and the FFN (2 x 256 x 1024) in 6 layers.
TEST(DeformableDetrModelTest, EncoderGemmFlopsByHand) {
  auto m =
      DeformableDetrModel::Create(DeformableDetr(), testutil::H100(), 1, 1);
  ASSERT_TRUE(m.ok()) << m.status();
  const auto ops = ByName((*m)->Explain(Images((*m)->geometry(), 1)));
  const double tokens = 22223;
  EXPECT_DOUBLE_EQ(ops.at("enc_value_proj").flops, 6 * 2 * tokens * 256 * 256);
  EXPECT_DOUBLE_EQ(ops.at("enc_offsets_weights").flops,
                   6 * 2 * tokens * 256 * 384);
  // The decoder's value projection runs over the encoder's tokens too.
  EXPECT_DOUBLE_EQ(ops.at("dec_value_proj").flops, 6 * 2 * tokens * 256 * 256);
  // Its sampler runs on 300 queries an image.
  EXPECT_DOUBLE_EQ(ops.at("dec_msda_sample").vector_flops, 6 * 300 * 40960.0);
  EXPECT_DOUBLE_EQ(ops.at("enc_msda_sample").vector_flops,
                   6 * tokens * 40960.0);
}

// On a GPU the sampler is memory-bound at a few FLOPs a byte, far below
// the GEMMs around it; a cache-local schedule (a higher hit fraction)
// shrinks its traffic and time.
TEST(DeformableDetrModelTest, SamplerIsMemoryBoundAndCacheLocalityHelps) {
  auto raster =
      DeformableDetrModel::Create(DeformableDetr(), testutil::H100(), 1, 1);
  auto local = DeformableDetrModel::Create(
      DeformableDetr("cache_hit_fraction: 0.9"), testutil::H100(), 1, 1);
  ASSERT_TRUE(raster.ok()) << raster.status();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ((*raster)->cache_hit_fraction(), 0.5);
  const BatchShape batch = Images((*raster)->geometry(), 8);
  const auto r = ByName((*raster)->Explain(batch));
  const auto l = ByName((*local)->Explain(batch));
  const OperatorTime& sample = r.at("enc_msda_sample");
  EXPECT_EQ(sample.bound, Bound::kMemory);
  EXPECT_LT(sample.vector_flops / sample.bytes, 5);
  // d_model 256 keeps even the GEMMs below an H100's ridge (~230 FLOP/B
  // at its fitted efficiencies), at 40x the sampler's intensity.
  const OperatorTime& ffn = r.at("ffn_up");
  EXPECT_GT(ffn.flops / ffn.bytes, 40 * sample.vector_flops / sample.bytes);
  // Bytes 17,664 -> 4,557 a query: the time falls by more than 2.5x.
  EXPECT_GT(sample.seconds, 2.5 * l.at("enc_msda_sample").seconds);
  EXPECT_LT((*local)->IterationSeconds(batch),
            (*raster)->IterationSeconds(batch));
}

TEST(DeformableDetrModelTest, RefusesWhatIsNotModelled) {
  EXPECT_FALSE(
      DeformableDetrModel::Create(DeformableDetr(), testutil::H100(), 2, 1)
          .ok());
  EXPECT_FALSE(
      DeformableDetrModel::Create(DeformableDetr("cache_hit_fraction: 1"),
                                  testutil::H100(), 1, 1)
          .ok());
  EXPECT_FALSE(DetrGeometryOf(testutil::Llama2_7b()).ok());
  v1::Model five_levels = DeformableDetr();
  five_levels.mutable_deformable_detr()->set_num_levels(5);
  EXPECT_FALSE(DetrGeometryOf(five_levels).ok());
}

}  // namespace
}  // namespace fleetsim::hardware
