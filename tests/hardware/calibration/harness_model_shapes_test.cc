// The calibration harness's own text-format reader
// (hardware/calibration/gpu_harness/model_shapes.h, which builds without
// protobuf) against protobuf's parse of the same files: every catalog model,
// as written and as protobuf prints it on one line and over many, gives the
// same dimensions; and the harness's built-in list matches the catalog.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fleetsim/v1/model.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"
#include "util/textproto.h"

namespace fleetsim {
namespace {

const std::string kModels = std::string(FLEETSIM_SOURCE_DIR) + "/data/models";

// What the sweep should read from `model`: false when it skips it (MLA, or
// no dense or expert MLP and no attention heads, as a pure SSM).
bool ExpectedDims(const v1::Model& model, calibrate::ModelDims* dims) {
  if (model.attention() == v1::ATTENTION_KIND_MLA) return false;
  dims->name = model.name();
  dims->hidden = model.hidden_size();
  dims->heads = model.num_heads();
  dims->kv_heads =
      model.num_kv_heads() > 0 ? model.num_kv_heads() : model.num_heads();
  dims->head_dim = model.head_dim();
  if (dims->head_dim == 0 && dims->heads > 0)
    dims->head_dim = dims->hidden / dims->heads;
  dims->ffn =
      model.ffn_dim() > 0 ? model.ffn_dim() : model.moe().expert_ffn_dim();
  dims->gated = model.mlp() != v1::MLP_KIND_GELU;
  return !dims->name.empty() && dims->hidden > 0 && dims->heads > 0 &&
         dims->ffn > 0 && dims->head_dim > 0;
}

void ExpectSame(const calibrate::ModelDims& got,
                const calibrate::ModelDims& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.hidden, want.hidden);
  EXPECT_EQ(got.heads, want.heads);
  EXPECT_EQ(got.kv_heads, want.kv_heads);
  EXPECT_EQ(got.head_dim, want.head_dim);
  EXPECT_EQ(got.ffn, want.ffn);
  EXPECT_EQ(got.gated, want.gated);
}

std::map<std::string, v1::Model> CatalogModels() {
  std::map<std::string, v1::Model> models;
  for (const auto& entry : std::filesystem::directory_iterator(kModels)) {
    v1::Model model;
    EXPECT_TRUE(ReadTextProtoFile(entry.path().string(), &model).ok())
        << entry.path();
    models[entry.path().string()] = model;
  }
  return models;
}

TEST(HarnessModelShapesTest, ReaderAgreesWithProtobufOnEveryCatalogModel) {
  const std::map<std::string, v1::Model> models = CatalogModels();
  ASSERT_GE(models.size(), 10u);
  for (const auto& [path, model] : models) {
    SCOPED_TRACE(path);
    std::string written;
    ASSERT_TRUE(ReadFileToString(path, &written).ok());
    std::string one_line, many_lines;
    google::protobuf::TextFormat::Printer printer;
    printer.SetSingleLineMode(true);
    ASSERT_TRUE(printer.PrintToString(model, &one_line));
    ASSERT_TRUE(
        google::protobuf::TextFormat::PrintToString(model, &many_lines));
    calibrate::ModelDims want;
    const bool sweepable = ExpectedDims(model, &want);
    for (const std::string& text : {written, one_line, many_lines}) {
      calibrate::ModelDims got;
      std::string why;
      ASSERT_EQ(calibrate::ParseModelText(text, &got, &why), sweepable)
          << why << "\n"
          << text;
      if (sweepable) ExpectSame(got, want);
    }
  }
}

TEST(HarnessModelShapesTest, BuiltInListMatchesTheCatalog) {
  std::map<std::string, calibrate::ModelDims> catalog;
  for (const auto& [path, model] : CatalogModels()) {
    calibrate::ModelDims dims;
    if (ExpectedDims(model, &dims)) catalog[dims.name] = dims;
  }
  for (const calibrate::ModelDims& builtin : calibrate::BuiltinModels()) {
    SCOPED_TRACE(builtin.name);
    auto it = catalog.find(builtin.name);
    ASSERT_NE(it, catalog.end());
    ExpectSame(builtin, it->second);
  }
}

}  // namespace
}  // namespace fleetsim
