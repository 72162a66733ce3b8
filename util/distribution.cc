#include "util/distribution.h"

#include <algorithm>
#include <cmath>

namespace fleetsim {

double PercentileOfSorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

v1::Distribution Summarize(std::vector<double>* values) {
  v1::Distribution d;
  if (values->empty()) return d;
  std::sort(values->begin(), values->end());
  double sum = 0;
  for (double v : *values) sum += v;
  d.set_count(static_cast<int64_t>(values->size()));
  d.set_mean(sum / static_cast<double>(values->size()));
  d.set_p50(PercentileOfSorted(*values, 50));
  d.set_p90(PercentileOfSorted(*values, 90));
  d.set_p99(PercentileOfSorted(*values, 99));
  d.set_max(values->back());
  return d;
}

}  // namespace fleetsim
