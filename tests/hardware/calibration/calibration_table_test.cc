// Tests for hardware/calibration/calibration_table.h (schema I/O),
// hardware/calibration/vidur_import.h (Vidur CSV -> explicit shapes) and the
// harness's dependency-free CSV writer and shape list
// (hardware/calibration/gpu_harness/). Crafted inputs live in
// tests/testdata/calibration/. The RealVidurTest cases read Vidur's own
// profiling files when FLEETSIM_VIDUR_PROFILING_DIR names a copy (layout at
// RealVidurTest) and are skipped otherwise.
#include "hardware/calibration/calibration_table.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"
#include "hardware/calibration/vidur_import.h"

namespace fleetsim::hardware {
namespace {

using google::protobuf::util::MessageDifferencer;

const std::string kTestData =
    std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/calibration/";

// "OK" or "<code>: <message>", so failures read like specs.
std::string StatusText(const absl::Status& s) {
  return s.ok() ? "OK"
                : std::string(absl::StatusCodeToString(s.code())) + ": " +
                      std::string(s.message());
}

std::string TempPath(const std::string& name) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("fleetsim_calib_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

v1::CalibrationTable SampleTable() {
  v1::CalibrationTable t;
  t.mutable_provenance()->set_source("unit test, with a comma");
  t.mutable_provenance()->set_device_name("NVIDIA H100 80GB HBM3");
  t.mutable_provenance()->set_sm_clock_mhz(1980);
  v1::CalibrationRow* gemm = t.add_rows();
  gemm->set_op("qkv_proj");
  gemm->set_op_class(v1::OPERATOR_CLASS_GEMM);
  gemm->set_dtype(v1::DTYPE_BF16);
  gemm->set_chip("h100");
  gemm->set_tp(8);
  gemm->set_model("meta-llama/Llama-2-70b-hf");
  gemm->set_m(4096);
  gemm->set_n(1280);
  gemm->set_k(8192);
  gemm->set_tokens(4096);
  gemm->set_median_s(0.000151);
  gemm->set_p10_s(0.0001499);
  gemm->set_p90_s(1.0 / 3.0 * 1e-3);  // needs 17 digits to round-trip
  gemm->set_samples(30);
  v1::CalibrationRow* attn = t.add_rows();
  attn->set_op("attn_prefill");
  attn->set_op_class(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  attn->set_chip("a100");
  attn->set_batch(1);
  attn->set_new_tokens(512);
  attn->set_context_tokens(0);
  attn->set_heads(32);
  attn->set_kv_heads(4);
  attn->set_head_dim(128);
  attn->set_median_s(7.2e-5);
  attn->set_min_s(0);  // optional and set to 0: must survive the round trip
  v1::CalibrationRow* ar = t.add_rows();
  ar->set_op("all_reduce");
  ar->set_op_class(v1::OPERATOR_CLASS_COLLECTIVE);
  ar->set_bytes(2048);
  ar->set_ranks(8);
  ar->set_ranks_per_node(8);
  ar->set_median_s(3.7e-5);
  return t;
}

// ------------------------------------------------------------- schema I/O

TEST(CalibrationCsvTest, RoundTripsExactly) {
  v1::CalibrationTable table = SampleTable();
  std::string csv = CalibrationTableToCsv(table);
  absl::StatusOr<v1::CalibrationTable> back =
      ParseCalibrationCsv(csv, "mem.csv");
  ASSERT_EQ(StatusText(back.status()), "OK") << csv;
  EXPECT_TRUE(MessageDifferencer::Equals(table, *back)) << csv << "\n---\n"
                                                        << back->DebugString();
}

TEST(CalibrationCsvTest, WritesProvenanceCommentsAndHeader) {
  std::string csv = CalibrationTableToCsv(SampleTable());
  EXPECT_TRUE(absl::StrContains(csv, "# device_name: NVIDIA H100 80GB HBM3\n"));
  EXPECT_TRUE(absl::StrContains(csv, "# sm_clock_mhz: 1980\n"));
  // Only columns some row sets (plus op, op_class, median_s), in field order.
  EXPECT_TRUE(absl::StrContains(
      csv,
      "\nop,op_class,dtype,chip,tp,model,m,n,k,batch,new_tokens,heads,"
      "kv_heads,head_dim,bytes,ranks,ranks_per_node,tokens,median_s,p10_s,"
      "p90_s,min_s,samples\n"))
      << csv;
  EXPECT_TRUE(absl::StrContains(csv, "qkv_proj,gemm,bf16,h100,8,"));
}

TEST(CalibrationCsvTest, GzipTablesRoundTripAndBoolsReadBack) {
  v1::CalibrationTable table = SampleTable();
  v1::CalibrationRow* mla = table.add_rows();
  mla->set_op("mla_decode");
  mla->set_op_class(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  mla->set_framework("trtllm");
  mla->set_batch(128);
  mla->set_context_tokens(4095);
  mla->set_heads(128);
  mla->set_kv_heads(1);
  mla->set_head_dim(128);
  mla->set_latent_dim(512);
  mla->set_rope_dim(64);
  mla->set_absorbed(true);
  mla->set_median_s(2.5e-4);
  const std::string path = TempPath("table.csv.gz");
  ASSERT_EQ(StatusText(WriteCalibrationTable(table, path)), "OK");
  std::ifstream raw(path, std::ios::binary);
  char magic[2] = {0, 0};
  raw.read(magic, 2);
  EXPECT_EQ(static_cast<unsigned char>(magic[0]), 0x1f);  // gzip on disk
  EXPECT_EQ(static_cast<unsigned char>(magic[1]), 0x8b);
  absl::StatusOr<v1::CalibrationTable> back = ReadCalibrationTable(path);
  ASSERT_EQ(StatusText(back.status()), "OK");
  EXPECT_TRUE(MessageDifferencer::Equals(table, *back));
  EXPECT_TRUE(back->rows(3).absorbed());
  // Bool cells: true/false/1/0; anything else names the column.
  const std::string header = "op,op_class,median_s,m,n,k,absorbed\n";
  EXPECT_TRUE(ParseCalibrationCsv(header + "a,gemm,1,1,1,1,1\n", "t.csv").ok());
  EXPECT_EQ(StatusText(ParseCalibrationCsv(
                           header + "a,gemm,1,1,1,1,yes please\n", "t.csv")
                           .status()),
            "INVALID_ARGUMENT: t.csv:2: column 'absorbed': 'yes please' is "
            "not true/false");
}

TEST(CalibrationCsvTest, MoeAndSsmRowsNeedTheirShapes) {
  v1::CalibrationRow moe;
  moe.set_op("moe");
  moe.set_op_class(v1::OPERATOR_CLASS_MOE);
  moe.set_median_s(1e-4);
  moe.set_tokens(64);
  moe.set_hidden(7168);
  moe.set_inter(2048);
  moe.set_experts(256);
  moe.set_top_k(8);
  moe.set_moe_tp(1);
  moe.set_moe_ep(8);
  EXPECT_EQ(StatusText(ValidateCalibrationRow(moe)), "OK");
  moe.set_moe_ep(3);
  EXPECT_EQ(StatusText(ValidateCalibrationRow(moe)),
            "INVALID_ARGUMENT: experts (256) must divide by moe_ep (3) and "
            "inter (2048) by moe_tp (1)");
  moe.set_moe_ep(8);
  moe.set_top_k(300);
  EXPECT_EQ(StatusText(ValidateCalibrationRow(moe)),
            "INVALID_ARGUMENT: top_k (300) exceeds experts (256)");
  v1::CalibrationRow ssm;
  ssm.set_op("ssm_prefill");
  ssm.set_op_class(v1::OPERATOR_CLASS_SSM);
  ssm.set_median_s(1e-4);
  ssm.set_batch(1);
  ssm.set_new_tokens(1024);
  ssm.set_heads(128);
  ssm.set_head_dim(64);
  EXPECT_EQ(StatusText(ValidateCalibrationRow(ssm)),
            "INVALID_ARGUMENT: d_state must be > 0 for this op_class, got 0");
}

TEST(CalibrationCsvTest, ReadsColumnsInAnyOrderAndFullEnumNames) {
  absl::StatusOr<v1::CalibrationTable> t = ParseCalibrationCsv(
      "# a free comment: ignored because the key has spaces\n"
      "# date: 2026-11-28\n"
      "median_s,k,n,m,op_class,op,dtype\n"
      "1e-3,64,32,16,OPERATOR_CLASS_GEMM,my_gemm,Bf16\n",
      "t.csv");
  ASSERT_EQ(StatusText(t.status()), "OK");
  ASSERT_EQ(t->rows_size(), 1);
  EXPECT_EQ(t->provenance().date(), "2026-11-28");
  EXPECT_EQ(t->rows(0).op_class(), v1::OPERATOR_CLASS_GEMM);
  EXPECT_EQ(t->rows(0).dtype(), v1::DTYPE_BF16);
  EXPECT_EQ(t->rows(0).m(), 16);
  EXPECT_EQ(t->rows(0).k(), 64);
}

TEST(CalibrationCsvTest, MalformedInputNamesFileLineAndColumn) {
  const std::string header = "op,op_class,m,n,k,median_s\n";
  EXPECT_EQ(
      StatusText(ParseCalibrationCsv(header + "g,gemm,abc,1,1,1e-3\n", "t.csv")
                     .status()),
      "INVALID_ARGUMENT: t.csv:2: column 'm': 'abc' is not an integer");
  EXPECT_EQ(
      StatusText(ParseCalibrationCsv("op,op_class,bogus,median_s\n", "t.csv")
                     .status()),
      "INVALID_ARGUMENT: t.csv:1: unknown column 'bogus'");
  EXPECT_EQ(StatusText(
                ParseCalibrationCsv(header + "g,gemm,1,1\n", "t.csv").status()),
            "INVALID_ARGUMENT: t.csv:2: expected 6 cells, got 4");
  EXPECT_EQ(
      StatusText(ParseCalibrationCsv(header + "g,gemm,0,1,1,1e-3\n", "t.csv")
                     .status()),
      "INVALID_ARGUMENT: t.csv:2: m must be > 0 for this op_class, got 0");
  EXPECT_EQ(
      StatusText(
          ParseCalibrationCsv(header + "g,gemm,1,1,1,0\n", "t.csv").status()),
      "INVALID_ARGUMENT: t.csv:2: median_s must be > 0, got 0");
  EXPECT_TRUE(absl::StartsWith(
      StatusText(
          ParseCalibrationCsv(header + "g,matmul,1,1,1,1\n", "t.csv").status()),
      "INVALID_ARGUMENT: t.csv:2: column 'op_class': 'matmul' is not a "
      "OperatorClass "
      "(known: gemm, attention_prefill,"));
  EXPECT_EQ(
      StatusText(
          ParseCalibrationCsv("# colour: red\n" + header, "t.csv").status()),
      "INVALID_ARGUMENT: t.csv:1: unknown provenance field 'colour'");
  EXPECT_EQ(
      StatusText(ParseCalibrationCsv("op,median_s\n", "t.csv").status()),
      "INVALID_ARGUMENT: t.csv:1: header lacks required column 'op_class'");
  EXPECT_EQ(
      StatusText(ParseCalibrationCsv("# only comments\n", "t.csv").status()),
      "INVALID_ARGUMENT: t.csv: no header line (expected column names)");
}

TEST(CalibrationTableTest, ReadsTextFormatAndRejectsUnknownExtensions) {
  absl::StatusOr<v1::CalibrationTable> t =
      ReadCalibrationTable(kTestData + "fleetsim_small.txtpb");
  ASSERT_EQ(StatusText(t.status()), "OK");
  ASSERT_EQ(t->rows_size(), 2);
  EXPECT_EQ(t->rows(0).n(), 1280);
  EXPECT_DOUBLE_EQ(t->rows(1).median_s(), 3.7e-5);
  EXPECT_EQ(ReadCalibrationTable("x.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadCalibrationTable(kTestData + "missing.csv").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CalibrationTableTest, WritesBothFormsThatReadBack) {
  v1::CalibrationTable table = SampleTable();
  for (const char* name : {"t.csv", "t.txtpb"}) {
    std::string path = TempPath(name);
    ASSERT_EQ(StatusText(WriteCalibrationTable(table, path)), "OK");
    absl::StatusOr<v1::CalibrationTable> back = ReadCalibrationTable(path);
    ASSERT_EQ(StatusText(back.status()), "OK") << name;
    EXPECT_TRUE(MessageDifferencer::Equals(table, *back)) << name;
  }
}

// ------------------------------------------------- harness CSV + shapes

// The harness writes the framework-free core of the schema: its columns
// must be the proto's fields, in field-number order, through `samples`.
TEST(HarnessCsvTest, HeaderIsTheProtoCoreInFieldOrder) {
  const std::string all = CalibrationCsvHeader();
  const std::string harness = calibrate::kCalibrationCsvColumns;
  EXPECT_TRUE(absl::StartsWith(all, harness + ",framework,")) << all;
}

TEST(HarnessCsvTest, HarnessTablesLoadThroughTheProjectLoader) {
  calibrate::CsvRow row;
  row.op = "rmsnorm";
  row.op_class = "norm";
  row.dtype = "bf16";
  row.chip = "h100";
  row.tp = 2;
  row.model = "llama-2-7b";
  row.elements = 4096 * 16;
  row.width = 4096;
  row.tokens = 16;
  row.median_s = 5.5e-6;
  row.p10_s = 5.1e-6;
  row.p90_s = 6.0e-6;
  row.mean_s = 5.6e-6;
  row.min_s = 5.0e-6;
  row.max_s = 7.0e-6;
  row.std_s = 1e-7;
  row.samples = 30;
  std::string path = TempPath("harness.csv");
  ASSERT_TRUE(calibrate::WriteCalibrationCsv(
      path, {{"source", "fleetsim-calibrate"}, {"sm_clock_mhz", "1980"}},
      {row}));
  absl::StatusOr<v1::CalibrationTable> t = ReadCalibrationTable(path);
  ASSERT_EQ(StatusText(t.status()), "OK");
  ASSERT_EQ(t->rows_size(), 1);
  EXPECT_EQ(t->provenance().source(), "fleetsim-calibrate");
  EXPECT_EQ(t->rows(0).op_class(), v1::OPERATOR_CLASS_NORM);
  EXPECT_EQ(t->rows(0).elements(), 65536);
  EXPECT_DOUBLE_EQ(t->rows(0).p90_s(), 6.0e-6);
  EXPECT_EQ(t->rows(0).samples(), 30);
}

TEST(HarnessShapesTest, CatalogModelsGiveShardedGemms) {
  std::string log;
  std::vector<calibrate::ModelDims> models = calibrate::LoadModels(
      std::string(FLEETSIM_SOURCE_DIR) + "/data/models", &log);
  std::vector<calibrate::GemmShape> shapes =
      calibrate::GemmShapes(models, {8}, 4096);
  bool found = false;
  for (const auto& g : shapes) {
    if (g.model == "llama-2-70b" && g.op == "qkv_proj" && g.tokens == 4096) {
      found = true;
      EXPECT_EQ(g.n, (8 + 2 * 1) * 128);  // 64 q / 8 kv heads at TP8
      EXPECT_EQ(g.k, 8192);
    }
    if (g.model == "llama-2-70b" && g.op == "mlp_up_proj") {
      EXPECT_EQ(g.n, 2 * 28672 / 8);
    }
    if (g.model == "bloom-176b" && g.op == "mlp_up_proj") {
      EXPECT_EQ(g.n, 57344 / 8);
    }
    EXPECT_NE(g.model, "deepseek-v3");  // MLA is skipped
  }
  EXPECT_TRUE(found) << log;
  // Built-in fallback covers the same nine models.
  std::string fallback_log;
  EXPECT_EQ(calibrate::LoadModels("/nonexistent", &fallback_log).size(), 9u);
}

TEST(HarnessCsvTest, AttentionScriptDryRunLoads) {
  if (std::system("python3 --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no python3";
  }
  std::string out = TempPath("sdpa");
  std::string command =
      "python3 " + std::string(FLEETSIM_SOURCE_DIR) +
      "/hardware/calibration/gpu_harness/attention_sdpa.py --dry-run --out " +
      out + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  absl::StatusOr<v1::CalibrationTable> t =
      ReadCalibrationTable(out + "/attention.csv");
  ASSERT_EQ(StatusText(t.status()), "OK");
  EXPECT_GT(t->rows_size(), 0);
  EXPECT_EQ(t->provenance().source(), "fleetsim attention_sdpa.py");
  EXPECT_EQ(t->rows(0).op_class(), v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  EXPECT_EQ(t->rows(0).heads(), 32);
}

// ------------------------------------------------------------ Vidur import

VidurImportOptions Options(const std::string& chip) {
  VidurImportOptions o;
  o.chip = chip;
  return o;
}

const v1::CalibrationRow* FindRow(const v1::CalibrationTable& t,
                                  const std::string& op, int64_t tokens,
                                  int32_t tp) {
  for (const v1::CalibrationRow& r : t.rows()) {
    if (r.op() == op && r.tokens() == tokens && r.tp() == tp) return &r;
  }
  return nullptr;
}

TEST(VidurImportTest, MlpRowsBecomeExplicitPerChipShapes) {
  VidurImportOptions options = Options("h100");
  options.model = "crafted";
  absl::StatusOr<VidurImportResult> r = ImportVidurFile(
      VidurFormat::kMlp, kTestData + "vidur_mlp_tiny.csv", options);
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->input_rows, 4);
  EXPECT_EQ(r->duplicate_rows, 1);
  EXPECT_EQ(r->skipped_cells, 1);  // the last line has no input_layernorm
  // The file has 8 of Vidur's 9 layer ops (no post_attention_layernorm):
  // 2 lines x 8 + 1 line x 7; `emb` is never imported.
  EXPECT_EQ(r->table.rows_size(), 23);
  const v1::CalibrationTable& t = r->table;
  // Llama-2-70B geometry at TP8: d = 128, q = 8, kv = 1, F/tp = 3584.
  const v1::CalibrationRow* qkv = FindRow(t, "qkv_proj", 4096, 8);
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->op_class(), v1::OPERATOR_CLASS_GEMM);
  EXPECT_EQ(qkv->m(), 4096);
  EXPECT_EQ(qkv->n(), 1280);
  EXPECT_EQ(qkv->k(), 8192);
  EXPECT_DOUBLE_EQ(qkv->median_s(), 0.151e-3);
  EXPECT_EQ(qkv->dtype(), v1::DTYPE_FP16);
  EXPECT_EQ(qkv->model(), "crafted");
  const v1::CalibrationRow* o_proj = FindRow(t, "o_proj", 4096, 8);
  ASSERT_NE(o_proj, nullptr);
  EXPECT_EQ(o_proj->n(), 8192);
  EXPECT_EQ(o_proj->k(), 1024);
  const v1::CalibrationRow* up = FindRow(t, "mlp_up_proj", 8, 8);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->n(), 7168);
  const v1::CalibrationRow* down = FindRow(t, "mlp_down_proj", 8, 8);
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->k(), 3584);
  const v1::CalibrationRow* norm = FindRow(t, "input_layernorm", 8, 8);
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->op_class(), v1::OPERATOR_CLASS_NORM);
  EXPECT_EQ(norm->elements(), 8 * 8192);
  EXPECT_DOUBLE_EQ(norm->min_s(), 0.005e-3);
  EXPECT_DOUBLE_EQ(norm->std_s(), 0.0005e-3);
  const v1::CalibrationRow* rope = FindRow(t, "rope", 8, 8);
  ASSERT_NE(rope, nullptr);
  EXPECT_EQ(rope->elements(), 8 * (8 + 1) * 128);
  EXPECT_EQ(rope->width(), 128);
  EXPECT_NE(FindRow(t, "mlp_act", 8, 8), nullptr);  // gated (SwiGLU)
  // Llama-2-7B geometry at TP1 (MHA): qkv n = 3 * 4096.
  const v1::CalibrationRow* qkv7 = FindRow(t, "qkv_proj", 4096, 1);
  ASSERT_NE(qkv7, nullptr);
  EXPECT_EQ(qkv7->n(), 12288);
  EXPECT_EQ(t.provenance().source(), "microsoft/vidur");
  EXPECT_TRUE(absl::StrContains(t.provenance().license(), "MIT"));
}

TEST(VidurImportTest, ModelNameDefaultsToTheTwoFoldersAboveTheFile) {
  absl::StatusOr<VidurImportResult> r = ImportVidurCsv(
      VidurFormat::kMlp,
      "time_stats.add.median,n_head,n_kv_head,n_embd,n_expanded_embd,use_gated_"
      "mlp,"
      "num_tokens,num_tensor_parallel_workers\n0.03,32,32,4096,11008,True,1,"
      "1\n",
      "x/compute/h100/meta-llama/Llama-2-7b-hf/mlp.csv", Options("h100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->table.rows(0).model(), "meta-llama/Llama-2-7b-hf");
}

TEST(VidurImportTest, AttentionRowsKeepPrefillAndDecodeGeometry) {
  absl::StatusOr<VidurImportResult> r =
      ImportVidurFile(VidurFormat::kAttention,
                      kTestData + "vidur_attention_tiny.csv", Options("a100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->duplicate_rows, 1);
  ASSERT_EQ(r->table.rows_size(), 3);
  const v1::CalibrationRow& cached = r->table.rows(0);
  EXPECT_EQ(cached.op(), "attn_prefill");
  EXPECT_EQ(cached.op_class(), v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  EXPECT_EQ(cached.new_tokens(), 512);
  EXPECT_EQ(cached.context_tokens(), 2048);
  EXPECT_EQ(cached.heads(), 32);  // 64 / TP2
  EXPECT_EQ(cached.kv_heads(), 4);
  EXPECT_EQ(cached.head_dim(), 128);
  EXPECT_DOUBLE_EQ(cached.median_s(), 0.224e-3);
  const v1::CalibrationRow& decode = r->table.rows(2);
  EXPECT_EQ(decode.op(), "attn_decode");
  EXPECT_EQ(decode.batch(), 128);
  EXPECT_EQ(decode.new_tokens(), 1);
  EXPECT_EQ(decode.context_tokens(), 1024);
  EXPECT_DOUBLE_EQ(decode.mean_s(), 0.193e-3);
}

TEST(VidurImportTest, NetworkSizeIsBytes) {
  absl::StatusOr<VidurImportResult> r =
      ImportVidurFile(VidurFormat::kNetwork,
                      kTestData + "vidur_allreduce_tiny.csv", Options("h100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->duplicate_rows, 1);
  ASSERT_EQ(r->table.rows_size(), 3);
  const v1::CalibrationRow& first = r->table.rows(0);
  EXPECT_EQ(first.op(), "all_reduce");
  EXPECT_EQ(first.op_class(), v1::OPERATOR_CLASS_COLLECTIVE);
  EXPECT_EQ(first.bytes(), 2048);  // not 4096: Vidur's size is already bytes
  EXPECT_EQ(first.ranks(), 8);
  EXPECT_EQ(first.ranks_per_node(), 8);
  EXPECT_DOUBLE_EQ(first.median_s(), 0.037e-3);
  EXPECT_EQ(r->table.provenance().host(), "calibration");  // folder of the file
}

TEST(VidurImportTest, ThinningKeepsAboutNPointsPerOctave) {
  std::string text =
      "time_stats.add.median,n_head,n_kv_head,n_embd,n_expanded_embd,use_gated_"
      "mlp,"
      "num_tokens,num_tensor_parallel_workers\n";
  for (int tokens = 8; tokens <= 1024; tokens += 8) {
    text += "0.03,32,32,4096,11008,True," + std::to_string(tokens) + ",1\n";
  }
  VidurImportOptions options = Options("h100");
  options.points_per_octave = 2;
  absl::StatusOr<VidurImportResult> r =
      ImportVidurCsv(VidurFormat::kMlp, text, "m.csv", options);
  ASSERT_EQ(StatusText(r.status()), "OK");
  std::set<int64_t> kept;
  for (const v1::CalibrationRow& row : r->table.rows())
    kept.insert(row.tokens());
  // Targets 2^(j/2) rounded up onto the step-8 grid, plus both ends.
  EXPECT_EQ(kept, (std::set<int64_t>{8, 16, 24, 32, 48, 64, 96, 128, 184, 256,
                                     368, 512, 728, 1024}));
  EXPECT_EQ(r->thinned_rows, 128 - 14);
}

TEST(VidurImportTest, MalformedInputNamesFileLineAndColumn) {
  const std::string header =
      "time_stats.add.median,n_head,n_kv_head,n_embd,n_expanded_embd,use_gated_"
      "mlp,"
      "num_tokens,num_tensor_parallel_workers\n";
  auto import = [](const std::string& text) {
    return StatusText(
        ImportVidurCsv(VidurFormat::kMlp, text, "m.csv", Options("h100"))
            .status());
  };
  EXPECT_EQ(import(header + "0.03,32,32,4096,11008,True,eight,1\n"),
            "INVALID_ARGUMENT: m.csv:2: column 'num_tokens': 'eight' is not an "
            "integer");
  EXPECT_EQ(
      import(header + "0.03,32,32,4096,11008,True,8,3\n"),
      "INVALID_ARGUMENT: m.csv:2: column 'num_tensor_parallel_workers': tp 3 "
      "does not divide n_head 32");
  EXPECT_EQ(import(header + "0.03,32,32,4096,11008,maybe,8,1\n"),
            "INVALID_ARGUMENT: m.csv:2: column 'use_gated_mlp': 'maybe' is not "
            "a boolean");
  EXPECT_EQ(
      import(header + "abc,32,32,4096,11008,True,8,1\n"),
      "INVALID_ARGUMENT: m.csv:2: column 'time_stats.add.median': 'abc' is not "
      "a finite number");
  EXPECT_EQ(
      import(header + "0.03,32,32,4096\n"),
      "INVALID_ARGUMENT: m.csv:2: expected 8 cells as in the header, got 4");
  EXPECT_EQ(import("time_stats.add.median,n_head\n0.03,32\n"),
            "INVALID_ARGUMENT: m.csv:1: column 'num_tokens': missing");
  EXPECT_EQ(import(header), "INVALID_ARGUMENT: m.csv: no data rows");
  EXPECT_EQ(StatusText(ImportVidurCsv(VidurFormat::kMlp, header, "m.csv",
                                      VidurImportOptions())
                           .status()),
            "INVALID_ARGUMENT: Vidur import needs a chip name (--chip)");
  EXPECT_EQ(ParseVidurFormat("vidur-mlp").value(), VidurFormat::kMlp);
  EXPECT_EQ(ParseVidurFormat("csv").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ------------------------------------------------ real Vidur files

// FLEETSIM_VIDUR_PROFILING_DIR: a folder laid out as microsoft/vidur's
// data/profiling/ at commit 7d47513363ec447a741ac5e47241580b47724fbf
// (compute/<chip>/<org>/<model>/mlp.csv, network/<node>/*.csv), plus
// legacy_acb95f6/a100/attention.csv and all_reduce.csv, the A100 attention
// (CodeLlama-34B geometry, TP2) and all-reduce tables of the same repository
// at commit acb95f6cd118071401fa805a0b0bc11bd2018fc6. data/calibration/
// README.md says which upstream file became which shipped table.
class RealVidurTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("FLEETSIM_VIDUR_PROFILING_DIR");
    if (dir == nullptr ||
        !std::filesystem::is_directory(std::string(dir) + "/compute")) {
      GTEST_SKIP() << "FLEETSIM_VIDUR_PROFILING_DIR does not name a copy of "
                      "Vidur's data/profiling/";
    }
    vidur_ = std::string(dir) + "/";
  }
  std::string vidur_;
};

TEST_F(RealVidurTest, H100Llama2_7bMlp) {
  absl::StatusOr<VidurImportResult> r =
      ImportVidurFile(VidurFormat::kMlp,
                      vidur_ + "compute/h100/meta-llama/Llama-2-7b-hf/mlp.csv",
                      Options("h100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->input_rows, 1044);
  EXPECT_EQ(r->duplicate_rows, 8);  // 1036 unique (tokens, tp) points
  EXPECT_EQ(r->table.rows_size(), 1036 * 9);
  // First line of the file: 4096 tokens, TP1, attn_pre_proj median 0.584 ms.
  const v1::CalibrationRow* qkv = FindRow(r->table, "qkv_proj", 4096, 1);
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->n(), 12288);
  EXPECT_EQ(qkv->k(), 4096);
  EXPECT_DOUBLE_EQ(qkv->median_s(), 0.584e-3);
  const v1::CalibrationRow* up = FindRow(r->table, "mlp_up_proj", 4096, 1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->n(), 22016);
  EXPECT_DOUBLE_EQ(up->median_s(), 0.987e-3);
  EXPECT_EQ(r->table.rows(0).model(), "meta-llama/Llama-2-7b-hf");
}

TEST_F(RealVidurTest, Phi2HasNoPostAttentionNorm) {
  absl::StatusOr<VidurImportResult> r = ImportVidurFile(
      VidurFormat::kMlp, vidur_ + "compute/a100/microsoft/phi-2/mlp.csv",
      Options("a100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->table.rows_size(), 259 * 8);
  const v1::CalibrationRow* up = FindRow(r->table, "mlp_up_proj", 1, 1);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->n(), 10240);  // GELU MLP: not gated
  // ... so its activation reads one row, not SwiGLU's two (the fit prices
  // the op names differently).
  EXPECT_NE(FindRow(r->table, "mlp_act_ungated", 1, 1), nullptr);
  EXPECT_EQ(FindRow(r->table, "mlp_act", 1, 1), nullptr);
}

TEST_F(RealVidurTest, H100DgxAllReduce) {
  absl::StatusOr<VidurImportResult> r = ImportVidurFile(
      VidurFormat::kNetwork, vidur_ + "network/h100_dgx/all_reduce.csv",
      Options("h100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->input_rows, 2982);
  EXPECT_EQ(r->duplicate_rows, 3);
  EXPECT_EQ(r->table.rows_size(), 2979);
  EXPECT_EQ(r->table.provenance().host(), "h100_dgx");
  const v1::CalibrationRow& first = r->table.rows(0);
  EXPECT_EQ(first.ranks(), 8);
  EXPECT_EQ(first.bytes(), 2048);
  EXPECT_DOUBLE_EQ(first.median_s(), 0.037e-3);
}

TEST_F(RealVidurTest, LegacyA100AttentionAndMixedCollectives) {
  absl::StatusOr<VidurImportResult> r = ImportVidurFile(
      VidurFormat::kAttention, vidur_ + "legacy_acb95f6/a100/attention.csv",
      Options("a100"));
  ASSERT_EQ(StatusText(r.status()), "OK");
  EXPECT_EQ(r->input_rows, 14658);
  EXPECT_EQ(r->table.rows_size() + r->duplicate_rows, 14658);
  const v1::CalibrationRow& first = r->table.rows(0);  // decode, batch 1, kv 32
  EXPECT_EQ(first.op(), "attn_decode");
  EXPECT_EQ(first.batch(), 1);
  EXPECT_EQ(first.context_tokens(), 32);
  EXPECT_DOUBLE_EQ(first.median_s(), 0.015e-3);

  absl::StatusOr<VidurImportResult> net = ImportVidurFile(
      VidurFormat::kNetwork, vidur_ + "legacy_acb95f6/a100/all_reduce.csv",
      Options("a100"));
  ASSERT_EQ(StatusText(net.status()), "OK");
  int gathers = 0;
  for (const v1::CalibrationRow& row : net->table.rows())
    gathers += row.op() == "all_gather";
  EXPECT_GT(gathers, 0);
}

// ------------------------------------------------ shipped tables

TEST(ShippedCalibrationTest, EveryTableInDataCalibrationLoads) {
  const std::string dir =
      std::string(FLEETSIM_SOURCE_DIR) + "/data/calibration";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  int tables = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".csv") continue;
    absl::StatusOr<v1::CalibrationTable> t =
        ReadCalibrationTable(entry.path().string());
    ASSERT_EQ(StatusText(t.status()), "OK");
    EXPECT_GT(t->rows_size(), 0) << entry.path();
    EXPECT_FALSE(t->provenance().source().empty()) << entry.path();
    EXPECT_FALSE(t->provenance().license().empty()) << entry.path();
    ++tables;
  }
  EXPECT_GT(tables, 0);
}

}  // namespace
}  // namespace fleetsim::hardware
