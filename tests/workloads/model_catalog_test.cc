// Tests for workloads/model_catalog.h: the shipped models load with the
// published shapes (and not the known-wrong ones some public configs carry,
// see AvoidsKnownConfigPitfalls), and each kind of bad file gives an error
// naming the file, line and field.
#include "workloads/model_catalog.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/catalog_test_util.h"

namespace fleetsim::workloads {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDataDir = FLEETSIM_SOURCE_DIR "/data";
const std::string kBadDir = FLEETSIM_SOURCE_DIR "/tests/testdata/catalog";

ModelCatalog ShippedModels() {
  return testutil::LoadedOrFail(LoadModelCatalog(kDataDir));
}

const v1::Model& Get(const ModelCatalog& catalog, const std::string& name) {
  return testutil::FindOrFail(catalog, name);
}

std::string LoadError(const std::string& folder) {
  return testutil::LoadErrorMessage(LoadModelCatalog(kBadDir + "/" + folder));
}

TEST(ModelCatalogTest, EveryFieldRangeNamesAField) {
  EXPECT_TRUE(CheckRangeNames(ModelFieldRanges()).ok())
      << CheckRangeNames(ModelFieldRanges());
}

TEST(ModelCatalogTest, AllShippedModelsLoad) {
  EXPECT_THAT(
      ShippedModels().names(),
      ElementsAre("bloom-176b", "codellama-34b", "deepseek-v3",
                  "deformable-detr", "llada-8b", "llama-2-70b", "llama-2-7b",
                  "llama-3-70b", "llama-3-8b", "llama-3.2-1b", "mamba2-2.7b",
                  "mixtral-8x7b", "qwen-72b", "qwen2.5-7b", "zaya1-ccgqa",
                  "zaya1-gqa-twin", "zaya1-mha-twin"));
}

TEST(ModelCatalogTest, ShippedFilesDeclareTheirSchema) {
  const ModelCatalog catalog = ShippedModels();
  for (const v1::Model* model : catalog.entries()) {
    std::ifstream in(kDataDir + "/models/" + model->name() + ".txtpb");
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    EXPECT_EQ(first, "# proto-file: fleetsim/v1/model.proto") << model->name();
    EXPECT_EQ(second, "# proto-message: fleetsim.v1.Model") << model->name();
    EXPECT_FALSE(model->source().empty()) << model->name();
  }
}

TEST(ModelCatalogTest, AvoidsKnownConfigPitfalls) {
  ModelCatalog catalog = ShippedModels();
  // Vidur pads Llama-2's vocab to 32768; HF is 32000.
  EXPECT_EQ(Get(catalog, "llama-2-7b").vocab_size(), 32000);
  EXPECT_EQ(Get(catalog, "llama-2-70b").vocab_size(), 32000);
  // splitwise-sim says 32 heads for Llama-2-70B; real is 64 q / 8 kv.
  EXPECT_EQ(Get(catalog, "llama-2-70b").num_heads(), 64);
  EXPECT_EQ(Get(catalog, "llama-2-70b").num_kv_heads(), 8);
  // GenZ gives DeepSeek-V3 2 KV heads and an 18432 shared expert.
  const v1::Model& v3 = Get(catalog, "deepseek-v3");
  EXPECT_EQ(v3.attention(), v1::ATTENTION_KIND_MLA);
  EXPECT_EQ(v3.mla().kv_lora_rank(), 512);
  EXPECT_EQ(v3.mla().qk_rope_head_dim(), 64);
  EXPECT_EQ(v3.moe().num_shared_experts(), 1);
  EXPECT_EQ(v3.moe().shared_expert_ffn_dim(), 2048);
  EXPECT_EQ(v3.moe().num_experts(), 256);
  EXPECT_EQ(v3.moe().top_k(), 8);
  // Qwen-72B's HF intermediate_size 49152 packs gate and up: SwiGLU width
  // 24576.
  EXPECT_EQ(Get(catalog, "qwen-72b").ffn_dim(), 24576);
  EXPECT_EQ(Get(catalog, "qwen-72b").num_kv_heads(), 64);
  // BLOOM: MHA, GELU, LayerNorm, FP16 as SPAD runs it.
  const v1::Model& bloom = Get(catalog, "bloom-176b");
  EXPECT_EQ(bloom.num_kv_heads(), bloom.num_heads());
  EXPECT_EQ(bloom.mlp(), v1::MLP_KIND_GELU);
  EXPECT_EQ(bloom.norm(), v1::NORM_KIND_LAYERNORM);
  EXPECT_EQ(bloom.dtype(), v1::DTYPE_FP16);
}

TEST(ModelCatalogTest, HeadsNotDivisibleNamesFileLineAndField) {
  EXPECT_EQ(LoadError("heads_not_divisible"),
            kBadDir +
                "/heads_not_divisible/models/bad_gqa.txtpb:8:1: field "
                "'num_kv_heads' (6) must "
                "divide num_heads (64)");
}

// A detector's own fields: encoder layers leave room for the decoder, and
// the backbone's outputs match the levels.
TEST(ModelCatalogTest, DetectorFieldsAreChecked) {
  v1::Model detr = Get(ShippedModels(), "deformable-detr");
  EXPECT_TRUE(ValidateModel(detr, "/x.txtpb").ok());
  detr.mutable_deformable_detr()->set_encoder_layers(12);
  detr.mutable_deformable_detr()->add_backbone_channels(4096);
  detr.mutable_deformable_detr()->add_backbone_channels(4096);
  const std::string message(ValidateModel(detr, "/x.txtpb").message());
  EXPECT_THAT(message, HasSubstr("field 'deformable_detr.encoder_layers' "
                                 "must be below num_layers"));
  EXPECT_THAT(message, HasSubstr("field 'deformable_detr.backbone_channels'"));
}

TEST(ModelCatalogTest, MhaNeedsAsManyKvHeadsAsHeads) {
  v1::Model model = Get(ShippedModels(), "bloom-176b");
  model.set_num_kv_heads(8);
  absl::Status status = ValidateModel(model, "/nonexistent.txtpb");
  EXPECT_EQ(
      status.message(),
      "/nonexistent.txtpb: field 'num_kv_heads' must equal num_heads (112) for "
      "ATTENTION_KIND_MHA (got 8)");
}

TEST(ModelCatalogTest, IncompleteMlaPointsAtTheBlock) {
  // kv_lora_rank is absent, so the error points at the `mla {` line (13).
  EXPECT_EQ(
      LoadError("mla_incomplete"),
      kBadDir +
          "/mla_incomplete/models/mla.txtpb:13:1: field 'mla.kv_lora_rank' "
          "is missing");
}

TEST(ModelCatalogTest, MlaWithoutSubConfigIsMissing) {
  v1::Model model = Get(ShippedModels(), "deepseek-v3");
  model.clear_mla();
  EXPECT_THAT(std::string(ValidateModel(model, "/x.txtpb").message()),
              HasSubstr("/x.txtpb: field 'mla' is missing"));
}

TEST(ModelCatalogTest, Fp4IsAPoolsWeightPrecisionNotAModelFiles) {
  v1::Model model = Get(ShippedModels(), "llama-3-8b");
  model.set_kv_dtype(v1::DTYPE_FP4);
  EXPECT_THAT(std::string(ValidateModel(model, "/x.txtpb").message()),
              HasSubstr("an FP4 KV cache is not modelled"));
  model.set_kv_dtype(v1::DTYPE_UNSPECIFIED);
  model.set_dtype(v1::DTYPE_FP4);
  EXPECT_THAT(std::string(ValidateModel(model, "/x.txtpb").message()),
              HasSubstr("FP4 weights are set per pool (Pool.weight_dtype: "
                        "DTYPE_FP4"));
}

TEST(ModelCatalogTest, TopKAboveExpertCount) {
  EXPECT_EQ(
      LoadError("moe_top_k"),
      kBadDir +
          "/moe_top_k/models/moe.txtpb:17:3: field 'moe.top_k' (4) must be <= "
          "moe.num_experts (2)");
}

TEST(ModelCatalogTest, MtpWithoutModulesNamesFileLineAndField) {
  EXPECT_THAT(LoadError("mtp_no_modules"),
              HasSubstr("/mtp_no_modules/models/mtp.txtpb:16:3: field "
                        "'mtp.num_modules'"));
  // DeepSeek-V3's one module (HF num_nextn_predict_layers: 1).
  EXPECT_EQ(Get(ShippedModels(), "deepseek-v3").mtp().num_modules(), 1);
  v1::Model ssm = Get(ShippedModels(), "llama-3-8b");
  ssm.mutable_ssm()->set_num_ssm_layers(1);
  ssm.mutable_mtp()->set_num_modules(1);
  EXPECT_THAT(std::string(ValidateModel(ssm, "/x.txtpb").message()),
              HasSubstr("multi-token prediction modules of an SSM or "
                        "diffusion model are not modelled"));
}

TEST(ModelCatalogTest, MissingFieldsAreAllListed) {
  std::string error = LoadError("missing_model_field");
  const std::string file =
      kBadDir + "/missing_model_field/models/no_layers.txtpb";
  EXPECT_THAT(error, HasSubstr(file + ": field 'num_layers' is missing"));
  EXPECT_THAT(error, HasSubstr(file + ": field 'dtype' is missing"));
}

TEST(ModelCatalogTest, DenseModelNeedsFfnButPureMoeDoesNot) {
  ModelCatalog catalog = ShippedModels();
  v1::Model dense = Get(catalog, "llama-3-8b");
  dense.clear_ffn_dim();
  EXPECT_EQ(ValidateModel(dense, "/x.txtpb").message(),
            "/x.txtpb: field 'ffn_dim' is missing");
  EXPECT_EQ(Get(catalog, "mixtral-8x7b").ffn_dim(),
            0);  // loads: every layer MoE
}

TEST(ModelCatalogTest, PureSsmModelNeedsNoAttention) {
  v1::Model mamba;
  mamba.set_name("mamba");
  mamba.set_num_layers(64);
  mamba.set_hidden_size(2560);
  mamba.set_vocab_size(50280);
  mamba.set_dtype(v1::DTYPE_BF16);
  mamba.mutable_ssm()->set_num_ssm_layers(64);
  mamba.mutable_ssm()->set_d_state(16);
  mamba.mutable_ssm()->set_expand(2);
  mamba.mutable_ssm()->set_conv_kernel(4);
  EXPECT_TRUE(ValidateModel(mamba, "/x.txtpb").ok());
}

}  // namespace
}  // namespace fleetsim::workloads
