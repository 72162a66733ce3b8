// Image requests for a deformable-attention detector in a replay (issue 14
// item 5; Deformable DETR, arXiv:2010.04159; QUILL, arXiv:2511.13679): one
// prefill-only request an image on a colocated H100, no decode phase, and
// what the simulator refuses for images, at the cluster file's field.
// Every simulation runs in a child process (one SimGrid engine each).

#include <cctype>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "hardware/deformable_detr_model.h"
#include "sim/image_serving.h"
#include "sim/isolated_run.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
#include "tests/sim/sim_test_util.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

// A pool whose token budget holds 4 whole 800 x 1333 images (22,223
// tokens each).
constexpr char kWholeImages[] = "batching { max_batch_tokens: 100000 }";

v1::Workload ImageWorkload(double rate, double duration_s,
                           int64_t max_requests = 0) {
  v1::Workload w;
  w.mutable_images();
  w.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  w.set_rate_per_s(rate);
  w.set_duration_s(duration_s);
  w.set_max_requests(max_requests);
  w.set_seed(1);
  return w;
}

// The cluster text in a file, so errors carry its lines.
std::string ClusterFile(const std::string& tag, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" +
                           std::to_string(getpid()) + "_image_" + tag +
                           ".txtpb";
  std::ofstream(path) << text;
  return path;
}

absl::StatusOr<SimulationInputs> Load(const std::string& model,
                                      const std::string& cluster_text,
                                      const v1::Workload& workload) {
  ScenarioRequest request;
  request.catalogs = testutil::ShippedCatalogs();
  request.cluster_path = ClusterFile(model, cluster_text);
  request.model = model;
  request.workload = workload;
  return LoadScenario(request);
}

TEST(ImageSimulationTest, ImagesReplayAsPrefillOnlyRequests) {
  auto inputs =
      Load("deformable-detr", testutil::OneH100ClusterText("", kWholeImages),
           ImageWorkload(5, 10));
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  EXPECT_EQ(inputs->workload.images().encoder_tokens(), 22223);
  auto latency = CreateLatencyModel(inputs->fleet, inputs->fleet.pools[0]);
  ASSERT_TRUE(latency.ok()) << latency.status();
  hardware::BatchShape one;
  one.AddPrefillChunk(22223, 0);
  const double image_s = (*latency)->IterationSeconds(one);

  auto result = RunSimulationInChild(*inputs);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->requests(), 30);
  EXPECT_EQ(result->completed(), result->requests());
  EXPECT_EQ(result->rejected(), 0);
  // One output an image, with the prefill pass: no decode phase.
  EXPECT_NEAR(result->output_tokens_per_s(), result->throughput_rps(), 1e-9);
  EXPECT_DOUBLE_EQ(result->e2e_s().p50(), result->ttft_s().p50());
  EXPECT_GE(result->ttft_s().p50(), image_s * (1 - 1e-9));
  EXPECT_EQ(result->pools(0).decodes_kept(), 0);
}

// 64 images at once: a cache-local schedule (90 % of the sampler's reads
// on chip instead of 50 %) empties the queue sooner.
TEST(ImageSimulationTest, CacheLocalityShortensABurst) {
  auto raster =
      Load("deformable-detr", testutil::OneH100ClusterText("", kWholeImages),
           ImageWorkload(1e6, 10, 64));
  ASSERT_TRUE(raster.ok()) << raster.status();
  SimulationInputs local = *raster;
  local.fleet.model.mutable_deformable_detr()->set_cache_hit_fraction(0.9);
  auto r = RunSimulationInChild(*raster);
  auto l = RunSimulationInChild(local);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(r->completed(), 64);
  EXPECT_EQ(l->completed(), 64);
  EXPECT_LT(l->e2e_s().p99(), r->e2e_s().p99());
  EXPECT_GT(l->throughput_rps(), r->throughput_rps());
}

// Refused at the cluster file's field, with its line.
TEST(ImageSimulationTest, RefusesWhatImagesCannotDo) {
  const v1::Workload images = ImageWorkload(5, 10);
  auto disaggregated = Load("deformable-detr",
                            R"pb(name: "pd"
                                 pools {
                                   role: POOL_ROLE_PREFILL
                                   machine { chip: "h100" chips_per_machine: 1 }
                                   machines: 1
                                   tp: 1
                                 }
                                 pools {
                                   role: POOL_ROLE_DECODE
                                   machine { chip: "h100" chips_per_machine: 1 }
                                   machines: 1
                                   tp: 1
                                 })pb",
                            images);
  ASSERT_FALSE(disaggregated.ok());
  // "FILE.txtpb:LINE:COLUMN: field 'pools[0].role': ..."
  const std::string message(disaggregated.status().message());
  const size_t at = message.find(".txtpb:");
  ASSERT_NE(at, std::string::npos) << message;
  EXPECT_TRUE(std::isdigit(message[at + 7])) << message;
  EXPECT_NE(disaggregated.status().message().find("pools[0].role"),
            std::string::npos);

  auto speculative =
      Load("deformable-detr",
           testutil::OneH100ClusterText(
               "speculative_decoding { draft_model: \"llama-3.2-1b\" "
               "draft_tokens: 4 acceptance_rate: 0.8 }",
               kWholeImages),
           images);
  ASSERT_FALSE(speculative.ok());
  EXPECT_NE(speculative.status().message().find("speculative_decoding"),
            std::string::npos)
      << speculative.status();

  auto chunked = Load(
      "deformable-detr",
      testutil::OneH100ClusterText("", "batching { max_batch_tokens: 8192 }"),
      images);
  ASSERT_FALSE(chunked.ok());
  EXPECT_NE(chunked.status().message().find("max_batch_tokens"),
            std::string::npos)
      << chunked.status();

  auto tp8 = Load("deformable-detr",
                  R"pb(name: "tp8"
                       pools {
                         machine { chip: "h100" }
                         machines: 1
                       })pb",
                  images);
  ASSERT_FALSE(tp8.ok());
  EXPECT_NE(tp8.status().message().find("pools[0].tp"), std::string::npos)
      << tp8.status();

  // A detector with text requests, and a language model with images.
  auto text =
      Load("deformable-detr", testutil::OneH100ClusterText("", kWholeImages),
           testutil::BurstWorkload("detr", 4, 100, 10, 0));
  EXPECT_FALSE(text.ok());
  auto llm = Load("llama-3-8b", testutil::OneH100ClusterText(), images);
  EXPECT_FALSE(llm.ok());
}

}  // namespace
}  // namespace fleetsim::sim
