#include "util/histogram.h"

#include <limits>

#include "gtest/gtest.h"

namespace fleetsim {
namespace {

// A reported percentile is within half a bucket (0.05 %) of the exact one.
constexpr double kRelative = 5e-4;

TEST(LogHistogramTest, EmptyReportsZeros) {
  LogHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.Percentile(50), 0);
  v1::Distribution d = h.ToDistribution();
  EXPECT_EQ(d.count(), 0);
  EXPECT_EQ(d.p99(), 0);
}

TEST(LogHistogramTest, CountMeanAndMaxAreExact) {
  LogHistogram h;
  h.Add(1.0);
  h.Add(3.0, 2);
  h.Add(5.0, 0);   // no samples
  h.Add(9.0, -1);  // no samples
  EXPECT_EQ(h.count(), 3);
  EXPECT_DOUBLE_EQ(h.mean(), 7.0 / 3);
  EXPECT_EQ(h.max(), 3.0);
}

TEST(LogHistogramTest, PercentilesInterpolateLikeNumpy) {
  // 0.01 s .. 1.00 s: numpy's p50 is halfway between the 50th and 51st
  // values, p90 a tenth of the way from the 90th to the 91st.
  LogHistogram h;
  for (int i = 1; i <= 100; ++i) h.Add(i * 0.01);
  EXPECT_NEAR(h.Percentile(50), 0.505, 0.505 * kRelative);
  EXPECT_NEAR(h.Percentile(90), 0.901, 0.901 * kRelative);
  EXPECT_NEAR(h.Percentile(0), 0.01, 0.01 * kRelative);
  // The top bucket's midpoint, never above the exact max.
  EXPECT_NEAR(h.Percentile(100), 1.0, kRelative);
  EXPECT_LE(h.Percentile(100), 1.0);
}

TEST(LogHistogramTest, ValueAtIndexReadsTheSortedSamples) {
  LogHistogram h;
  h.Add(0.3);
  h.Add(0.001, 2);
  h.Add(0.02);
  // Sorted: 0.001, 0.001, 0.02, 0.3 (bucket midpoints, capped at the max).
  EXPECT_NEAR(h.ValueAtIndex(0), 0.001, 0.001 * kRelative);
  EXPECT_NEAR(h.ValueAtIndex(1), 0.001, 0.001 * kRelative);
  EXPECT_NEAR(h.ValueAtIndex(2), 0.02, 0.02 * kRelative);
  EXPECT_NEAR(h.ValueAtIndex(3), 0.3, 0.3 * kRelative);
  EXPECT_LE(h.ValueAtIndex(3), 0.3);
}

TEST(LogHistogramTest, WeightedSamplesCountOncePerSample) {
  // 99 gaps of 1 ms and one of 1 s: p99 sits at rank 98.01, 1 % of the way
  // from 1 ms to 1 s.
  LogHistogram h;
  h.Add(0.001, 99);
  h.Add(1.0);
  EXPECT_NEAR(h.Percentile(50), 0.001, 0.001 * kRelative);
  EXPECT_NEAR(h.Percentile(99), 0.001 + 0.999 * 0.01, 1e-5);
  v1::Distribution d = h.ToDistribution();
  EXPECT_EQ(d.count(), 100);
  EXPECT_NEAR(d.mean(), (0.099 + 1.0) / 100, 1e-15);
  EXPECT_NEAR(d.p50(), 0.001, 0.001 * kRelative);
  EXPECT_NEAR(d.p90(), 0.001, 0.001 * kRelative);
  EXPECT_NEAR(d.p99(), 0.01099, 1e-5);
  EXPECT_EQ(d.max(), 1.0);
}

TEST(LogHistogramTest, ValuesAcrossTheRangeStayWithinHalfABucket) {
  for (double value : {2e-9, 3.7e-6, 0.0123, 1.0, 42.0, 5e5}) {
    LogHistogram h;
    h.Add(value);
    h.Add(value * 1.5);
    // Bucket midpoints, the upper one never above the exact max.
    EXPECT_NEAR(h.Percentile(0), value, value * kRelative) << value;
    EXPECT_NEAR(h.Percentile(100), value * 1.5, value * 1.5 * kRelative)
        << value;
    EXPECT_LE(h.Percentile(100), value * 1.5) << value;
    EXPECT_NEAR(h.Percentile(50), value * 1.25, value * 1.25 * kRelative)
        << value;
  }
}

TEST(LogHistogramTest, ZeroAndTinyValuesShareTheFirstBucket) {
  LogHistogram h;
  h.Add(0.0);
  h.Add(1e-12);
  // Both land in the first bucket (up to 1 ns), which reports 0: a request
  // that did not wait reads 0, not 1e-9 (issue 15).
  EXPECT_EQ(h.Percentile(50), 0);
  EXPECT_EQ(h.Percentile(100), 0);
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.max(), 1e-12);  // exact, as always
}

// Regression (issue 16): a latency above ~1.8e299 s made the bucket index
// INT_MIN and Add() wrote outside the bucket vector. Huge, infinite and NaN
// values must land in the edge buckets; under ASan an out-of-bounds write
// fails this test (without it, the old code crashed here).
TEST(LogHistogramTest, ExtremeValuesStayInsideTheBuckets) {
  LogHistogram h;
  const double inf = std::numeric_limits<double>::infinity();
  for (double value : {1e299, 1.7e308, inf, 1e7, 1e-300, 0.0, -5.0,
                       std::numeric_limits<double>::quiet_NaN()}) {
    h.Add(value);
  }
  EXPECT_EQ(h.count(), 8);
  // The top percentile is the last bucket's value (~1e6 s), not garbage.
  EXPECT_GT(h.Percentile(100), 0.99e6);
  EXPECT_LT(h.Percentile(100), 1.01e6);
  EXPECT_LT(h.Percentile(0), 1e-8);  // the first bucket
}

}  // namespace
}  // namespace fleetsim
