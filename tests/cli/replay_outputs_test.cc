// `fleetsim replay`'s outputs beyond the summary (cli/replay_outputs.h):
// inputs.json, operator totals and MFU in summary.json, timeseries.csv and
// --trace-events, end to end on the built binary.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/run_inputs.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "hardware/model_footprint.h"
#include "tests/cli/fleetsim_cli.h"
#include "util/csv.h"
#include "util/proto_json.h"
#include "util/sha256.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;

const std::string kSource = FLEETSIM_SOURCE_DIR;
const std::string kTrace = kSource + "/data/traces/azure_2023_code.csv";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

std::string Dir(const std::string& name) {
  return ::testing::TempDir() + "/replay_outputs_" + name + "_" +
         std::to_string(getpid());
}

// SPAD's disaggregated cluster, 20 s at 20 req/s; `extra` flags appended.
testutil::FleetsimRun Replay(const std::string& out,
                             const std::string& extra = "") {
  return testutil::RunFleetsim(
      "replay --cluster " + kSource +
      "/data/clusters/spad.txtpb --model bloom-176b --trace " + kTrace +
      " --rate 20 --duration 20 --seed 3 --slo normal --pool prefill=4 "
      "--pool decode=2 --cost-basis die --out " +
      out + " " + extra);
}

template <typename Message>
Message ReadJson(const std::string& path) {
  Message message;
  absl::Status parsed = ParseProtoJson(Slurp(path), path, &message);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return message;
}

TEST(ReplayOutputsTest, InputsJsonEchoesTheRunAndReruns) {
  const std::string dir = Dir("inputs");
  testutil::FleetsimRun run = Replay(dir + "/a");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const v1::RunInputs inputs = ReadJson<v1::RunInputs>(dir + "/a/inputs.json");
  EXPECT_EQ(inputs.schema(), "fleetsim.v1.RunInputs");
  EXPECT_EQ(inputs.command(), "replay");
  EXPECT_THAT(inputs.command_line(), HasSubstr("--seed 3"));
  EXPECT_EQ(inputs.seed(), 3u);
  EXPECT_THAT(inputs.pool_overrides(),
              ::testing::ElementsAre("prefill=4", "decode=2"));
  EXPECT_EQ(inputs.cluster().name(), "spad");
  EXPECT_EQ(inputs.model().name(), "bloom-176b");
  std::vector<std::string> chips;
  for (const v1::Chip& chip : inputs.chips()) chips.push_back(chip.name());
  EXPECT_THAT(chips,
              ::testing::IsSupersetOf({"spad_prefill", "spad_decode", "h100"}));
  EXPECT_GT(inputs.slo().targets_size(), 0);
  EXPECT_EQ(inputs.workload().rate_per_s(), 20);
  EXPECT_EQ(inputs.workload().trace_path(), kTrace);
  ASSERT_EQ(inputs.files_size(), 3);
  EXPECT_EQ(inputs.files(0).role(), "trace");
  EXPECT_EQ(inputs.files(0).sha256(), *Sha256FileHex(kTrace));
  EXPECT_EQ(inputs.files(1).role(), "cluster");
  EXPECT_EQ(inputs.files(2).role(), "slo");  // --slo normal: the preset's file
  EXPECT_THAT(inputs.files(2).path(), HasSubstr("/slos/normal.txtpb"));
  // The build, as --version prints it.
  testutil::FleetsimRun version = testutil::RunFleetsim("--version");
  EXPECT_FALSE(inputs.release().empty());
  EXPECT_THAT(version.output,
              HasSubstr(absl::StrCat("fleetsim ", inputs.release(), " (commit ",
                                     inputs.commit(), ", git describe ",
                                     inputs.fleetsim_version(), ")")));
  // The command line it echoes reruns the same simulation.
  const std::string rerun = absl::StrReplaceAll(inputs.command_line(),
                                                {{dir + "/a", dir + "/rerun"}});
  ASSERT_EQ(std::system((rerun + " >/dev/null 2>&1").c_str()), 0) << rerun;
  EXPECT_EQ(Slurp(dir + "/rerun/summary.json"), Slurp(dir + "/a/summary.json"));
}

// The echoed command line is quoted for a shell: an --out folder with a
// space and a quote in its name, and an empty --slo, rerun as typed.
TEST(ReplayOutputsTest, CommandLineQuotesWhatAShellWouldSplit) {
  const std::string out = Dir("quoted") + "/it's here";
  // The test's own shell quoting of the same words.
  testutil::FleetsimRun run = Replay("\"" + out + "\"", "--slo ''");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const v1::RunInputs inputs = ReadJson<v1::RunInputs>(out + "/inputs.json");
  EXPECT_THAT(inputs.command_line(), HasSubstr("--slo ''"));
  EXPECT_THAT(inputs.command_line(), HasSubstr("/it'\\''s here'"));
  const std::string summary = Slurp(out + "/summary.json");
  ASSERT_EQ(std::remove((out + "/summary.json").c_str()), 0);
  ASSERT_EQ(std::system((inputs.command_line() + " >/dev/null 2>&1").c_str()),
            0)
      << inputs.command_line();
  EXPECT_EQ(Slurp(out + "/summary.json"), summary);
}

// Operator totals: every pool's add up to its busy instance-seconds, and
// its tensor FLOPs to what the tokens served need: 2 FLOPs per parameter
// per token computed (prompt tokens, and one per decode step), plus
// attention and the prefills recomputed after this run's few preemptions
// (2 % together here).
TEST(ReplayOutputsTest, SummaryHasOperatorTotalsAndMfu) {
  const std::string dir = Dir("mfu");
  testutil::FleetsimRun run = Replay(dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("MFU "));
  const v1::SimulationResult r =
      ReadJson<v1::SimulationResult>(dir + "/summary.json");
  const v1::RunInputs inputs = ReadJson<v1::RunInputs>(dir + "/inputs.json");
  double flops = 0;
  for (const v1::PoolUsage& pool : r.pools()) {
    SCOPED_TRACE(pool.name());
    ASSERT_GT(pool.operators_size(), 5);
    double busy_s = 0, fraction = 0;
    for (const v1::OperatorTotal& op : pool.operators()) {
      busy_s += op.busy_s();
      fraction += op.busy_fraction();
    }
    EXPECT_NEAR(busy_s,
                pool.busy_fraction() * r.simulated_s() * pool.instances(),
                1e-6 * busy_s);
    EXPECT_NEAR(fraction, 1, 1e-9);
    EXPECT_GT(pool.mfu(), 0);
    EXPECT_LT(pool.mfu(), 1);
    flops += pool.model_flops();
  }
  EXPECT_GT(r.mfu(), std::min(r.pools(0).mfu(), r.pools(1).mfu()));
  EXPECT_LT(r.mfu(), std::max(r.pools(0).mfu(), r.pools(1).mfu()));
  std::map<std::string, double> by_name;
  for (const v1::OperatorTotal& op : r.operators())
    by_name[op.name()] = op.busy_s();
  for (const char* name : {"qkv_proj", "attn_prefill", "attn_decode", "mlp_up",
                           "allreduce", "framework_overhead"}) {
    EXPECT_GT(by_name[name], 0) << name;
  }

  const std::string csv = Slurp(dir + "/requests.csv");
  std::vector<std::string> header = SplitCsvLine(csv.substr(0, csv.find('\n')));
  const int in =
      std::find(header.begin(), header.end(), "input_tokens") - header.begin();
  const int out =
      std::find(header.begin(), header.end(), "output_tokens") - header.begin();
  double tokens = 0;
  size_t start = csv.find('\n') + 1;
  while (start < csv.size()) {
    size_t end = csv.find('\n', start);
    std::vector<std::string> row = SplitCsvLine(csv.substr(start, end - start));
    tokens += std::stod(row[in]) + std::stod(row[out]) - 1;
    start = end + 1;
  }
  const double per_token = 2 * hardware::ParameterCount(inputs.model());
  EXPECT_GT(flops / (per_token * tokens), 0.95);
  EXPECT_LT(flops / (per_token * tokens), 1.15);
}

TEST(ReplayOutputsTest, TimeSeriesOnlyWhenAskedAndBoundedByTheInterval) {
  const std::string dir = Dir("timeseries");
  ASSERT_EQ(Replay(dir + "/off").exit_code, 0);
  EXPECT_FALSE(Exists(dir + "/off/timeseries.csv"));
  testutil::FleetsimRun run =
      Replay(dir + "/on", "--timeseries-interval-s 0.5");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // Watching does not change the run.
  EXPECT_EQ(Slurp(dir + "/on/summary.json"), Slurp(dir + "/off/summary.json"));
  const v1::SimulationResult r =
      ReadJson<v1::SimulationResult>(dir + "/on/summary.json");
  const std::string csv = Slurp(dir + "/on/timeseries.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "time_s,instance,pool,batch_requests,prefill_tokens,"
            "decode_requests,kv_used_blocks,kv_used_fraction,kv_used_gib");
  std::map<int, double> last_tick;
  int rows = 0, busy_rows = 0, instances = 0;
  for (const v1::PoolUsage& pool : r.pools()) instances += pool.instances();
  size_t start = csv.find('\n') + 1;
  while (start < csv.size()) {
    size_t end = csv.find('\n', start);
    std::vector<std::string> row = SplitCsvLine(csv.substr(start, end - start));
    ASSERT_EQ(row.size(), 9u);
    const double t = std::stod(row[0]);
    const int instance = std::stoi(row[1]);
    const double tick = std::floor(t / 0.5);
    if (last_tick.count(instance)) {
      EXPECT_GT(tick, last_tick[instance]);
    }
    last_tick[instance] = tick;
    EXPECT_GE(std::stod(row[7]), 0);
    EXPECT_LE(std::stod(row[7]), 1);
    busy_rows += std::stoi(row[3]) > 0;
    ++rows;
    start = end + 1;
  }
  EXPECT_EQ(static_cast<int>(last_tick.size()), instances);
  EXPECT_LE(rows, instances * (r.simulated_s() / 0.5 + 1));
  EXPECT_GT(busy_rows, rows / 2);
}

TEST(ReplayOutputsTest, TraceEventsOfTheWindowParseAsJson) {
  const std::string dir = Dir("trace");
  const std::string trace = dir + "/trace.json";
  testutil::FleetsimRun run =
      Replay(dir, "--trace-events " + trace +
                      " --trace-events-start-s 5 --trace-events-window-s 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(Slurp(trace), &parsed).ok());
  int iterations = 0, begins = 0, ends = 0;
  std::map<std::string, int> names;
  for (const auto& v :
       parsed.fields().at("traceEvents").list_value().values()) {
    const auto& e = v.struct_value().fields();
    const std::string phase = e.at("ph").string_value();
    if (phase == "X") {
      ++iterations;
      ++names[e.at("name").string_value()];
      EXPECT_GE(e.at("ts").number_value(), 5e6);
      EXPECT_LT(e.at("ts").number_value(), 7e6);
    }
    begins += phase == "b";
    ends += phase == "e";
  }
  EXPECT_EQ(iterations, names["prefill"] + names["decode"] + names["mixed"]);
  EXPECT_GT(names["prefill"], 0);
  EXPECT_GT(names["decode"], 0);
  EXPECT_GT(begins, 0);  // disaggregated: KV transfers
  EXPECT_EQ(begins, ends);
  // The same run without the trace gives the same summary.
  ASSERT_EQ(Replay(dir + "/plain").exit_code, 0);
  EXPECT_EQ(Slurp(dir + "/summary.json"), Slurp(dir + "/plain/summary.json"));
}

// A file cut at its bound is named in summary.json and warned of; the
// time series keeps its first rows, the trace its first events.
TEST(ReplayOutputsTest, ACutFileIsNamedInTheSummary) {
  const std::string dir = Dir("cut");
  const std::string trace = dir + "/trace.json";
  testutil::FleetsimRun run =
      Replay(dir,
             "--timeseries-interval-s 0.5 --timeseries-max-rows 3 "
             "--trace-events " +
                 trace + " --trace-events-max-events 5");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const v1::SimulationResult r =
      ReadJson<v1::SimulationResult>(dir + "/summary.json");
  ASSERT_EQ(r.truncated_outputs_size(), 2);
  EXPECT_THAT(r.truncated_outputs(0),
              HasSubstr(trace + ": the first 5 events only"));
  EXPECT_THAT(r.truncated_outputs(1),
              HasSubstr("timeseries.csv: the first 3 rows only"));
  EXPECT_THAT(run.output, HasSubstr("warning: timeseries.csv: the first 3"));
  const std::string csv = Slurp(dir + "/timeseries.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(Slurp(trace), &parsed).ok());
  const auto& other = parsed.fields().at("otherData").struct_value().fields();
  EXPECT_TRUE(other.at("truncated").bool_value());
  // A KV transfer takes two events (its begin and end), so the cut may
  // stop below the bound.
  EXPECT_LE(other.at("events").number_value(), 5);
  EXPECT_GE(other.at("events").number_value(), 4);
  // Uncut, nothing is named.
  ASSERT_EQ(Replay(dir + "/whole", "--timeseries-interval-s 0.5").exit_code, 0);
  EXPECT_EQ(ReadJson<v1::SimulationResult>(dir + "/whole/summary.json")
                .truncated_outputs_size(),
            0);
}

TEST(ReplayOutputsTest, BadOutputFlagsAreErrors) {
  const std::string base = "replay --cluster " + kSource +
                           "/data/clusters/spad.txtpb --model bloom-176b "
                           "--trace " +
                           kTrace + " --rate 20 --duration 5 --cost-basis die ";
  testutil::ExpectCliErrors(
      base,
      {{"--timeseries-interval-s 1", 1, "into --out DIR"},
       {"--out " + Dir("bad") + " --timeseries-interval-s -1", 1,
        "--timeseries-interval-s must be >= 0"},
       {"--trace-events " + Dir("bad") + ".json --trace-events-window-s 0", 1,
        "--trace-events-window-s > 0"},
       {"--trace-events /nonexistent/dir/t.json", 1, "/nonexistent/dir"},
       {"--trace-events " + Dir("bad") + ".json --trace-events-max-events 0", 1,
        "--trace-events-max-events must be >= 1"}});
}

}  // namespace
}  // namespace fleetsim::cli
