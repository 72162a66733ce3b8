#include "util/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fleetsim {
namespace {

constexpr double kMinValue = 1e-9;
constexpr double kGrowth = 1.001;
// log(1e6 / 1e-9) / log(1.001) ~ 34,550 buckets (~270 KiB).
const double kLogGrowth = std::log(kGrowth);
const int kBuckets =
    static_cast<int>(std::ceil(std::log(1e6 / kMinValue) / std::log(kGrowth))) +
    1;

}  // namespace

LogHistogram::LogHistogram() : buckets_(kBuckets, 0) {}

int LogHistogram::BucketOf(double value) {
  if (!(value > kMinValue)) return 0;  // also NaN
  // Clamp while still a double: converting a value past INT_MAX (an inf
  // latency) to int is undefined and gave a negative index.
  double bucket = std::log(value / kMinValue) / kLogGrowth;
  if (!(bucket < kBuckets - 1)) return kBuckets - 1;
  return static_cast<int>(bucket);
}

double LogHistogram::BucketValue(int bucket) {
  // The first bucket holds everything up to 1 ns, zeros above all (a
  // request that did not wait): it reports 0, not 1 ns.
  if (bucket == 0) return 0;
  return kMinValue * std::exp((bucket + 0.5) * kLogGrowth);
}

double LogHistogram::FirstValueReportedAbove(double limit) {
  int bucket = BucketOf(limit);
  if (bucket >= kBuckets - 1) return std::numeric_limits<double>::infinity();
  // Nudged above the edge by far more than exp/log's rounding, so that
  // BucketOf puts the value itself in the next bucket.
  return kMinValue * std::exp((bucket + 1) * kLogGrowth) * (1 + 1e-9);
}

void LogHistogram::Add(double value, int64_t count) {
  if (count <= 0) return;
  buckets_[BucketOf(value)] += count;
  count_ += count;
  sum_ += value * static_cast<double>(count);
  max_ = std::max(max_, value);
}

double LogHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  // Same rank rule as PercentileOfSorted (util/distribution.h).
  double rank = p / 100.0 * static_cast<double>(count_ - 1);
  int64_t lo_rank = static_cast<int64_t>(std::floor(rank));
  double frac = rank - static_cast<double>(lo_rank);
  double lo = ValueAtIndex(lo_rank);
  double hi = ValueAtIndex(std::min(lo_rank + 1, count_ - 1));
  return lo + (hi - lo) * frac;
}

double LogHistogram::ValueAtIndex(int64_t index) const {
  int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen > index) return std::min(BucketValue(b), max_);
  }
  return max_;
}

v1::Distribution LogHistogram::ToDistribution() const {
  v1::Distribution d;
  d.set_count(count_);
  d.set_mean(mean());
  d.set_p50(Percentile(50));
  d.set_p90(Percentile(90));
  d.set_p99(Percentile(99));
  d.set_max(max_);
  return d;
}

}  // namespace fleetsim
