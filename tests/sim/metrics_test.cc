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

}  // namespace
}  // namespace fleetsim::sim
