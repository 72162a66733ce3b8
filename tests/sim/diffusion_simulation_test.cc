// Diffusion LM serving end to end: LLaDA-8B (arXiv:2502.09992) replayed on
// one H100 priced by the operator cost model, beside Llama-3-8B, an
// autoregressive model of the same size. What "How efficient are diffusion
// language models?" (arXiv:2510.18480) found must come out of the
// mechanism: with the dual cache (Fast-dLLM, arXiv:2505.22618) and
// parallel decoding the dLLM out-throughputs the AR model at batch 1, and
// the AR model out-throughputs it at larger batches; ODB-dLLM's
// (arXiv:2511.21759) two mechanisms each speed Fast-dLLM up. Every simulation
// runs in a child process.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/isolated_run.h"
#include "sim/scenario.h"
#include "tests/sim/sim_test_util.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;
using testutil::ShippedCatalogs;

constexpr int kPrompt = 256;
constexpr int kCanvas = 256;

// One H100 with batches of up to `batch` requests; `serving` is a
// DiffusionServing in text format (empty: autoregressive).
std::string ClusterText(int batch, const std::string& serving) {
  return testutil::OneH100ClusterText(
      serving.empty() ? "" : "diffusion_serving { " + serving + " }",
      "batching { max_batch_size: " + std::to_string(batch) + " }");
}

absl::StatusOr<SimulationInputs> Load(const std::string& model,
                                      const v1::Cluster& cluster,
                                      const std::string& cluster_path,
                                      int requests, int output = kCanvas) {
  ScenarioRequest request;
  request.catalogs = ShippedCatalogs();
  request.cluster = cluster;
  request.cluster_path = cluster_path;
  request.model = model;
  request.workload =
      testutil::BurstWorkload("dllm", requests, kPrompt, output, 0, /*seed=*/1);
  return LoadScenario(request);
}

// Output tokens per second of a burst of `batch` requests on a batch cap
// of `batch`, each answering `output` tokens; `serving` empty =
// Llama-3-8B, else LLaDA-8B served so.
double Throughput(int batch, const std::string& serving, int output = kCanvas) {
  v1::Cluster cluster;
  absl::Status parsed =
      ParseTextProto(ClusterText(batch, serving), "test", &cluster);
  EXPECT_TRUE(parsed.ok()) << parsed;
  absl::StatusOr<SimulationInputs> inputs = Load(
      serving.empty() ? "llama-3-8b" : "llada-8b", cluster, "", batch, output);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  if (!inputs.ok()) return 0;
  absl::StatusOr<v1::SimulationResult> result = RunSimulationInChild(*inputs);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return 0;
  EXPECT_EQ(result->completed(), batch);
  return result->output_tokens_per_s();
}

const char kVanilla[] =
    "canvas_tokens: 256 block_tokens: 32 cache: DIFFUSION_CACHE_NONE";
const char kDual[] =
    "canvas_tokens: 256 block_tokens: 32 cache: DIFFUSION_CACHE_DUAL";
// Fast-dLLM: dual cache and parallel decoding (an assumed 4 tokens a step).
const char kFastDllm[] =
    "canvas_tokens: 256 block_tokens: 32 cache: DIFFUSION_CACHE_DUAL "
    "tokens_per_step: 4";

TEST(DiffusionSimulationTest, DualCacheAndParallelDecodingSpeedUpALoneRequest) {
  // Vanilla's 512-token passes are compute-bound already; the dual cache's
  // 32-token passes read the weights for few tokens, and parallel decoding
  // needs fewer of them.
  const double vanilla = Throughput(1, kVanilla);
  const double dual = Throughput(1, kDual);
  EXPECT_GT(dual, 1.3 * vanilla);
  EXPECT_GT(Throughput(1, kFastDllm), 2 * dual);
}

TEST(DiffusionSimulationTest, ParallelDecodingGainsMostAtSmallBatch) {
  // At batch 1 a cached pass costs the weights' read whatever its tokens,
  // so fewer passes save their whole time; at batch 64 passes are
  // compute-bound and the refreshes, which parallel decoding does not
  // remove, weigh more.
  const double gain_1 = Throughput(1, kFastDllm) / Throughput(1, kDual);
  const double gain_64 = Throughput(64, kFastDllm) / Throughput(64, kDual);
  EXPECT_GT(gain_64, 1);
  EXPECT_LT(gain_64, 0.85 * gain_1);
}

TEST(DiffusionSimulationTest, AutoregressiveOutThroughputsTheDllmAtScale) {
  const double ratio_1 = Throughput(1, kFastDllm) / Throughput(1, "");
  const double ratio_64 = Throughput(64, kFastDllm) / Throughput(64, "");
  EXPECT_LT(ratio_64, 1);  // the AR model serves more tokens per second
  EXPECT_LT(ratio_64, 0.5 * ratio_1);
}

TEST(DiffusionSimulationTest, OdbMechanismsEachSpeedUpFastDllm) {
  const double fast = Throughput(1, kFastDllm);
  const double jump = Throughput(
      1, std::string(kFastDllm) + " speculative_copies: 3 steps_per_pass: 2");
  EXPECT_GT(jump, 1.2 * fast);
  // 100-token answers on the 256-token canvas: adaptive length keeps 4 of
  // its 8 blocks after the first pass.
  const double fast_short = Throughput(1, kFastDllm, 100);
  const double adaptive =
      Throughput(1, std::string(kFastDllm) + " adaptive_length: true", 100);
  EXPECT_GT(adaptive, 1.5 * fast_short);
}

// With adaptive length a request holds the whole canvas's K/V only through
// its first pass; then the dropped blocks are freed and more requests are
// admitted. 96 requests at once on a 3,072-token canvas (3,328 tokens with
// the prompt: about 33 of them fit an H100's KV) with 64-token answers
// (320 tokens each after the first pass): the batch outgrows what fits at
// the full canvas, and every request is served.
TEST(DiffusionSimulationTest, AnAdaptiveCanvasFreesItsDroppedBlocks) {
  v1::Cluster cluster;
  ASSERT_TRUE(ParseTextProto(ClusterText(96,
                                         "canvas_tokens: 3072 block_tokens: 32 "
                                         "cache: DIFFUSION_CACHE_DUAL "
                                         "tokens_per_step: 4 "
                                         "adaptive_length: true"),
                             "test", &cluster)
                  .ok());
  absl::StatusOr<SimulationInputs> inputs =
      Load("llada-8b", cluster, "", 96, /*output=*/64);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  const double fit_at_full_canvas =
      inputs->fleet.pools[0].RequestsHeld(kPrompt + 3072);
  ASSERT_LT(fit_at_full_canvas, 48);
  absl::StatusOr<v1::SimulationResult> result = RunSimulationInChild(*inputs);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->completed(), 96);
  EXPECT_GT(result->pools(0).mean_batch_size(), 1.2 * fit_at_full_canvas);
}

TEST(DiffusionSimulationTest, BadConfigsNameTheFileLineAndField) {
  const std::string path = ::testing::TempDir() + "/" +
                           std::to_string(getpid()) + "_dllm_cluster.txtpb";
  struct Case {
    std::string model;
    std::string serving;
    std::string message;
    std::string cluster_extra = "";  // more fields of the cluster
  };
  for (const Case& c : std::vector<Case>{
           // No room for a prompt in LLaDA's max_context of 4,096.
           {"llada-8b",
            "canvas_tokens: 4096 block_tokens: 32 cache: DIFFUSION_CACHE_NONE",
            "field 'diffusion_serving.canvas_tokens': 4096 tokens leave no "
            "room"},
           {"llada-8b", "canvas_tokens: 256 block_tokens: 32",
            "field 'diffusion_serving.cache'"},
           {"llada-8b",
            "canvas_tokens: 100 block_tokens: 32 cache: DIFFUSION_CACHE_DUAL",
            "field 'diffusion_serving.canvas_tokens': must be a positive "
            "multiple"},
           {"llada-8b",
            "canvas_tokens: 256 block_tokens: 32 cache: DIFFUSION_CACHE_NONE "
            "speculative_copies: 3",
            "field 'diffusion_serving.speculative_copies'"},
           {"llada-8b", "", "field 'diffusion_serving': unset"},
           {"llama-3-8b", kDual, "is autoregressive"},
           {"llada-8b", kDual,
            "field 'diffusion_serving': not simulated with prefix_caching yet",
            "prefix_caching: true\n"},
       }) {
    std::string text = ClusterText(1, "") + "\n" + c.cluster_extra;
    if (!c.serving.empty())
      text += "diffusion_serving {\n  " + c.serving + "\n}\n";
    std::ofstream(path) << text;
    absl::StatusOr<SimulationInputs> inputs =
        Load(c.model, v1::Cluster(), path, 1);
    ASSERT_FALSE(inputs.ok()) << c.serving;
    EXPECT_THAT(inputs.status().message(), HasSubstr(c.message)) << c.serving;
    if (c.serving.empty() || c.model != "llada-8b") continue;
    // At a line of the file (the field's, or its enclosing message's when
    // the field was not written).
    const std::string where(
        inputs.status().message().substr(0, path.size() + 2));
    EXPECT_TRUE(where.size() == path.size() + 2 && where.back() >= '1' &&
                where.back() <= '9' &&
                where.substr(0, path.size() + 1) == path + ":")
        << inputs.status().message();
  }
}

}  // namespace
}  // namespace fleetsim::sim
