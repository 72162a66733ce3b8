// File: util/histogram.h
//
// LogHistogram: a fixed-size log-bucketed histogram for latency samples, so a
// replay keeps its metric state bounded however long the trace is. Buckets
// grow by 0.1 % from 1 ns to 1e6 s; a reported percentile is within 0.05 %
// (half a bucket) of the exact order statistic, except that values up to
// 1 ns (zeros, mostly) report 0. Mean, count and max are exact.
#ifndef FLEETSIM_UTIL_HISTOGRAM_H_
#define FLEETSIM_UTIL_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "fleetsim/v1/result.pb.h"

namespace fleetsim {

class LogHistogram final {
 public:
  LogHistogram();

  // Records `count` samples of `value` (seconds; values <= 1 ns and NaN are
  // clamped into the first bucket, values >= 1e6 s and +inf into the last,
  // so no input can index outside the buckets).
  void Add(double value, int64_t count = 1);

  int64_t count() const { return count_; }
  double mean() const {
    return count_ ? sum_ / static_cast<double>(count_) : 0;
  }
  double max() const { return max_; }

  // Percentile p in [0, 100] using numpy's linear-interpolation rank, with
  // each bucket represented by its geometric midpoint (the first bucket,
  // values up to 1 ns, by 0). 0 when empty.
  double Percentile(double p) const;

  // The sample at 0-based `index` of the sorted samples, as its bucket's
  // midpoint (capped at max()). REQUIRES: 0 <= index < count().
  double ValueAtIndex(int64_t index) const;

  // The midpoint of the bucket `value` falls in: what a percentile reports
  // for it (before the cap at max()).
  static double BucketValueOf(double value) {
    return BucketValue(BucketOf(value));
  }

  // The upper edge of `limit`'s bucket: every sample at or above it is
  // reported above `limit`, cap at max() included (+inf for the last
  // bucket). What makes a sample still to come a certain miss.
  static double FirstValueReportedAbove(double limit);

  v1::Distribution ToDistribution() const;

 private:
  static int BucketOf(double value);
  static double BucketValue(int bucket);

  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  double sum_ = 0;
  double max_ = 0;
};

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_HISTOGRAM_H_
