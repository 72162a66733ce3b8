// End-to-end tests of `fleetsim estimate` (cli/estimate_command.cc) on the
// shipped catalogs, and of the cost model on the shipped chip and model files.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "hardware/operator_model.h"
#include "tests/fleetsim_cli.h"
#include "workloads/model_catalog.h"

namespace fleetsim::hardware {
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

// The shipped chip and model files give the same SPAD Table 3 picture as
// the inline fixtures of operator_model_test.cc.
TEST(EstimateCommandTest, ShippedCatalogsGiveSpadRatios) {
  const std::string data = std::string(FLEETSIM_SOURCE_DIR) + "/data";
  absl::StatusOr<ChipCatalog> chips = LoadChipCatalog(data);
  ASSERT_TRUE(chips.ok()) << chips.status();
  absl::StatusOr<workloads::ModelCatalog> models =
      workloads::LoadModelCatalog(data);
  ASSERT_TRUE(models.ok()) << models.status();
  const Model& bloom = **models->Find("bloom-176b");
  auto make = [&](const char* chip) {
    return std::move(*OperatorModel::Create(bloom, **chips->Find(chip), 8, 1));
  };
  auto h100 = make("h100");
  auto pre = make("spad_prefill");
  auto dec = make("spad_decode");
  BatchShape p;
  p.AddPrefillChunk(1500, 0);
  BatchShape d;
  for (int i = 0; i < 64; ++i) d.AddDecode(1500);
  EXPECT_NEAR(h100->IterationSeconds(p) / pre->IterationSeconds(p), 1.08,
              0.15 * 1.08);
  EXPECT_NEAR(h100->IterationSeconds(p) / dec->IterationSeconds(p), 0.69,
              0.15 * 0.69);
  EXPECT_NEAR(h100->IterationSeconds(d) / dec->IterationSeconds(d), 0.97,
              0.15 * 0.97);
  const double pre_decode =
      h100->IterationSeconds(d) / pre->IterationSeconds(d);
  EXPECT_GT(pre_decode, 0.61);
  EXPECT_LT(pre_decode, 0.80);
}

}  // namespace
}  // namespace fleetsim::hardware
