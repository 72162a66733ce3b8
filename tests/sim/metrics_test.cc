#include "sim/metrics.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

// The row as it was first written, with snprintf: RequestCsvRow (which
// formats with std::to_chars for speed) must produce the same bytes.
std::string SnprintfRow(const RequestRecord& r) {
  char buf[512];
  std::snprintf(
      buf, sizeof(buf),
      "%lld,%.9g,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d,%d,%d,%d\n",
      static_cast<long long>(r.id), r.arrival_s, r.input_tokens,
      r.output_tokens, r.queue_s, r.ttft_s, r.tpot_s, r.e2e_s, r.completion_s,
      r.kv_transfer_s, r.preemptions, r.prefill_instance, r.decode_instance,
      r.rejected ? 1 : 0, r.met_slo ? 1 : 0);
  return buf;
}

TEST(RequestCsvRowTest, MatchesSnprintfOnEdgeValues) {
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                0.5,
                                1e-4,
                                1e-5,
                                9.99999999e-5,
                                0.000099999999949,
                                123456789.0,
                                1234567890.0,
                                999999999.5,
                                999999999.4,
                                1e9,
                                1e100,
                                -1e-300,
                                5e-324,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::min(),
                                0.1,
                                0.125,
                                2.5,
                                0.0420745914,
                                632.848842};
  for (double v : values) {
    RequestRecord r;
    r.id = -7;
    r.arrival_s = v;
    r.queue_s = -v;
    r.ttft_s = v * 3;
    r.tpot_s = v / 7;
    r.e2e_s = std::nextafter(v, 1.0);
    r.completion_s = std::nextafter(v, -1.0);
    r.kv_transfer_s = v * 1e-3;
    r.input_tokens = std::numeric_limits<int32_t>::max();
    r.output_tokens = std::numeric_limits<int32_t>::min();
    r.preemptions = -3;
    r.rejected = true;
    r.met_slo = false;
    EXPECT_EQ(RequestCsvRow(r), SnprintfRow(r)) << v;
  }
}

TEST(RequestCsvRowTest, MatchesSnprintfOnRandomValues) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(-12, 12);
  std::uniform_int_distribution<int64_t> any_int(
      std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  auto random_double = [&](int kind) {
    switch (kind % 3) {
      case 0:  // simulated times and durations
        return std::pow(10.0, exponent(rng));
      case 1: {  // any finite bit pattern
        uint64_t bits = static_cast<uint64_t>(any_int(rng));
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        return std::isfinite(d) ? d : 1.5;
      }
      default:  // short decimals, where rounding ties are likeliest
        return static_cast<double>(any_int(rng) % 100000000) / 1e4;
    }
  };
  for (int i = 0; i < 200000; ++i) {
    RequestRecord r;
    r.id = any_int(rng);
    r.arrival_s = random_double(i);
    r.queue_s = random_double(i + 1);
    r.ttft_s = random_double(i + 2);
    r.tpot_s = random_double(i);
    r.e2e_s = random_double(i + 1);
    r.completion_s = random_double(i + 2);
    r.kv_transfer_s = random_double(i);
    r.input_tokens = static_cast<int32_t>(any_int(rng));
    r.output_tokens = static_cast<int32_t>(any_int(rng));
    r.preemptions = static_cast<int>(any_int(rng) % 1000);
    r.prefill_instance = static_cast<int>(any_int(rng) % 100000);
    r.decode_instance = -1;
    r.rejected = i % 2 == 0;
    r.met_slo = i % 3 == 0;
    ASSERT_EQ(RequestCsvRow(r), SnprintfRow(r));
  }
}

// A request that arrived at 1 s, was first scheduled at 1.5 s, produced its
// first token at 2 s and its last (the 4th) at 5 s.
LiveRequest Finished(int64_t id, int32_t output_tokens = 4) {
  LiveRequest r;
  r.id = id;
  r.arrival_s = 1.0;
  r.input_tokens = 100;
  r.output_tokens = output_tokens;
  r.first_scheduled_s = 1.5;
  r.first_token_s = 2.0;
  r.last_token_s = 5.0;
  r.kv_transfer_s = 0.25;
  r.preemptions = 2;
  r.prefill_instance = 3;
  r.decode_instance = 7;
  return r;
}

TEST(MetricsCollectorTest, RecordFollowsTheMetricDefinitions) {
  RequestRecord r = MetricsCollector::MakeRecord(Finished(42), 5.5);
  EXPECT_EQ(r.id, 42);
  EXPECT_DOUBLE_EQ(r.queue_s, 0.5);
  EXPECT_DOUBLE_EQ(r.ttft_s, 1.0);
  EXPECT_DOUBLE_EQ(r.e2e_s, 4.0);
  EXPECT_DOUBLE_EQ(r.tpot_s, 1.0);  // (4 - 1) s over 3 gaps
  EXPECT_DOUBLE_EQ(r.completion_s, 5.5);
  EXPECT_DOUBLE_EQ(r.kv_transfer_s, 0.25);
  EXPECT_EQ(r.preemptions, 2);
  EXPECT_EQ(r.prefill_instance, 3);
  EXPECT_EQ(r.decode_instance, 7);
  EXPECT_FALSE(r.rejected);
  EXPECT_TRUE(r.met_slo);
  // One output token: no gaps, no TPOT.
  EXPECT_EQ(MetricsCollector::MakeRecord(Finished(1, 1), 5).tpot_s, 0);
}

// SimGrid's clock can land a hair before the arrival time it slept until.
TEST(MetricsCollectorTest, AWaitIsNeverNegative) {
  LiveRequest request = Finished(1);
  request.first_scheduled_s = request.arrival_s - 1e-13;
  EXPECT_EQ(MetricsCollector::MakeRecord(request, 5).queue_s, 0);
}

TEST(MetricsCollectorTest, RejectedRequestsMissTheSloAndHaveNoLatencies) {
  LiveRequest request = Finished(9);
  request.rejected = true;
  RequestRecord r = MetricsCollector::MakeRecord(request, 3);
  EXPECT_TRUE(r.rejected);
  EXPECT_FALSE(r.met_slo);
  EXPECT_EQ(r.ttft_s, 0);
  EXPECT_EQ(r.e2e_s, 0);
  EXPECT_DOUBLE_EQ(r.completion_s, 3);
}

TEST(MetricsCollectorTest, AggregatesCompletedRequestsAndCountsRejections) {
  MetricsCollector metrics;
  RequestRecord a = MetricsCollector::MakeRecord(Finished(0), 5);
  RequestRecord b = MetricsCollector::MakeRecord(Finished(1, 1), 9);
  b.ttft_s = 3.0;
  b.met_slo = false;
  LiveRequest rejected = Finished(2);
  rejected.rejected = true;
  metrics.AddRecord(a);
  metrics.AddRecord(b);
  metrics.AddRecord(MetricsCollector::MakeRecord(rejected, 20));
  metrics.AddTokenGaps(0.5, 3);
  metrics.AddTokenGaps(2.0, 1);
  metrics.AddKvTransfer(0.25);
  EXPECT_EQ(metrics.completed(), 2);
  EXPECT_EQ(metrics.rejected(), 1);
  EXPECT_EQ(metrics.output_tokens(), 5);  // 4 + 1; rejected ones not
  EXPECT_EQ(metrics.good_requests(), 1);
  // The rejected request's 20 s is not a completion.
  EXPECT_DOUBLE_EQ(metrics.last_completion_s(), 9);

  v1::SimulationResult result;
  metrics.FillResult(&result);
  EXPECT_EQ(result.completed(), 2);
  EXPECT_EQ(result.ttft_s().count(), 2);
  EXPECT_DOUBLE_EQ(result.ttft_s().mean(), 2.0);  // (1 + 3) / 2
  EXPECT_DOUBLE_EQ(result.ttft_s().max(), 3.0);
  EXPECT_EQ(result.tpot_s().count(), 1);  // one-token requests have none
  // TBT pools every gap: (3 x 0.5 + 2) / 4.
  EXPECT_EQ(result.tbt_s().count(), 4);
  EXPECT_DOUBLE_EQ(result.tbt_s().mean(), 0.875);
  EXPECT_NEAR(result.tbt_s().p50(), 0.5, 0.5 * 5e-4);
  EXPECT_EQ(result.kv_transfer_count(), 1);
  EXPECT_DOUBLE_EQ(result.queue_s().mean(), 0.5);
  EXPECT_DOUBLE_EQ(result.e2e_s().mean(), 4.0);
}

}  // namespace
}  // namespace fleetsim::sim
