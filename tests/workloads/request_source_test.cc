#include "workloads/request_source.h"

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::workloads {
namespace {

using ::testing::HasSubstr;

std::string DataTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/" + name;
}

v1::Workload ConvWorkload() {
  v1::Workload w;
  w.set_trace_path(DataTrace("azure_2023_conv.csv"));
  return w;
}

std::vector<Request> Drain(const v1::Workload& workload) {
  absl::StatusOr<std::unique_ptr<RequestSource>> source =
      RequestSource::Create(workload);
  EXPECT_TRUE(source.ok()) << source.status();
  std::vector<Request> out;
  if (!source.ok()) return out;
  Request request;
  while (true) {
    absl::StatusOr<bool> got = (*source)->Next(&request);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    out.push_back(request);
  }
  return out;
}

std::string ValidationError(const v1::Workload& workload) {
  absl::Status status = RequestSource::Validate(workload);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

// Mean and coefficient of variation of the gaps between arrivals (the first
// gap measured from 0).
void GapStats(const std::vector<Request>& requests, double* mean, double* cv) {
  double prev = 0, sum = 0, sum_sq = 0;
  for (const Request& r : requests) {
    double gap = r.arrival_s - prev;
    prev = r.arrival_s;
    sum += gap;
    sum_sq += gap * gap;
  }
  double n = static_cast<double>(requests.size());
  *mean = sum / n;
  double var = sum_sq / n - *mean * *mean;
  *cv = std::sqrt(var) / *mean;
}

TEST(RequestSourceTest, ReplayWholeTrace) {
  std::vector<Request> requests = Drain(ConvWorkload());
  ASSERT_EQ(requests.size(), 19366u);
  EXPECT_EQ(requests.front().arrival_s, 0.0);
  EXPECT_NEAR(requests.back().arrival_s, 3501.721937, 1e-6);
  EXPECT_EQ(requests.back().id, 19365);
}

TEST(RequestSourceTest, ReplayWindowAndRateScaleArithmetic) {
  // Splitwise toy trace: arrivals at 1, 3, 4 s -> 0, 2, 3 s after the first.
  v1::Workload w;
  w.set_trace_path(DataTrace("splitwise_test_trace.csv"));
  w.set_start_s(1.5);     // drops the request at 0
  w.set_duration_s(2.0);  // keeps [1.5, 3.5): t = 2 and 3
  w.set_rate_scale(2.0);
  std::vector<Request> requests = Drain(w);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].id, 0);
  EXPECT_DOUBLE_EQ(requests[0].arrival_s, (2.0 - 1.5) / 2.0);
  EXPECT_EQ(requests[0].input_tokens, 2048);
  EXPECT_EQ(requests[1].id, 1);
  EXPECT_DOUBLE_EQ(requests[1].arrival_s, (3.0 - 1.5) / 2.0);
  // The window end is exclusive: duration 1.5 keeps only t = 2.
  w.set_duration_s(1.5);
  EXPECT_EQ(Drain(w).size(), 1u);
}

TEST(RequestSourceTest, ReplayWindowOnTheConvTrace) {
  v1::Workload w = ConvWorkload();
  w.set_start_s(600);
  w.set_duration_s(600);
  w.set_rate_scale(4);
  std::vector<Request> requests = Drain(w);
  ASSERT_FALSE(requests.empty());
  // Count the same window straight from the full replay.
  size_t expected = 0;
  for (const Request& r : Drain(ConvWorkload())) {
    expected += r.arrival_s >= 600 && r.arrival_s < 1200;
  }
  EXPECT_EQ(requests.size(), expected);
  EXPECT_GE(requests.front().arrival_s, 0.0);
  EXPECT_LT(requests.back().arrival_s, 600.0 / 4);
  EXPECT_EQ(requests.back().id, static_cast<int64_t>(expected) - 1);
}

TEST(RequestSourceTest, MaxRequestsCapsReplay) {
  v1::Workload w = ConvWorkload();
  w.set_max_requests(10);
  std::vector<Request> requests = Drain(w);
  ASSERT_EQ(requests.size(), 10u);
  EXPECT_EQ(requests.back().id, 9);
}

// Image requests: no trace, every request one image in and one output.
TEST(RequestSourceTest, ImagesAreGeneratedWithoutATrace) {
  v1::Workload w;
  w.mutable_images()->set_encoder_tokens(22223);
  w.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  w.set_rate_per_s(50);
  w.set_duration_s(10);
  w.set_seed(3);
  const std::vector<Request> requests = Drain(w);
  EXPECT_NEAR(static_cast<double>(requests.size()), 500, 100);
  for (const Request& r : requests) {
    EXPECT_EQ(r.input_tokens, 22223);
    EXPECT_EQ(r.output_tokens, 1);
  }
  v1::Workload replayed = w;
  replayed.set_arrival(v1::ARRIVAL_PROCESS_UNSPECIFIED);
  replayed.set_rate_per_s(0);
  replayed.set_trace_path(DataTrace("azure_2023_conv.csv"));
  const std::string error = ValidationError(replayed);
  EXPECT_THAT(error, HasSubstr("field 'trace_path': not used with images"));
  EXPECT_THAT(error, HasSubstr("field 'images': needs arrival"));
}

TEST(RequestSourceTest, PoissonResamplingHitsTheRate) {
  v1::Workload w = ConvWorkload();
  w.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  w.set_rate_per_s(70);
  w.set_duration_s(600);
  w.set_seed(7);
  std::vector<Request> requests = Drain(w);
  // Expected 42,000 +- 205 (1 sigma); 2% is ~4 sigma.
  EXPECT_NEAR(static_cast<double>(requests.size()), 42000, 840);
  EXPECT_LT(requests.back().arrival_s, 600.0);
  double mean_gap = 0, cv = 0;
  GapStats(requests, &mean_gap, &cv);
  EXPECT_NEAR(mean_gap, 1.0 / 70, 0.02 / 70);
  EXPECT_NEAR(cv, 1.0, 0.03);  // exponential gaps
  // Lengths come from the pool: mean input ~1,154.7 (sd 1,109 -> se ~5.4).
  double input_sum = 0, output_sum = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_EQ(requests[i].id, static_cast<int64_t>(i));
    input_sum += requests[i].input_tokens;
    output_sum += requests[i].output_tokens;
  }
  EXPECT_NEAR(input_sum / requests.size(), 1154.7, 30);
  EXPECT_NEAR(output_sum / requests.size(), 211.1, 5);
}

TEST(RequestSourceTest, ResamplingIsDeterministicPerSeed) {
  v1::Workload w = ConvWorkload();
  w.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  w.set_rate_per_s(20);
  w.set_max_requests(2000);
  w.set_seed(42);
  auto key = [](const std::vector<Request>& requests) {
    std::vector<std::tuple<double, int32_t, int32_t>> out;
    for (const Request& r : requests) {
      out.emplace_back(r.arrival_s, r.input_tokens, r.output_tokens);
    }
    return out;
  };
  std::vector<Request> a = Drain(w);
  std::vector<Request> b = Drain(w);
  ASSERT_EQ(a.size(), 2000u);
  EXPECT_EQ(key(a), key(b));
  w.set_seed(43);
  std::vector<Request> c = Drain(w);
  ASSERT_EQ(c.size(), 2000u);
  EXPECT_NE(key(a), key(c));
  // Pinned values (glibc x86-64): a change here means the stream for a seed
  // changed, which breaks the reproducibility of earlier results. Update
  // only on purpose, and say so in the commit.
  EXPECT_NEAR(a[0].arrival_s, 0.014041577351785409, 1e-15);
  EXPECT_NEAR(a[2].arrival_s, 0.03336961728986057, 1e-15);
  EXPECT_EQ(a[0].input_tokens, 209);
  EXPECT_EQ(a[0].output_tokens, 217);
  EXPECT_EQ(a[2].input_tokens, 4083);
  w.set_seed(42);
  w.set_arrival(v1::ARRIVAL_PROCESS_GAMMA);
  w.set_gamma_cv(3);
  std::vector<Request> g = Drain(w);
  EXPECT_NEAR(g[2].arrival_s, 0.10295822331263281, 1e-15);
  EXPECT_EQ(g[2].input_tokens, 375);
}

TEST(RequestSourceTest, GammaArrivalsHaveTheRequestedCv) {
  for (double cv : {0.5, 2.0, 4.0}) {
    SCOPED_TRACE(cv);
    v1::Workload w = ConvWorkload();
    w.set_arrival(v1::ARRIVAL_PROCESS_GAMMA);
    w.set_rate_per_s(50);
    w.set_gamma_cv(cv);
    w.set_max_requests(200000);
    w.set_seed(3);
    std::vector<Request> requests = Drain(w);
    ASSERT_EQ(requests.size(), 200000u);
    double mean_gap = 0, observed_cv = 0;
    GapStats(requests, &mean_gap, &observed_cv);
    EXPECT_NEAR(mean_gap, 1.0 / 50, 0.03 / 50);
    EXPECT_NEAR(observed_cv, cv, 0.05 * cv);
  }
}

TEST(RequestSourceTest, LengthsOnlyTraceNeedsAGenerator) {
  v1::Workload w;
  w.set_trace_path(std::string(FLEETSIM_SOURCE_DIR) +
                   "/tests/testdata/traces/vidur_lengths_only.csv");
  absl::StatusOr<std::unique_ptr<RequestSource>> replay =
      RequestSource::Create(w);
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(replay.status().message(), HasSubstr("no timestamps"));
  w.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  w.set_rate_per_s(1);
  w.set_max_requests(50);
  std::vector<Request> requests = Drain(w);
  ASSERT_EQ(requests.size(), 50u);
  for (const Request& r : requests) {
    EXPECT_TRUE(r.input_tokens == 3772 || r.input_tokens == 2015 ||
                r.input_tokens == 100);
  }
}

// Regression (issue 16): values that made a run abort in SimGrid or
// generate requests without end are refused up front, naming the field and
// the CLI flag that sets it.
TEST(RequestSourceTest, ValuesPastTheRunLimitsAreRefused) {
  v1::Workload tiny_scale = ConvWorkload();
  tiny_scale.set_rate_scale(5e-324);
  EXPECT_THAT(ValidationError(tiny_scale),
              HasSubstr("field 'rate_scale' must be in [1e-06, 1e+06] (got "
                        "4.94066e-324); --rate-scale"));

  v1::Workload bursty = ConvWorkload();
  bursty.set_arrival(v1::ARRIVAL_PROCESS_GAMMA);
  bursty.set_rate_per_s(10);
  bursty.set_duration_s(10);
  bursty.set_gamma_cv(1e9);
  EXPECT_THAT(ValidationError(bursty),
              HasSubstr("field 'gamma_cv' must be in [0.001, 100]"));

  v1::Workload flood = ConvWorkload();
  flood.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  flood.set_rate_per_s(1e6);
  flood.set_duration_s(1e6);
  EXPECT_THAT(ValidationError(flood),
              HasSubstr("'rate_per_s' x 'duration_s' = 1e+12 requests "
                        "exceed the per-run limit of 10000000"));
  flood.set_max_requests(1000);  // bounded after all
  EXPECT_TRUE(RequestSource::Validate(flood).ok());

  v1::Workload late = ConvWorkload();
  late.set_rate_scale(1e-6);  // within range, but the trace's 3,500 s
                              // would end 3.5e9 s later
  absl::StatusOr<std::unique_ptr<RequestSource>> source =
      RequestSource::Create(late);
  ASSERT_TRUE(source.ok()) << source.status();
  Request request;
  absl::StatusOr<bool> got = true;
  while (got.ok() && *got) got = (*source)->Next(&request);
  EXPECT_THAT(got.status().message(),
              HasSubstr("past the simulated-time limit of 1e+08 s"));
}

TEST(RequestSourceTest, ValidationNamesEveryBadField) {
  v1::Workload w = ConvWorkload();
  w.set_rate_scale(-1);
  w.set_max_requests(-5);
  w.set_duration_s(std::nan(""));
  std::string message = ValidationError(w);
  EXPECT_THAT(message, HasSubstr("field 'rate_scale' = -1: must be >= 0"));
  EXPECT_THAT(message, HasSubstr("field 'max_requests' = -5"));
  EXPECT_THAT(message, HasSubstr("field 'duration_s' = nan"));

  v1::Workload endless = ConvWorkload();
  endless.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  endless.set_rate_per_s(10);
  EXPECT_THAT(ValidationError(endless),
              HasSubstr("'duration_s' and 'max_requests' are both 0"));

  v1::Workload no_rate = ConvWorkload();
  no_rate.set_arrival(v1::ARRIVAL_PROCESS_GAMMA);
  no_rate.set_duration_s(10);
  EXPECT_THAT(ValidationError(no_rate),
              HasSubstr("field 'rate_per_s' = 0: must be > 0"));

  v1::Workload negative_rate = no_rate;
  negative_rate.set_rate_per_s(-3);
  EXPECT_THAT(ValidationError(negative_rate),
              HasSubstr("field 'rate_per_s' = -3: must be >= 0"));

  v1::Workload rate_without_generator = ConvWorkload();
  rate_without_generator.set_rate_per_s(5);
  EXPECT_THAT(ValidationError(rate_without_generator),
              HasSubstr("field 'rate_per_s' = 5: needs arrival"));

  v1::Workload cv_with_poisson = endless;
  cv_with_poisson.set_duration_s(10);
  cv_with_poisson.set_gamma_cv(2);
  EXPECT_THAT(ValidationError(cv_with_poisson),
              HasSubstr("field 'gamma_cv' = 2: applies only to"));

  v1::Workload no_path;
  EXPECT_THAT(ValidationError(no_path), HasSubstr("field 'trace_path'"));

  EXPECT_TRUE(RequestSource::Validate(ConvWorkload()).ok());
  absl::StatusOr<std::unique_ptr<RequestSource>> created =
      RequestSource::Create(endless);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetsim::workloads
