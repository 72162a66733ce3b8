// `fleetsim calibrate eval` end to end: a shipped table evaluated, bad
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

}  // namespace
}  // namespace fleetsim::cli
