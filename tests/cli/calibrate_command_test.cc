// `fleetsim calibrate import` and `eval` end to end: a shipped table
// evaluated, an aiconfigurator table imported and evaluated directly, bad
// tables, chips and missing flags as non-zero exits.
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;

using RunResult = testutil::FleetsimRun;

// `fleetsim calibrate ...` on the shipped data folder.
RunResult RunFleetsim(const std::string& args) {
  return testutil::RunFleetsim(std::string("calibrate --data_dir ") +
                               FLEETSIM_SOURCE_DIR + "/data " + args);
}

TEST(CalibrateEvalCommandTest, BadFileFailsWithTheLoaderMessage) {
  const std::string path = ::testing::TempDir() + "/bad_table.csv";
  {
    std::ofstream f(path);
    f << "op,op_class,m,n,k,median_s\nqkv_proj,gemm,abc,1,1,1e-3\n";
  }
  RunResult r = RunFleetsim("eval --chip h100 --profile " + path);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("bad_table.csv:2"));
  r = RunFleetsim("eval --chip h100 --profile /nonexistent.csv");
  EXPECT_NE(r.exit_code, 0);
  r = RunFleetsim("eval --chip h999 --profile " + path);
  EXPECT_NE(r.exit_code, 0);
  r = RunFleetsim("eval --chip h100");
  EXPECT_NE(r.exit_code, 0);
}

TEST(CalibrateEvalCommandTest, EvaluatesAShippedTable) {
  const RunResult r = RunFleetsim(
      std::string("eval --chip h100 --json --profile ") + FLEETSIM_SOURCE_DIR +
      "/data/calibration/h100/vidur_mlp_llama-2-7b-hf.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"qkv_proj\""));
  EXPECT_THAT(r.output, HasSubstr("\"median_ape_pct\""));
  EXPECT_THAT(r.output, HasSubstr("\"fast_rows\""));
}

const std::string kAiconfiguratorSubset =
    std::string(FLEETSIM_SOURCE_DIR) +
    "/data/calibration/aiconfigurator/"
    "h100_vllm_context_attention_subset.csv.gz";

TEST(CalibrateImportCommandTest, AiconfiguratorTableToGzippedFleetsimTable) {
  const std::string out = ::testing::TempDir() + "/vllm_prefill.csv.gz";
  RunResult r =
      RunFleetsim("import --format aiconfigurator --chip h100 --in " +
                  kAiconfiguratorSubset + " --out " + out +
                  " --source_commit 095f58a51c4ca8e61b66ec108d86f223f8d559ce");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"table_kind\": \"attention\""));
  EXPECT_THAT(r.output, HasSubstr("\"rows_written\": 18"));
  // The written table reads back and evaluates like the source does.
  r = RunFleetsim("eval --chip h100 --json --profile " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"attention_prefill vllm\""));
  r = RunFleetsim("import --format aiconfigurator --in " +
                  kAiconfiguratorSubset + " --out " + out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("needs --chip"));
}

TEST(CalibrateEvalCommandTest, ReadsAiconfiguratorTablesDirectlyWithWhere) {
  RunResult r =
      RunFleetsim("eval --chip h100 --profile " + kAiconfiguratorSubset +
                  " --where 'batch=16,new_tokens>=1024'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("(4 rows priced of 4)"));
  EXPECT_THAT(r.output, HasSubstr("class attention_prefill vllm"));
  r = RunFleetsim("eval --chip h100 --profile " + kAiconfiguratorSubset +
                  " --where nonsense=1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("'nonsense' is not a CalibrationRow field"));
}

// --framework prices with that framework's kernel set (H100 carries one per
// framework); --rows_out writes each row with its prediction.
TEST(CalibrateEvalCommandTest, FrameworkKernelSetAndRowsOut) {
  const std::string out = ::testing::TempDir() + "/rows_out.csv";
  RunResult pooled =
      RunFleetsim("eval --json --chip h100 --profile " + kAiconfiguratorSubset);
  RunResult vllm = RunFleetsim(
      "eval --json --chip h100 --framework vllm "
      "--rows_out " +
      out + " --profile " + kAiconfiguratorSubset);
  ASSERT_EQ(pooled.exit_code, 0) << pooled.output;
  ASSERT_EQ(vllm.exit_code, 0) << vllm.output;
  EXPECT_NE(pooled.output, vllm.output);
  std::ifstream in(out);
  std::string header;
  ASSERT_TRUE(std::getline(in, header));
  EXPECT_THAT(header, HasSubstr("median_s"));
  EXPECT_THAT(header, ::testing::EndsWith(",predicted_s"));
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 18);
}

}  // namespace
}  // namespace fleetsim::cli
