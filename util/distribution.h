// File: util/distribution.h
//
// Exact order statistics of a sample (mean, p50, p90, p99, max) as reported
// in every fleetsim output. Percentiles use linear interpolation between
// closest ranks (numpy's default), so figures match pandas/numpy on the
// same data.
#ifndef FLEETSIM_UTIL_DISTRIBUTION_H_
#define FLEETSIM_UTIL_DISTRIBUTION_H_

#include <vector>

#include "fleetsim/v1/result.pb.h"

namespace fleetsim {

// Percentile `p` in [0, 100] of `sorted` (ascending). 0 when empty.
double PercentileOfSorted(const std::vector<double>& sorted, double p);

// Sorts `values` in place and summarises them.
v1::Distribution Summarize(std::vector<double>* values);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_DISTRIBUTION_H_
