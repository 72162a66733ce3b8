// `fleetsim plan` through the built binary: bad requests are errors naming
// the flag (issue 16: they used to fall back to defaults or end as
// "infeasible"); so is a trace with nothing to simulate; an unwritable
// --out fails before the search; SIGTERM
// leaves neither simulations nor partial files behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fleetsim/v1/run_inputs.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"
#include "tests/service/service_test_util.h"
#include "util/proto_json.h"
#include "util/sha256.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PlanCommandTest, BadFlagsAreErrorsNamingThem) {
  const std::string base =
      std::string("plan --model bloom-176b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_code.csv --rate 2 --duration 10 --slo normal ";
  testutil::ExpectCliErrors(
      base, {{"--jobs -1", 1, "field 'jobs' must be in"},
             {"--budget-machines -1", 1, "field 'budget_machines' must be in"},
             {"--budget-machines 2000000", 1,
              "field 'budget_machines' must be in [1, 10000]"},
             {"--tp-options 3", 1, "3 does not divide the machine's 8"},
             {"--gamma-cv 500 --arrival gamma", 1,
              "field 'workload.gamma_cv' must be in"},
             {"--existing-fleet colocated:h100x2", 1,
              "--existing-fleet: pool 'colocated:h100x2': expected"},
             {"--existing-fleet colocated:h100x2@tp3", 1,
              "field 'existing_pools[0].tp' (--existing-fleet): 3 does not"},
             {"--existing-fleet colocated:h100x2@tp8 --modes disaggregated", 1,
              "the existing fleet serves colocated"},
             {"stray_word", 2,
              "plan takes no positional arguments, got 'stray_word'"}});
}

// A trace with no rows, or a window past its end, is an error naming the
// trace, not a plan for a fleet that "meets" the SLO on nothing (issue 16).
TEST(PlanCommandTest, NothingToSimulateIsAnError) {
  const std::string empty = ::testing::TempDir() + "/plan_empty_trace_" +
                            std::to_string(getpid()) + ".csv";
  std::ofstream(empty) << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string traces = std::string(FLEETSIM_SOURCE_DIR) + "/data/traces";
  testutil::ExpectCliErrors(
      "plan --model bloom-176b --slo normal --budget-machines 2 ",
      {{"--trace " + empty, 1, "no requests to simulate (trace '" + empty},
       {"--trace " + traces + "/azure_2023_code.csv --start 1e7", 1,
        "no requests to simulate"}});
  std::remove(empty.c_str());
}

// Requests over the model's max_context, rejected: no fleet serves them, so
// the plan says so instead of searching (issue 13).
TEST(PlanCommandTest, RequestsOverMaxContextStopThePlanWithTheirCount) {
  const std::string base =
      std::string("plan --model llama-3-70b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/mooncake_synthetic.jsonl --max-requests 20 --slo "
      "ttft_p99=60s --chips h100 --modes colocated --budget-machines 2 ";
  testutil::ExpectCliErrors(
      base, {{"--context-limit reject", 1,
              "have prompt + output over llama-3-70b's max_context of 8192 "
              "tokens"},
             {"--context-limit drop", 1,
              "--context-limit: context limit 'drop' is none of reject, "
              "truncate, allow"}});
}

// An --out that cannot be written is refused before the search runs.
TEST(PlanCommandTest, AnUnwritableOutFailsBeforeTheSearch) {
  const std::string file =
      ::testing::TempDir() + "/plan_out_file_" + std::to_string(getpid());
  { std::ofstream(file) << "a file, not a folder"; }
  testutil::FleetsimRun run = testutil::RunFleetsim(
      std::string("plan --model bloom-176b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_code.csv --rate 2 --duration 10 --slo normal "
      "--out " +
      file + "/out");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(file + "/out"));
  EXPECT_THAT(run.output, Not(HasSubstr("[plan]")));  // no simulation ran
  std::remove(file.c_str());
}

// plan --out writes inputs.json beside plan.json: the request the planner
// ran (proto/fleetsim/v1/run_inputs.proto), the build and the trace's hash.
TEST(PlanCommandTest, OutHoldsTheInputsOfThePlan) {
  const std::string out =
      ::testing::TempDir() + "/plan_inputs_" + std::to_string(getpid());
  const std::string trace =
      std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/azure_2023_code.csv";
  const std::string slo = out + "_slo.txtpb";
  std::ofstream(slo) << "targets { metric: SLO_METRIC_TTFT percentile: 99 "
                        "max_s: 10 }\n";
  testutil::FleetsimRun run = testutil::RunFleetsim(
      "plan --model llama-2-7b --trace " + trace +
      " --rate 2 --duration 10 --seed 5 --slo " + slo +
      " --chips h100 --modes colocated --budget-machines 1 --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(out + "/inputs.json");
  const std::string json((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  v1::RunInputs inputs;
  ASSERT_TRUE(ParseProtoJson(json, "inputs.json", &inputs).ok()) << json;
  EXPECT_EQ(inputs.command(), "plan");
  EXPECT_EQ(inputs.seed(), 5u);
  EXPECT_THAT(inputs.command_line(), HasSubstr("--budget-machines 1"));
  EXPECT_EQ(inputs.plan_request().workload().seed(), 5u);
  EXPECT_EQ(inputs.plan_request().model(), "llama-2-7b");
  EXPECT_FALSE(inputs.commit().empty());
  ASSERT_EQ(inputs.files_size(), 2);
  EXPECT_EQ(inputs.files(0).sha256(), *Sha256FileHex(trace));
  EXPECT_EQ(inputs.files(1).role(), "slo");
  EXPECT_EQ(inputs.files(1).sha256(), *Sha256FileHex(slo));
}

// SIGTERM to plan mid-search leaves no simulation running and no file in
// --out (neither plan.json nor a temporary).
TEST(PlanCommandTest, SigtermLeavesNoSimulationAndNoPartialFile) {
  const std::string out =
      ::testing::TempDir() + "/plan_sigterm_" + std::to_string(getpid());
  std::filesystem::remove_all(out);
  const std::string binary = std::string(FLEETSIM_BINARY_DIR) + "/fleetsim";
  const std::string trace =
      std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/azure_2023_conv.csv";
  pid_t plan = fork();
  ASSERT_GE(plan, 0);
  if (plan == 0) {  // a search of long simulations
    execl(binary.c_str(), "fleetsim", "plan", "--model", "llama-2-70b",
          "--trace", trace.c_str(), "--rate", "4", "--duration", "100000",
          "--slo", "normal", "--jobs", "2", "--out", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::vector<pid_t> simulations = testutil::WaitForChildren(plan);
  EXPECT_FALSE(simulations.empty()) << "plan never started a simulation";
  kill(plan, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(plan, &status, 0), plan);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  for (pid_t simulation : simulations) {
    EXPECT_TRUE(
        testutil::WaitForProcessGone(simulation, std::chrono::seconds(30)))
        << simulation;
  }
  EXPECT_TRUE(std::filesystem::is_empty(out));
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace fleetsim
