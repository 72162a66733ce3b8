#include "workloads/trace_stats.h"

#include <ostream>
#include <string>

#include "gtest/gtest.h"

namespace fleetsim::workloads {
namespace {

std::string DataTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/" + name;
}
std::string BadTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/traces/" + name;
}

TraceStats StatsOf(const std::string& path, bool skip_bad_rows = false) {
  ReaderOptions options;
  options.skip_bad_rows = skip_bad_rows;
  absl::StatusOr<TraceStats> stats =
      ComputeTraceStats(path, v1::TRACE_FORMAT_UNSPECIFIED, options);
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? *stats : TraceStats{};
}

// Expected figures from data/traces/README.md (numpy/pandas, linear
// percentiles), at the precision the README prints them.
struct Expected {
  std::string file;
  int64_t requests;
  double span_s;
  double rate_per_s;
  double in_mean, in_p50, in_p99;
  double out_mean, out_p50, out_p99;
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const Expected& e, std::ostream* os) { *os << e.file; }

class TraceStatsReadmeTest : public ::testing::TestWithParam<Expected> {};

TEST_P(TraceStatsReadmeTest, MatchesTheReadmeTable) {
  const Expected& e = GetParam();
  TraceStats s = StatsOf(DataTrace(e.file));
  EXPECT_EQ(s.requests, e.requests);
  EXPECT_NEAR(s.span_s, e.span_s, 0.05);
  EXPECT_NEAR(s.rate_per_s, e.rate_per_s, 0.005);
  EXPECT_NEAR(s.input_tokens.mean(), e.in_mean, 0.05);
  EXPECT_NEAR(s.input_tokens.p50(), e.in_p50, 0.5);
  EXPECT_NEAR(s.input_tokens.p99(), e.in_p99, 0.5);
  EXPECT_NEAR(s.output_tokens.mean(), e.out_mean, 0.05);
  EXPECT_NEAR(s.output_tokens.p50(), e.out_p50, 0.5);
  EXPECT_NEAR(s.output_tokens.p99(), e.out_p99, 0.05);
  EXPECT_EQ(s.skipped_rows, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Traces, TraceStatsReadmeTest,
    ::testing::Values(Expected{"azure_2023_conv.csv", 19366, 3501.7, 5.53,
                               1154.7, 1020, 4142, 211.1, 129, 601},
                      Expected{"vidur_splitwise_conv.csv", 19366, 3501.7, 5.53,
                               1154.7, 1020, 4142, 211.1, 129, 601},
                      Expected{"azure_2023_code.csv", 8819, 3435.9, 2.57,
                               2047.8, 1469, 7436, 27.9, 13, 251.5},
                      Expected{"mooncake_synthetic.jsonl", 3993, 1022.0, 3.91,
                               15325.5, 11587, 66456, 149.1, 69, 768.1},
                      Expected{"splitwise_test_trace.csv", 3, 3.0, 2.0 / 3.0,
                               2730.7, 2048, 4055, 18.7, 16, 31.7}),
    [](const ::testing::TestParamInfo<Expected>& param_info) {
      const std::string& file = param_info.param.file;
      std::string name = file.substr(0, file.find('.'));
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(TraceStatsTest, SkippedRowsAreCounted) {
  TraceStats s = StatsOf(BadTrace("azure_mixed_bad.csv"), true);
  EXPECT_EQ(s.requests, 4);
  EXPECT_EQ(s.skipped_rows, 4);
  EXPECT_DOUBLE_EQ(s.span_s, 3.5);
  EXPECT_DOUBLE_EQ(s.rate_per_s, 3 / 3.5);
  EXPECT_DOUBLE_EQ(s.input_tokens.mean(), (100 + 200 + 500 + 600) / 4.0);
  EXPECT_DOUBLE_EQ(s.input_tokens.p50(), 350);  // linear between 200 and 500
}

TEST(TraceStatsTest, LengthsOnlyTraceHasNoRate) {
  TraceStats s = StatsOf(BadTrace("vidur_lengths_only.csv"));
  EXPECT_EQ(s.requests, 3);
  EXPECT_FALSE(s.has_timestamps);
  EXPECT_EQ(s.span_s, 0);
  EXPECT_EQ(s.rate_per_s, 0);
  EXPECT_EQ(s.input_tokens.p50(), 2015);
}

}  // namespace
}  // namespace fleetsim::workloads
