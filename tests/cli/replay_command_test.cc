// `fleetsim replay` end to end: outputs, determinism, errors.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;

const std::string kSource = FLEETSIM_SOURCE_DIR;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// Runs replay on the SPAD cluster; returns the exit status. Its stdout goes
// to /dev/null unless `inherit_stdout`.
int Replay(const std::string& out, const std::string& extra = "",
           bool inherit_stdout = false) {
  std::string command =
      std::string(FLEETSIM_BINARY_DIR) + "/fleetsim replay --cluster " +
      kSource + "/data/clusters/spad.txtpb --model bloom-176b --trace " +
      kSource +
      "/data/traces/azure_2023_code.csv --rate 20 --duration 20 --seed 3 "
      "--slo normal --pool prefill=4 --pool decode=2 --cost-basis die --out " +
      out + " " + extra +
      (inherit_stdout ? " 2>/dev/null" : " >/dev/null 2>&1");
  return std::system(command.c_str());
}

TEST(ReplayCommandTest, WritesSummaryAndRequestsDeterministically) {
  std::string dir =
      ::testing::TempDir() + "/replay_" + std::to_string(getpid());
  ASSERT_EQ(Replay(dir + "/a"), 0);
  ASSERT_EQ(Replay(dir + "/b"), 0);
  std::string summary = Slurp(dir + "/a/summary.json");
  for (const char* key :
       {"\"requests\"", "\"completed\"", "\"ttft_s\"", "\"tbt_s\"", "\"e2e_s\"",
        "\"p50\"", "\"p90\"", "\"p99\"", "\"mean\"", "\"throughput_rps\"",
        "\"output_tokens_per_s\"", "\"energy_j\"", "\"fleet_cost\"",
        "\"fleet_tdp_w\"", "\"slo_met\"", "\"slo\""}) {
    EXPECT_THAT(summary, HasSubstr(key));
  }
  // 4 SPAD Prefill + 2 SPAD Decode machines: 4 x 0.477 + 2 x 0.877.
  EXPECT_THAT(summary, HasSubstr("\"fleet_cost\": 3.66"));
  EXPECT_EQ(summary, Slurp(dir + "/b/summary.json"));
  std::string csv = Slurp(dir + "/a/requests.csv");
  EXPECT_EQ(csv, Slurp(dir + "/b/requests.csv"));
  EXPECT_THAT(csv, HasSubstr("id,arrival_s,input_tokens,output_tokens"));
  // One row per request plus the header (~20 req/s x 20 s).
  long rows = std::count(csv.begin(), csv.end(), '\n') - 1;
  EXPECT_GT(rows, 300);
  EXPECT_LT(rows, 500);
}

// Stdout is a pipe nobody reads (`replay | head` after head has gone):
// printing stops at EPIPE, and the files, written before anything is
// printed, are whole; the run is not killed by SIGPIPE.
TEST(ReplayCommandTest, AClosedStdoutStillLeavesCompleteFiles) {
  std::string dir =
      ::testing::TempDir() + "/replay_epipe_" + std::to_string(getpid());
  ASSERT_EQ(Replay(dir + "/reference"), 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);  // no reader at all: every write to stdout fails
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(fds[1], STDOUT_FILENO);
    std::signal(SIGPIPE, SIG_DFL);  // as a shell starts it
    _exit(Replay(dir + "/piped", "", /*inherit_stdout=*/true) == 0 ? 0 : 1);
  }
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(Slurp(dir + "/piped/requests.csv"),
            Slurp(dir + "/reference/requests.csv"));
  EXPECT_EQ(Slurp(dir + "/piped/summary.json"),
            Slurp(dir + "/reference/summary.json"));
}

TEST(ReplayCommandTest, ADifferentSeedChangesTheRun) {
  std::string dir =
      ::testing::TempDir() + "/replay_seed_" + std::to_string(getpid());
  ASSERT_EQ(Replay(dir + "/a"), 0);
  ASSERT_EQ(Replay(dir + "/b", "--seed 4"), 0);
  EXPECT_NE(Slurp(dir + "/a/requests.csv"), Slurp(dir + "/b/requests.csv"));
}

TEST(ReplayCommandTest, BadInputsExitNonZero) {
  std::string dir =
      ::testing::TempDir() + "/replay_bad_" + std::to_string(getpid());
  EXPECT_NE(Replay(dir, "--pool nosuch=3"), 0);
  EXPECT_NE(Replay(dir, "--slo no_such_preset"), 0);
  EXPECT_NE(Replay(dir, "--rate -5"), 0);
}

// A trace with no rows, or a window past its end, simulates nothing: an
// error naming the trace, not "SLO met" (issue 16).
TEST(ReplayCommandTest, NothingToSimulateIsAnError) {
  const std::string empty = ::testing::TempDir() + "/empty_trace_" +
                            std::to_string(getpid()) + ".csv";
  std::ofstream(empty) << "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string cluster = "replay --cluster " + kSource +
                              "/data/clusters/default.txtpb " +
                              "--model bloom-176b --slo normal ";
  testutil::ExpectCliErrors(
      cluster,
      {{"--trace " + empty, 1, "no requests to simulate"},
       {"--trace " + kSource + "/data/traces/azure_2023_code.csv --start 1e7",
        1, "no requests to simulate"}});
  std::remove(empty.c_str());
}

// The example speculative-decoding cluster replays a Llama-3 model; a bad
// setting in a cluster file names the file, its line and the field.
// An expert-parallel instance over two machines sizes its cross-machine
// all-to-all for one token a decode; a speculative verify pass carries
// k + 1, so the combination is refused at the pool's field, not mispriced.
TEST(ReplayCommandTest, SpeculationOnAnInstanceAcrossMachinesIsRefused) {
  const std::string cluster = ::testing::TempDir() + "/replay_ep16_spec_" +
                              std::to_string(getpid()) + ".txtpb";
  std::ofstream(cluster)
      << "name: \"ep16\"\n"
         "speculative_decoding { draft_model: \"llama-3.2-1b\" "
         "draft_tokens: 2 acceptance_rate: 0.7 }\n"
         "pools { name: \"colocated\" role: POOL_ROLE_COLOCATED\n"
         "  machine { chip: \"h200\" } machines: 2 tp: 1 ep: 16\n"
         "  weight_dtype: DTYPE_FP8 }\n";
  const testutil::FleetsimRun run = testutil::RunFleetsim(
      "replay --cluster " + cluster + " --model deepseek-v3 --trace " +
      kSource + "/data/traces/azure_2023_conv.csv --rate 1 --duration 10");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr(":4:46: pool 'colocated': field 'ep' = 16: it exceeds "
                        "the machine's 8 chips, and an instance spanning "
                        "machines does not decode speculatively"));
  std::remove(cluster.c_str());
}

// DeepSeek-V3's MTP module drafts on the FP8 template; a model without
// MTP modules, or a draft model beside them, is named at the field.
TEST(ReplayCommandTest, MultiTokenPredictionReplaysAndBadSettingsAreNamed) {
  const std::string dir = ::testing::TempDir() + "/";
  const std::string prefix = "mtp_" + std::to_string(getpid()) + "_";
  auto write = [&](const std::string& name, const std::string& extra) {
    std::ofstream(dir + prefix + name)
        << "name: \"mtp\"\n"
           "pools { name: \"colocated\" role: POOL_ROLE_COLOCATED\n"
           "  machine { chip: \"h200\" } machines: 1 tp: 8\n"
           "  weight_dtype: DTYPE_FP8 }\n"
           "speculative_decoding {\n"
           "  multi_token_prediction: true\n"
           "  draft_tokens: 1 acceptance_rate: 0.85\n" +
               extra + "}\n";
    return dir + prefix + name;
  };
  const std::string trace = " --trace " + kSource +
                            "/data/traces/azure_2023_conv.csv --rate 1 "
                            "--duration 10 --seed 1";
  const std::string good = write("good.txtpb", "");
  testutil::FleetsimRun run = testutil::RunFleetsim(
      "replay --model deepseek-v3 --cluster " + good + trace);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("rejected 0  preemptions 0"));
  run = testutil::RunFleetsim("replay --model llama-3-8b --cluster " + good +
                              trace);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr(prefix + "good.txtpb:6:3: field "
                                 "'speculative_decoding.multi_token_"
                                 "prediction': 'llama-3-8b' has no "
                                 "multi-token-prediction modules"));
  const std::string both =
      write("both.txtpb", "  draft_model: \"llama-3.2-1b\"\n");
  run = testutil::RunFleetsim("replay --model deepseek-v3 --cluster " + both +
                              trace);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr(prefix + "both.txtpb:8:3: field "
                                 "'speculative_decoding.draft_model': "
                                 "multi_token_prediction drafts with the "
                                 "served model's own modules"));
  std::remove(good.c_str());
  std::remove(both.c_str());
}

TEST(ReplayCommandTest, SpeculativeDecodingReplaysAndBadSettingsAreNamed) {
  const std::string example = kSource + "/data/clusters/speculative_h100.txtpb";
  const std::string workload =
      " --model llama-3-70b --trace " + kSource +
      "/data/traces/azure_2023_conv.csv --rate 2 --duration 10 --seed 1";
  testutil::FleetsimRun run =
      testutil::RunFleetsim("replay --cluster " + example + workload);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("rejected 0  preemptions 0"));

  const std::string dir = ::testing::TempDir() + "/";
  const std::string prefix = "spec_" + std::to_string(getpid()) + "_";
  auto write = [&](const std::string& name, const std::string& from,
                   const std::string& to) {
    std::string text = Slurp(example);
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir + prefix + name) << text;
    return "--cluster " + dir + prefix + name;
  };
  const int rate_line = [&] {
    std::string text = Slurp(example);
    return 1 + static_cast<int>(std::count(
                   text.begin(), text.begin() + text.find("acceptance_rate"),
                   '\n'));
  }();
  testutil::ExpectCliErrors(
      "replay" + workload + " ",
      {{write("rate.txtpb", "acceptance_rate: 0.8", "acceptance_rate: 1.5"), 1,
        prefix + "rate.txtpb:" + std::to_string(rate_line) +
            ":3: field 'speculative_decoding.acceptance_rate' must be in [0, "
            "1]"},
       {write("draft.txtpb", "llama-3.2-1b", "llama-9"), 1,
        prefix + "draft.txtpb:" + std::to_string(rate_line - 2) +
            ":3: field 'speculative_decoding.draft_model': unknown name "
            "'llama-9'"},
       {write("k.txtpb", "draft_tokens: 4", "draft_tokens: 0"), 1,
        prefix + "k.txtpb:" + std::to_string(rate_line - 1) +
            ":3: field 'speculative_decoding.draft_tokens': must be in [1, "
            "64] (got 0)"}});
}

// A Mooncake prompt of 40k tokens on Llama-3-70B (max_context 8192) is
// rejected by default, counted by reason, and served cut to fit with
// --context-limit truncate; never served silently (issue 13).
TEST(ReplayCommandTest, RequestsOverMaxContextAreCountedByWhatHappened) {
  const std::string dir =
      ::testing::TempDir() + "/replay_context_" + std::to_string(getpid());
  const std::string base =
      "replay --cluster " + kSource +
      "/data/clusters/default.txtpb --model llama-3-70b --trace " + kSource +
      "/data/traces/mooncake_synthetic.jsonl --max-requests 20 --slo "
      "ttft_p99=600s --out ";
  testutil::FleetsimRun rejected = testutil::RunFleetsim(base + dir + "/a");
  EXPECT_EQ(rejected.exit_code, 0) << rejected.output;
  EXPECT_THAT(rejected.output,
              HasSubstr("over the model's max_context: 13 rejected, 0 "
                        "truncated, 0 served as given"));
  EXPECT_THAT(rejected.output, HasSubstr("SLO missed"));
  EXPECT_THAT(Slurp(dir + "/a/summary.json"),
              HasSubstr("\"rejected_over_context\": \"13\""));
  testutil::FleetsimRun truncated =
      testutil::RunFleetsim(base + dir + "/b --context-limit truncate");
  EXPECT_EQ(truncated.exit_code, 0) << truncated.output;
  EXPECT_THAT(truncated.output,
              HasSubstr("requests 20  completed 20  rejected 0"));
  EXPECT_THAT(truncated.output,
              HasSubstr("over the model's max_context: 0 rejected, 13 "
                        "truncated, 0 served as given"));
  EXPECT_THAT(Slurp(dir + "/b/summary.json"),
              HasSubstr("\"truncated_over_context\": \"13\""));
}

// Regressions (issue 16): hostile values that once aborted, hung or were
// ignored now exit 1 (2 for usage errors) naming the flag, or the file, line
// and field.
TEST(ReplayCommandTest, HostileValuesAreErrorsNamingTheirFlagOrField) {
  const std::string base = "replay --cluster " + kSource +
                           "/data/clusters/default.txtpb --model bloom-176b "
                           "--trace " +
                           kSource + "/data/traces/azure_2023_code.csv ";
  testutil::ExpectCliErrors(
      base,
      {{"--rate-scale 5e-324", 1, "--rate-scale"},
       {"--rate 1e9 --duration 1e6", 1, "exceed the per-run limit of 10000000"},
       {"--rate 10 --arrival gamma --gamma-cv 1e9 --duration 10", 1,
        "field 'gamma_cv' must be in [0.001, 100]"},
       {"--duration inf", 1, "field 'duration_s'"},
       {"--pool prefill=2147483647", 1, "exceed the per-run limit"},
       {"stray_word", 2,
        "replay takes no positional arguments, got 'stray_word'"}});

  const std::string cluster = ::testing::TempDir() + "/role99.txtpb";
  std::ofstream(cluster) << R"(name: "x"
pools {
  role: 99
  machine { chip: "h100" }
  machines: 1
}
)";
  testutil::FleetsimRun run = testutil::RunFleetsim(
      "replay --cluster " + cluster + " --model bloom-176b --trace " + kSource +
      "/data/traces/azure_2023_code.csv");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(
      run.output,
      HasSubstr(cluster + ":3:3: field 'pools[0].role' has no value 99"));
}

}  // namespace
}  // namespace fleetsim::cli
