// `fleetsim estimate` (cli/estimate_command.cc) end to end on the shipped
// catalogs: JSON and table output, bad input as a clear non-zero exit.
#include <string>

#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using RunResult = testutil::FleetsimRun;

// `fleetsim estimate ...` on the shipped data folder.
RunResult RunFleetsim(const std::string& args) {
  return testutil::RunFleetsim(std::string("estimate --data_dir ") +
                               FLEETSIM_SOURCE_DIR + "/data " + args);
}

TEST(EstimateCommandTest, PrintsJsonWithIterationAndOperators) {
  const RunResult r = RunFleetsim(
      "--model bloom-176b --chip h100 --tp 8 --prefill 1500 --decode "
      "64@1500 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"iteration_s\""), std::string::npos);
  EXPECT_NE(r.output.find("\"operators\""), std::string::npos);
  EXPECT_NE(r.output.find("\"name\": \"attn_prefill\""), std::string::npos);
  EXPECT_NE(r.output.find("\"name\": \"attn_decode\""), std::string::npos);
  EXPECT_NE(r.output.find("\"bound\": \"network\""), std::string::npos);
}

TEST(EstimateCommandTest, PrintsATable) {
  const RunResult r = RunFleetsim(
      "--model llama-2-70b --chip h100 --tp 4 --prefill 512:1024,128 "
      "--decode 8@300");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("iteration"), std::string::npos);
  EXPECT_NE(r.output.find("qkv_proj"), std::string::npos);
  EXPECT_NE(r.output.find("allreduce"), std::string::npos);
}

TEST(EstimateCommandTest, BadInputFailsWithAClearMessage) {
  RunResult r = RunFleetsim("--model bloom-176b --chip nope --decode 4@10");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("unknown name 'nope'"), std::string::npos)
      << r.output;
  r = RunFleetsim("--model bloom-176b --chip h100 --tp 8 --decode 64x1500");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("N@CONTEXT"), std::string::npos) << r.output;
  r = RunFleetsim("--model bloom-176b --chip h100 --tp 8 --prefill -3");
  EXPECT_NE(r.exit_code, 0);
  r = RunFleetsim("--model bloom-176b --chip h100 --tp 8");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--prefill"), std::string::npos) << r.output;
  r = RunFleetsim("--model llama-2-7b --chip h100 --tp 3 --prefill 10");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("divisible"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace fleetsim::cli
