// Test-time scaling end to end (ATTS, arXiv:2509.15148): a cluster with N
// samples per request in R rounds is loaded and replayed on Llama-3-8B and
// one H100 priced by the cost model; on the same draws the synchronous
// barrier never serves faster than the asynchronous pipeline, and the
// samples' KV counts when a request is admitted. Every simulation runs in
// a child process (one SimGrid engine each).

#include <algorithm>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/latency_model.h"
#include "sim/isolated_run.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
#include "sim/test_time_scaling.h"
#include "tests/sim/sim_test_util.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

using testutil::ShippedCatalogs;

// One H100 serving Llama-3-8B; `scaling` is a TestTimeScaling in text
// format (empty: none).
v1::Cluster OneH100(const std::string& scaling) {
  const std::string text = testutil::OneH100ClusterText(
      scaling.empty() ? "" : "test_time_scaling { " + scaling + " }");
  v1::Cluster cluster;
  absl::Status status = ParseTextProto(text, "test", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

// `requests` requests of `prompt` + `output` tokens, all arriving at once.
v1::Workload Burst(int requests, int prompt, int output) {
  return testutil::BurstWorkload("tts", requests, prompt, output, 0.5,
                                 /*seed=*/5);
}

// Output tokens of every sample over the run.
double OutputTokens(const v1::SimulationResult& result) {
  return result.output_tokens_per_s() * result.simulated_s();
}

// `requests_csv`, when not empty, receives the run's requests.csv.
absl::StatusOr<v1::SimulationResult> Replay(
    const v1::Cluster& cluster, const v1::Workload& workload,
    const std::string& requests_csv = "") {
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  request.cluster = cluster;
  request.model = "llama-3-8b";
  request.workload = workload;
  FLEETSIM_ASSIGN_OR_RETURN(SimulationInputs inputs, LoadScenario(request));
  return RunSimulationInChild(inputs, requests_csv);
}

TEST(TestTimeScalingSimulationTest, SynchronousRoundsNeverServeFaster) {
  // 8 samples in 4 rounds of a 512-token prompt and ~256 tokens each.
  for (int requests : {1, 32}) {
    const v1::Workload burst = Burst(requests, 512, 256);
    auto sync = Replay(OneH100("samples: 8 rounds: 4 barrier: "
                               "TEST_TIME_SCALING_BARRIER_SYNCHRONOUS"),
                       burst);
    auto async = Replay(OneH100("samples: 8 rounds: 4 barrier: "
                                "TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS"),
                        burst);
    ASSERT_TRUE(sync.ok()) << sync.status();
    ASSERT_TRUE(async.ok()) << async.status();
    EXPECT_EQ(sync->completed(), requests);
    EXPECT_EQ(async->completed(), requests);
    EXPECT_EQ(sync->preemptions(), 0);
    // Equal budget: the same draws, so the same tokens generated.
    EXPECT_NEAR(OutputTokens(*sync), OutputTokens(*async),
                1e-9 * OutputTokens(*async));
    EXPECT_GT(OutputTokens(*async), requests * 8 * 200);
    EXPECT_GT(async->output_tokens_per_s(), sync->output_tokens_per_s())
        << requests;
    EXPECT_LT(async->e2e_s().mean(), sync->e2e_s().mean()) << requests;
  }
}

TEST(TestTimeScalingSimulationTest, WithoutSpreadTheBarrierCostsNothing) {
  const std::string no_spread = "samples: 4 rounds: 3 length_spread: 0 ";
  const v1::Workload burst = Burst(4, 256, 120);
  auto sync = Replay(
      OneH100(no_spread + "barrier: TEST_TIME_SCALING_BARRIER_SYNCHRONOUS"),
      burst);
  auto async = Replay(
      OneH100(no_spread + "barrier: TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS"),
      burst);
  ASSERT_TRUE(sync.ok()) << sync.status();
  ASSERT_TRUE(async.ok()) << async.status();
  EXPECT_NEAR(OutputTokens(*sync), 4 * 4 * 120, 1e-6);
  // Equal up to the decode-run interpolation (SimulationInputs::
  // decode_stride), which the sync run's barriers anchor differently.
  EXPECT_NEAR(sync->e2e_s().mean(), async->e2e_s().mean(),
              1e-9 * async->e2e_s().mean());
}

TEST(TestTimeScalingSimulationTest, TheSamplesKvCountsAtAdmission) {
  // A 1,000-token prompt with 100,000 output tokens fits one H100's KV
  // (~430k tokens of Llama-3-8B) as one sequence but not as 8 samples.
  // Past the model's 8k context, served as given (CONTEXT_LIMIT_ALLOW).
  const v1::Workload long_output = Burst(1, 1000, 100000);
  v1::Cluster single_cluster = OneH100("");
  v1::Cluster eight_cluster = OneH100(
      "samples: 8 rounds: 1 barrier: "
      "TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS length_spread: 0");
  single_cluster.set_context_limit(v1::CONTEXT_LIMIT_ALLOW);
  eight_cluster.set_context_limit(v1::CONTEXT_LIMIT_ALLOW);
  auto single = Replay(single_cluster, long_output);
  auto eight = Replay(eight_cluster, long_output);
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_TRUE(eight.ok()) << eight.status();
  EXPECT_EQ(single->rejected(), 0);
  EXPECT_EQ(eight->rejected(), 1);
}

// A request's samples against Llama-3-8B's max_context of 8,192 tokens:
// 7,000-token prompts whose 800-token outputs fit (7,800), while the
// samples' drawn lengths (4 samples of 2 rounds, spread 0.5) go past the
// 1,192 tokens of room in some requests. The expected outcome of each
// request is worked out here from its draws, apart from the simulator.
TEST(TestTimeScalingSimulationTest, SamplesPastMaxContextObeyTheContextLimit) {
  constexpr int kRequests = 6;
  constexpr int kSamples = 4;
  constexpr int kRounds = 2;
  constexpr int64_t kRoom = 8192 - 7000;
  const v1::Workload burst = Burst(kRequests, 7000, 800);
  TestTimeScalingSpec spec;
  spec.samples = kSamples;
  spec.rounds = kRounds;
  spec.length_spread = 0.5;
  // Per request: its samples' drawn tokens, and each one cut to the room.
  std::vector<int64_t> drawn(kRequests), cut(kRequests);
  std::vector<int> over(kRequests);
  for (int id = 0; id < kRequests; ++id) {
    std::vector<int32_t> rounds = DrawRoundTokens(spec, burst.seed(), id, 800);
    for (int s = 0; s < kSamples; ++s) {
      int64_t tokens = rounds[s * kRounds] + rounds[s * kRounds + 1];
      drawn[id] += tokens;
      cut[id] += std::min(tokens, kRoom);
      over[id] += tokens > kRoom ? 1 : 0;
    }
  }
  const int requests_over = static_cast<int>(std::count_if(
      over.begin(), over.end(), [](int samples) { return samples > 0; }));
  const int samples_over = std::accumulate(over.begin(), over.end(), 0);
  // Both kinds of request are in the burst.
  ASSERT_GT(requests_over, 0);
  ASSERT_LT(requests_over, kRequests);

  const std::string scaling =
      "samples: 4 rounds: 2 length_spread: 0.5 barrier: "
      "TEST_TIME_SCALING_BARRIER_SYNCHRONOUS";
  for (v1::ContextLimit policy :
       {v1::CONTEXT_LIMIT_REJECT, v1::CONTEXT_LIMIT_TRUNCATE,
        v1::CONTEXT_LIMIT_ALLOW}) {
    SCOPED_TRACE(v1::ContextLimit_Name(policy));
    v1::Cluster cluster = OneH100(scaling);
    cluster.set_context_limit(policy);
    const std::string csv = ::testing::TempDir() + "/tts_context_" +
                            v1::ContextLimit_Name(policy) + ".csv";
    auto result = Replay(cluster, burst, csv);
    ASSERT_TRUE(result.ok()) << result.status();
    const bool reject = policy == v1::CONTEXT_LIMIT_REJECT;
    EXPECT_EQ(result->rejected(), reject ? requests_over : 0);
    EXPECT_EQ(result->completed(), kRequests - result->rejected());
    EXPECT_EQ(result->rejected_over_context(), reject ? requests_over : 0);
    EXPECT_EQ(result->truncated_over_context(),
              policy == v1::CONTEXT_LIMIT_TRUNCATE ? requests_over : 0);
    EXPECT_EQ(result->served_over_context(),
              policy == v1::CONTEXT_LIMIT_ALLOW ? requests_over : 0);
    EXPECT_EQ(result->samples_over_context(), samples_over);
    // requests.csv: every request's prompt and the tokens of its samples
    // served (cut ones under TRUNCATE; a rejected one's as drawn).
    std::ifstream rows(csv);
    std::string line;
    std::getline(rows, line);  // header
    int seen = 0;
    while (std::getline(rows, line)) {
      std::vector<std::string> cells = absl::StrSplit(line, ',');
      ASSERT_GE(cells.size(), 14u) << line;
      const int id = std::stoi(cells[0]);
      ASSERT_LT(id, kRequests);
      EXPECT_EQ(cells[2], "7000");
      const bool cut_here = policy == v1::CONTEXT_LIMIT_TRUNCATE;
      EXPECT_EQ(std::stoll(cells[3]), cut_here ? cut[id] : drawn[id]) << id;
      EXPECT_EQ(cells[13], reject && over[id] > 0 ? "1" : "0") << id;
      ++seen;
    }
    EXPECT_EQ(seen, kRequests);
  }
}

// ATTS's scoring pass between rounds, on a lone request of 4 samples in 3
// rounds of 50 tokens each (no spread): after rounds 0 and 1 every sample
// waits while its 50 tokens are scored over the prompt and its earlier
// rounds, in an iteration of its own (nothing else runs). The request ends
// later by exactly those two iterations' time, priced here by the pool's
// own cost model; synchronous and asynchronous coincide without spread.
TEST(TestTimeScalingSimulationTest, ScoringBetweenRoundsAddsItsPasses) {
  const std::string scaling =
      "samples: 4 rounds: 3 length_spread: 0 barrier: "
      "TEST_TIME_SCALING_BARRIER_SYNCHRONOUS";
  const v1::Workload lone = Burst(1, 512, 150);
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  request.cluster = OneH100(scaling + " score_between_rounds: true");
  request.model = "llama-3-8b";
  request.workload = lone;
  absl::StatusOr<SimulationInputs> inputs = LoadScenario(request);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  auto latency = CreateLatencyModel(inputs->fleet, inputs->fleet.pools[0]);
  ASSERT_TRUE(latency.ok()) << latency.status();
  double scoring_s = 0;
  for (int round : {0, 1}) {
    hardware::BatchShape pass;
    for (int s = 0; s < 4; ++s) pass.AddPrefillChunk(50, 512 + 50 * round);
    scoring_s += (*latency)->IterationSeconds(pass);
  }
  auto plain = Replay(OneH100(scaling), lone);
  auto scored = RunSimulationInChild(*inputs);
  auto scored_async =
      Replay(OneH100("samples: 4 rounds: 3 length_spread: 0 barrier: "
                     "TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS "
                     "score_between_rounds: true"),
             lone);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(scored.ok()) << scored.status();
  ASSERT_TRUE(scored_async.ok()) << scored_async.status();
  EXPECT_EQ(OutputTokens(*scored), OutputTokens(*plain));
  EXPECT_DOUBLE_EQ(scored->ttft_s().mean(), plain->ttft_s().mean());
  EXPECT_GT(scoring_s, 0);
  EXPECT_NEAR(scored->e2e_s().mean() - plain->e2e_s().mean(), scoring_s,
              1e-9 * plain->e2e_s().mean());
  EXPECT_NEAR(scored_async->e2e_s().mean(), scored->e2e_s().mean(),
              1e-9 * scored->e2e_s().mean());
}

TEST(TestTimeScalingSimulationTest, ScoredSynchronousRoundsNeverServeFaster) {
  // As SynchronousRoundsNeverServeFaster, with the scoring pass: it costs
  // time in both modes, and the barrier still costs the synchronous one.
  for (int requests : {1, 32}) {
    const v1::Workload burst = Burst(requests, 512, 256);
    auto run = [&burst](const std::string& barrier, bool score) {
      return Replay(
          OneH100("samples: 8 rounds: 4 barrier: "
                  "TEST_TIME_SCALING_BARRIER_" +
                  barrier + (score ? " score_between_rounds: true" : "")),
          burst);
    };
    auto sync = run("SYNCHRONOUS", true);
    auto async = run("ASYNCHRONOUS", true);
    auto sync_plain = run("SYNCHRONOUS", false);
    auto async_plain = run("ASYNCHRONOUS", false);
    for (const auto* result : {&sync, &async, &sync_plain, &async_plain}) {
      ASSERT_TRUE(result->ok()) << result->status();
      EXPECT_EQ((*result)->completed(), requests);
    }
    EXPECT_NEAR(OutputTokens(*sync), OutputTokens(*async),
                1e-9 * OutputTokens(*async));
    EXPECT_GT(async->output_tokens_per_s(), sync->output_tokens_per_s())
        << requests;
    EXPECT_LT(async->e2e_s().mean(), sync->e2e_s().mean()) << requests;
    EXPECT_GT(sync->e2e_s().mean(), sync_plain->e2e_s().mean()) << requests;
    EXPECT_GT(async->e2e_s().mean(), async_plain->e2e_s().mean()) << requests;
  }
}

// TPOT is a sequence's time per token: 8 samples decoding side by side
// take one step per token each, in a larger batch, so their TPOT is no
// shorter than one sample's. (Dividing by every sample's tokens made it
// ~8x shorter, and TPOT/TBT targets ~8x easier.)
TEST(TestTimeScalingSimulationTest, TpotIsPerSequence) {
  const std::string common =
      "rounds: 1 length_spread: 0 barrier: "
      "TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS";
  const v1::Workload one = Burst(1, 256, 200);
  auto single = Replay(OneH100("samples: 1 " + common), one);
  auto eight = Replay(OneH100("samples: 8 " + common), one);
  ASSERT_TRUE(single.ok()) << single.status();
  ASSERT_TRUE(eight.ok()) << eight.status();
  EXPECT_GE(eight->tpot_s().mean(), single->tpot_s().mean());
  EXPECT_LT(eight->tpot_s().mean(), 2 * single->tpot_s().mean());
}

// Expert parallelism over attention groups prices decodes spread over the
// groups, while a request's samples share its prompt's KV in one: refused.
TEST(TestTimeScalingSimulationTest, ExpertParallelAttentionGroupsAreRefused) {
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  absl::Status parsed = ParseTextProto(
      R"pb(
        name: "ep"
        pools {
          role: POOL_ROLE_COLOCATED
          machine { chip: "h100" chips_per_machine: 8 }
          machines: 1
          tp: 1
          ep: 8
        }
        test_time_scaling {
          samples: 4
          rounds: 2
          barrier: TEST_TIME_SCALING_BARRIER_SYNCHRONOUS
        }
      )pb",
      "test", &request.cluster);
  ASSERT_TRUE(parsed.ok()) << parsed;
  request.model = "mixtral-8x7b";
  request.workload = Burst(1, 16, 16);
  absl::StatusOr<SimulationInputs> inputs = LoadScenario(request);
  EXPECT_EQ(inputs.status().code(), absl::StatusCode::kUnimplemented)
      << inputs.status();
  EXPECT_THAT(inputs.status().message(),
              HasSubstr("expert parallelism over data-parallel attention"));
}

TEST(TestTimeScalingSimulationTest, BadSettingsNameTheField) {
  const struct {
    std::string scaling;
    std::string message;
  } cases[] = {
      {"samples: 8 rounds: 2", "field 'test_time_scaling.barrier'"},
      {"samples: 0 rounds: 2 barrier: TEST_TIME_SCALING_BARRIER_SYNCHRONOUS",
       "samples"},
      {"samples: 300 rounds: 2 barrier: TEST_TIME_SCALING_BARRIER_SYNCHRONOUS",
       "field 'test_time_scaling.samples': 300 samples do not fit"},
      {"samples: 2 rounds: 2 length_spread: -1 barrier: "
       "TEST_TIME_SCALING_BARRIER_SYNCHRONOUS",
       "length_spread"},
  };
  for (const auto& c : cases) {
    ScenarioRequest request;
    request.catalogs = ShippedCatalogs();
    request.cluster = OneH100(c.scaling);
    request.model = "llama-3-8b";
    request.workload = Burst(1, 16, 16);
    absl::StatusOr<SimulationInputs> inputs = LoadScenario(request);
    EXPECT_EQ(inputs.status().code(), absl::StatusCode::kInvalidArgument)
        << c.scaling;
    EXPECT_THAT(inputs.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace fleetsim::sim
