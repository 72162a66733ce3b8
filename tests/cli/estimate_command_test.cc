// `fleetsim estimate` (cli/estimate_command.cc) end to end on the shipped
// catalogs: JSON and table output, bad input as a clear non-zero exit.
#include <cmath>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "hardware/latency_model.h"
#include "sim/catalogs.h"
#include "sim/fleet.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
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

TEST(EstimateCommandTest, ExpertParallelismAddsTheAllToAll) {
  const RunResult r = RunFleetsim(
      "--model deepseek-v3 --chip h200 --tp 1 --ep 8 --weight-dtype fp8 "
      "--decode 64@1000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("TP1 EP8"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ep_dispatch"), std::string::npos);
  EXPECT_NE(r.output.find("ep_combine"), std::string::npos);
  // ep = tp: whole experts on the TP chips, the all-reduce combines.
  const RunResult tp_group = RunFleetsim(
      "--model deepseek-v3 --chip h200 --tp 8 --ep 8 --weight-dtype fp8 "
      "--decode 64@1000");
  ASSERT_EQ(tp_group.exit_code, 0) << tp_group.output;
  EXPECT_NE(tp_group.output.find("TP8 EP8"), std::string::npos);
  EXPECT_EQ(tp_group.output.find("ep_dispatch"), std::string::npos);
  const RunResult bad = RunFleetsim(
      "--model deepseek-v3 --chip h200 --tp 1 --ep 3 --weight-dtype fp8 "
      "--decode 64@1000");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("field 'ep' = 3"), std::string::npos) << bad.output;
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
  EXPECT_NE(r.output.find("does not divide the 32 attention heads"),
            std::string::npos)
      << r.output;
}

// The number after "KEY": in the JSON output; NaN when absent.
double JsonNumber(const std::string& json, const std::string& key) {
  std::smatch match;
  if (!std::regex_search(json, match,
                         std::regex("\"" + key + "\": ([-0-9.e+]+)"))) {
    return std::nan("");
  }
  return std::stod(match[1]);
}

TEST(EstimateCommandTest, IterationIsTheOneAReplayUses) {
  const RunResult r = RunFleetsim(
      "--model bloom-176b --chip h100 --tp 8 --prefill 1500 --decode 64@1500 "
      "--json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double iteration_s = JsonNumber(r.output, "iteration_s");
  const double kernel_s = JsonNumber(r.output, "kernel_s");
  const double overhead_s = JsonNumber(r.output, "serving_overhead_s");
  EXPECT_GT(overhead_s, 0);  // the serving-stack profile replays use
  EXPECT_NEAR(kernel_s + overhead_s, iteration_s, 1e-8 * iteration_s);

  // The same batch timed by the pool of a bundled H100 TP8 cluster.
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs =
      sim::Catalogs::Load(std::string(FLEETSIM_SOURCE_DIR) + "/data");
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  sim::ScenarioRequest scenario;
  scenario.catalogs = *catalogs;
  scenario.cluster_path =
      std::string(FLEETSIM_SOURCE_DIR) + "/data/clusters/colocated_h100.txtpb";
  scenario.model = "bloom-176b";
  scenario.workload.set_trace_path(std::string(FLEETSIM_SOURCE_DIR) +
                                   "/data/traces/azure_2023_conv.csv");
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(scenario);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  const sim::PoolSpec& pool = inputs->fleet.pools[0];
  ASSERT_EQ(pool.tp, 8);
  auto latency =
      sim::CreateLatencyModel(inputs->fleet, pool.chip, pool.tp, pool.pp);
  ASSERT_TRUE(latency.ok()) << latency.status();
  hardware::BatchShape batch;
  batch.AddPrefillChunk(1500, 0);
  for (int i = 0; i < 64; ++i) batch.AddDecode(1500);
  EXPECT_NEAR(iteration_s, (*latency)->IterationSeconds(batch),
              1e-8 * iteration_s);
}

TEST(EstimateCommandTest, ServesAPrecision) {
  // DeepSeek-V3 in FP8 as deployed fits 8 x H200; in BF16 it does not.
  RunResult r = RunFleetsim(
      "--model deepseek-v3 --chip h200 --tp 8 --decode 32@2000 "
      "--weight-dtype fp8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"batch_fits_kv\": true"), std::string::npos)
      << r.output;
  r = RunFleetsim("--model deepseek-v3 --chip h200 --tp 8 --decode 32@2000");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("does not fit"), std::string::npos) << r.output;
  r = RunFleetsim(
      "--model llama-3-8b --chip h100 --tp 1 --decode 8@100 --kv-dtype fp6");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--kv-dtype: 'fp6' is not bf16, fp16, fp8, int8 "
                          "or fp4"),
            std::string::npos)
      << r.output;
  r = RunFleetsim(
      "--model llama-3-8b --chip a100 --tp 1 --decode 8@100 "
      "--weight-dtype fp8");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("has no FP8 tensor peak"), std::string::npos)
      << r.output;
}

// The value of JSON field `field` in the operator object named `op`.
double OperatorField(const std::string& json, const std::string& op,
                     const std::string& field) {
  const size_t at = json.find("\"name\": \"" + op + "\"");
  if (at == std::string::npos) return -1;
  const size_t f = json.find("\"" + field + "\": ", at);
  if (f == std::string::npos) return -1;
  return std::stod(json.substr(f + field.size() + 4));
}

// FP4 weights on B200 (NVFP4 MLPs, 4.5 bits per weight, at the 9000 TFLOP/s
// FP4 peak), checked by hand on Llama-3-8B's mlp_down (k = 14336,
// n = 4096, 32 layers) for one 8192-token prompt.
TEST(EstimateCommandTest, ServesFp4WeightsOnAChipWithTheFp4Peak) {
  const RunResult r = RunFleetsim(
      "--model llama-3-8b --chip b200 --tp 1 --prefill 8192 "
      "--weight-dtype fp4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double k = 14336, n = 4096, m = 8192, layers = 32;
  const double flops = 2 * m * k * n;
  const double bytes = 4.5 / 8 * k * n + 2 * m * (k + n);
  // (The JSON prints 8 significant digits: 4-bit weights would be 1 % off.)
  EXPECT_NEAR(OperatorField(r.output, "mlp_down", "flops") / layers, flops,
              1e-7 * flops);
  EXPECT_NEAR(OperatorField(r.output, "mlp_down", "bytes") / layers, bytes,
              1e-7 * bytes);
  // FP8's GEMM efficiency carried to FP4 (ASSUMPTION; B200 has no GEMM
  // entry): eta_c 0.707 with 6.04 us of tile-loop latency, eta_m 1 with
  // 0.949 MB of ramp and 1590 parallel columns, terms added (p = 1); the
  // 8192 rows fill whole 128-row tiles.
  const double tensor_s = flops / (9000e12 * 0.707) + 6.04e-6;
  const double memory_s = (bytes + 0.949e6) / 8.0e12 * (n + 1590) / n;
  EXPECT_NEAR(OperatorField(r.output, "mlp_down", "seconds") / layers,
              tensor_s + memory_s, 1e-6 * (tensor_s + memory_s));
  // Attention's projections stay FP8: qkv_proj's weights take 1 byte each.
  const double qkv_k = 4096, qkv_n = (32 + 2 * 8) * 128;
  const double qkv_bytes = qkv_k * qkv_n + 2 * m * (qkv_k + qkv_n);
  EXPECT_NEAR(OperatorField(r.output, "qkv_proj", "bytes") / layers, qkv_bytes,
              1e-7 * qkv_bytes);
  // No FP4 tensor peak, no FP4 weights; no FP4 KV cache anywhere.
  RunResult refused = RunFleetsim(
      "--model llama-3-8b --chip h100 --tp 1 --decode 8@100 "
      "--weight-dtype fp4");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("FP4 weights, but chip 'h100' has no FP4 "
                                "tensor peak (fp4_tflops)"),
            std::string::npos)
      << refused.output;
  refused = RunFleetsim(
      "--model llama-3-8b --chip b200 --tp 1 --decode 8@100 --kv-dtype fp4");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("an FP4 KV cache is not modelled"),
            std::string::npos)
      << refused.output;
}

TEST(EstimateCommandTest, FrameworkPicksItsFittedKernels) {
  // H100 has GEMM and attention entries per framework
  // (data/chips/h100.txtpb): TRT-LLM's kernels time the same batch
  // differently from vLLM's, and no flag means the default, vLLM.
  const std::string batch =
      "--model llama-3-8b --chip h100 --prefill 2048 --decode 32@1000 --json";
  const RunResult trtllm = RunFleetsim(batch + " --framework trtllm");
  const RunResult vllm = RunFleetsim(batch + " --framework vllm");
  const RunResult plain = RunFleetsim(batch);
  ASSERT_EQ(trtllm.exit_code, 0) << trtllm.output;
  ASSERT_EQ(vllm.exit_code, 0) << vllm.output;
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(trtllm.output.find("\"framework\": \"trtllm\""), std::string::npos);
  EXPECT_NE(JsonNumber(trtllm.output, "iteration_s"),
            JsonNumber(vllm.output, "iteration_s"));
  EXPECT_EQ(vllm.output, plain.output);
  const RunResult bad = RunFleetsim(batch + " --framework tgi");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--framework: 'tgi' is not a serving framework"),
            std::string::npos)
      << bad.output;
}

TEST(EstimateCommandTest, KernelsPickTheChipsAlternativeKernels) {
  // The 910C's default MLA decode is AMLA's; --kernels flashmla prices a
  // FlashMLA-class one (data/chips/ascend_910c.txtpb), slower on a
  // compute-bound MLA decode (data-parallel attention, INT8 cache).
  const std::string batch =
      "--model deepseek-v3 --chip ascend_910c --tp 1 --ep 8 --weight-dtype "
      "int8 --kv-dtype int8 --decode 96@2000 --json";
  const RunResult amla = RunFleetsim(batch);
  const RunResult flashmla = RunFleetsim(batch + " --kernels flashmla");
  ASSERT_EQ(amla.exit_code, 0) << amla.output;
  ASSERT_EQ(flashmla.exit_code, 0) << flashmla.output;
  EXPECT_NE(flashmla.output.find("\"kernels\": [\n    \"flashmla\"\n  ]"),
            std::string::npos)
      << flashmla.output;
  EXPECT_GT(JsonNumber(flashmla.output, "iteration_s"),
            JsonNumber(amla.output, "iteration_s"));
  const RunResult bad = RunFleetsim(batch + " --kernels amla");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--kernels: chip 'ascend_910c' has no kernel "
                            "'amla' (its alternative kernels: flashmla)"),
            std::string::npos)
      << bad.output;
}

TEST(EstimateCommandTest, SaysWhenTheModelDoesNotFit) {
  const RunResult r =
      RunFleetsim("--model llama-2-70b --chip h100 --tp 1 --decode 8@100");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("model llama-2-70b does not fit"), std::string::npos)
      << r.output;
}

TEST(EstimateCommandTest, NotesABatchLargerThanTheKvCache) {
  const RunResult r =
      RunFleetsim("--model llama-2-70b --chip h100 --tp 8 --decode 512@4000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("a replay would never run this batch"),
            std::string::npos)
      << r.output;
}

// With a draft model the iteration is a speculative one: the target's
// verify pass plus the draft's steps, as a speculating pool times it.
TEST(EstimateCommandTest, TimesASpeculativeIteration) {
  const std::string base = "--model llama-3-8b --chip h100 --decode 4@640 ";
  const RunResult plain = RunFleetsim(base + "--json");
  const RunResult spec = RunFleetsim(
      base +
      "--draft-model llama-3.2-1b --draft-tokens 4 --acceptance 0.8 "
      "--json");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  ASSERT_EQ(spec.exit_code, 0) << spec.output;
  EXPECT_NE(spec.output.find("\"name\": \"draft_attn_decode\""),
            std::string::npos);
  EXPECT_NEAR(JsonNumber(spec.output, "tokens_per_step"), 3.3616, 1e-9);
  EXPECT_EQ(JsonNumber(plain.output, "tokens_per_step"), 1);
  // The draft's KV shares the instance's memory.
  EXPECT_LT(JsonNumber(spec.output, "instance_kv_capacity_tokens"),
            JsonNumber(plain.output, "instance_kv_capacity_tokens"));

  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs =
      sim::Catalogs::Load(std::string(FLEETSIM_SOURCE_DIR) + "/data");
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  sim::ScenarioRequest scenario;
  scenario.catalogs = *catalogs;
  scenario.cluster_path = std::string(FLEETSIM_SOURCE_DIR) +
                          "/data/clusters/speculative_h100.txtpb";
  scenario.model = "llama-3-8b";
  scenario.workload.set_trace_path(std::string(FLEETSIM_SOURCE_DIR) +
                                   "/data/traces/azure_2023_conv.csv");
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(scenario);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  sim::FleetSpec fleet = inputs->fleet;
  sim::PoolSpec& pool = fleet.pools[0];
  pool.tp = 1;  // the estimate's
  auto latency = sim::CreateLatencyModel(fleet, pool);
  ASSERT_TRUE(latency.ok()) << latency.status();
  hardware::BatchShape batch;
  for (int i = 0; i < 4; ++i) batch.AddDecode(640);
  const double iteration_s = JsonNumber(spec.output, "iteration_s");
  EXPECT_NEAR(iteration_s, (*latency)->IterationSeconds(batch),
              1e-8 * iteration_s);

  const RunResult no_acceptance =
      RunFleetsim(base + "--draft-model llama-3.2-1b");
  EXPECT_EQ(no_acceptance.exit_code, 2) << no_acceptance.output;
  EXPECT_NE(no_acceptance.output.find("--acceptance: with --draft-model"),
            std::string::npos)
      << no_acceptance.output;
  const RunResult unknown =
      RunFleetsim(base + "--draft-model tiny --acceptance 0.5");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("field 'speculative_decoding.draft_model': "
                                "unknown name 'tiny'"),
            std::string::npos)
      << unknown.output;
}

// A detector's images (Deformable DETR): the sampler's intensity in the
// table, and --images refused for a language model.
TEST(EstimateCommandTest, PricesImagesOfADetector) {
  const RunResult r = RunFleetsim(
      "--model deformable-detr --chip a100 --images 2 "
      "--cache-hit-fraction 0.9");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("FLOP/B"), std::string::npos);
  EXPECT_NE(r.output.find("enc_msda_sample"), std::string::npos);
  EXPECT_NE(r.output.find("44446 tokens"), std::string::npos) << r.output;

  const RunResult llm =
      RunFleetsim("--model llama-3-8b --chip h100 --images 2");
  EXPECT_NE(llm.exit_code, 0);
  EXPECT_NE(llm.output.find("language model"), std::string::npos) << llm.output;
  const RunResult no_images =
      RunFleetsim("--model deformable-detr --chip h100 --prefill 100");
  EXPECT_NE(no_images.exit_code, 0);
  EXPECT_NE(no_images.output.find("--images"), std::string::npos)
      << no_images.output;
}

}  // namespace
}  // namespace fleetsim::cli
