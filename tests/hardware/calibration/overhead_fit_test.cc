// Tests for hardware/calibration/overhead_fit.h (the serving-stack overhead
// fitted against whole measured iterations) and the overhead options it
// ships.
#include "hardware/calibration/overhead_fit.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using ::testing::HasSubstr;
using testutil::H100;
using testutil::Llama2_7b;

TEST(OverheadFitTest, FrameworkOverheadFitRecoversAConstant) {
  std::vector<IterationSample> samples;
  for (int i = 1; i <= 6; ++i) {
    IterationSample s;
    s.kernel_s = 0.01 * i;
    s.layers = i % 2 ? 80 : 70;
    s.measured_s = s.kernel_s + 0.002 + 1e-4 * s.layers;
    samples.push_back(s);
  }
  OverheadFit both = FitFrameworkOverhead(samples, true);
  EXPECT_NEAR(both.iteration_overhead_s, 0.002, 1e-9);
  EXPECT_NEAR(both.layer_overhead_s, 1e-4, 1e-11);
  OverheadFit constant = FitFrameworkOverhead(samples, false);
  EXPECT_EQ(constant.layer_overhead_s, 0);
  EXPECT_NEAR(constant.iteration_overhead_s, 0.002 + 75e-4, 6e-4);
}

TEST(OverheadFitTest, OverheadOptionAddsPerLayerTime) {
  BatchShape b;
  b.AddDecode(1000);
  auto plain = OperatorModel::Create(Llama2_7b(), H100(), 1, 1);
  auto with = OperatorModel::Create(
      Llama2_7b(), H100(), 1, 1, OperatorModelOptions::WithSplitwiseOverhead());
  ASSERT_TRUE(plain.ok() && with.ok());
  // One request: 32 layers of the per-layer and the per-request term.
  EXPECT_NEAR((*with)->IterationSeconds(b) - (*plain)->IterationSeconds(b),
              32 * (OperatorModelOptions::kSplitwiseLayerOverheadS +
                    OperatorModelOptions::kSplitwiseRequestLayerOverheadS),
              1e-12);
  const IterationBreakdown e = (*with)->Explain(b);
  EXPECT_EQ(e.ops.front().name, "framework_overhead");
  EXPECT_NEAR(e.seconds, (*with)->IterationSeconds(b), 1e-15);
  OperatorModelOptions bad;
  bad.layer_overhead_s = -1;
  EXPECT_EQ(
      OperatorModel::Create(Llama2_7b(), H100(), 1, 1, bad).status().code(),
      absl::StatusCode::kInvalidArgument);
  bad = OperatorModelOptions();
  bad.request_layer_overhead_s = -1e-6;
  EXPECT_EQ(
      OperatorModel::Create(Llama2_7b(), H100(), 1, 1, bad).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// The serving-stack profile's per-request term: every request in the batch
// (decode requests and prefill chunks) adds layers * 3.65 us.
TEST(OverheadFitTest, ProfileChargesEveryRequestPerLayer) {
  OperatorModelOptions kernel_only;
  kernel_only.iteration_overhead_s = 0;
  kernel_only.layer_overhead_s = 0;
  auto plain = OperatorModel::Create(Llama2_7b(), H100(), 1, 1, kernel_only);
  auto with = OperatorModel::Create(
      Llama2_7b(), H100(), 1, 1, OperatorModelOptions::WithSplitwiseOverhead());
  ASSERT_TRUE(plain.ok() && with.ok());
  BatchShape b;
  for (int i = 0; i < 64; ++i) b.AddDecode(600);
  b.AddPrefillChunk(512, 0);
  EXPECT_NEAR((*with)->IterationSeconds(b) - (*plain)->IterationSeconds(b),
              32 * (OperatorModelOptions::kSplitwiseLayerOverheadS +
                    65 * OperatorModelOptions::kSplitwiseRequestLayerOverheadS),
              1e-12);
}

TEST(OverheadFitTest, ServingStackProfileFitRecoversBothTerms) {
  std::vector<IterationSample> samples;
  for (int batch : {1, 4, 16, 64}) {
    for (int layers : {70, 80}) {
      IterationSample s;
      s.kernel_s = 0.02 + 1e-4 * batch;
      s.layers = layers;
      s.requests = batch;
      s.attention_decode_s = 1e-5 * batch;
      s.measured_s = s.kernel_s + layers * (150e-6 + 4e-6 * batch);
      samples.push_back(s);
    }
  }
  const OverheadFit fit = FitServingStackProfile(samples);
  EXPECT_NEAR(fit.layer_overhead_s, 150e-6, 1e-12);
  EXPECT_NEAR(fit.request_layer_overhead_s, 4e-6, 1e-13);
  EXPECT_EQ(fit.iteration_overhead_s, 0);
  EXPECT_NEAR(fit.Overhead(samples.back()),
              samples.back().measured_s - samples.back().kernel_s, 1e-12);
  // The alternative cannot go negative and keeps its per-layer term.
  const OverheadFit alt = FitDecodeAttentionScale(samples);
  EXPECT_GE(alt.attention_scale, 0);
  EXPECT_GT(alt.layer_overhead_s, 0);
  EXPECT_EQ(alt.request_layer_overhead_s, 0);
}

TEST(OverheadFitTest, ReadsSplitwisePerfModelMedians) {
  const std::string path = ::testing::TempDir() + "/perf_model.csv";
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,peak_power,"
         "average_power,prompt_time,token_time,e2e_time,tensor_parallel\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,80,30,1,4\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,90,31,1,4\n"
         "llama2-70b,h100-80gb,512,1,128,1,1,85,32,1,4\n"
         "llama2-70b,h100-80gb-pcap,512,1,128,1,1,110,30,1,4\n";
  }
  auto points = ReadSplitwisePerfModel(path);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 1u);  // pcap rows skipped
  EXPECT_DOUBLE_EQ((*points)[0].prompt_s, 0.085);
  EXPECT_DOUBLE_EQ((*points)[0].token_s, 0.031);
  EXPECT_EQ((*points)[0].repetitions, 3);
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
         "token_time,tensor_parallel\nllama2-70b,h100-80gb,abc,1,1,1,1,4\n";
  }
  points = ReadSplitwisePerfModel(path);
  EXPECT_EQ(points.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(points.status().message(), HasSubstr(":2:"));
  // A batch faster than half of it is flagged, its half is not.
  {
    std::ofstream f(path);
    f << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
         "token_time,tensor_parallel\n"
         "llama2-70b,h100-80gb,512,32,128,2398,52,2\n"
         "llama2-70b,h100-80gb,512,64,128,361,42,2\n"
         "llama2-70b,h100-80gb,512,16,128,1192,42,2\n";
  }
  points = ReadSplitwisePerfModel(path);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 3u);
  for (const IterationPoint& p : *points)
    EXPECT_EQ(p.inconsistent, p.batch == 64) << p.batch;
}

}  // namespace
}  // namespace fleetsim::hardware
