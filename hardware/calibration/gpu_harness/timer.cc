#include "hardware/calibration/gpu_harness/timer.h"

#include <algorithm>
#include <cmath>

#include "hardware/calibration/gpu_harness/cuda_check.h"

namespace fleetsim::calibrate {

namespace {

double Quantile(const std::vector<double>& sorted, double q) {
  double pos = q * (sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

}  // namespace

Stats Summarise(std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  Stats s;
  s.samples = static_cast<int>(seconds.size());
  s.median_s = Quantile(seconds, 0.5);
  s.p10_s = Quantile(seconds, 0.1);
  s.p90_s = Quantile(seconds, 0.9);
  s.min_s = seconds.front();
  s.max_s = seconds.back();
  double sum = 0, sq = 0;
  for (double v : seconds) sum += v;
  s.mean_s = sum / seconds.size();
  for (double v : seconds) sq += (v - s.mean_s) * (v - s.mean_s);
  s.std_s = std::sqrt(sq / seconds.size());
  return s;
}

CsvRow RowFromStats(const Stats& s) {
  CsvRow r;
  r.median_s = s.median_s;
  r.p10_s = s.p10_s;
  r.p90_s = s.p90_s;
  r.mean_s = s.mean_s;
  r.min_s = s.min_s;
  r.max_s = s.max_s;
  r.std_s = s.std_s;
  r.samples = s.samples;
  return r;
}

Timer::Timer(cudaStream_t stream, int max_reps, int warmup)
    : stream_(stream), max_reps_(max_reps), warmup_(warmup) {
  starts_.resize(max_reps);
  stops_.resize(max_reps);
  for (int i = 0; i < max_reps; ++i) {
    Check(cudaEventCreate(&starts_[i]), "cudaEventCreate");
    Check(cudaEventCreate(&stops_[i]), "cudaEventCreate");
  }
}

Timer::~Timer() {
  for (size_t i = 0; i < starts_.size(); ++i) {
    cudaEventDestroy(starts_[i]);
    cudaEventDestroy(stops_[i]);
  }
}

Stats Timer::Time(const std::function<void(int)>& launch) {
  int rep = 0;
  for (int i = 0; i < std::max(warmup_, 1); ++i) launch(rep++);
  // One timed probe sizes the repetition count (~0.25 s per shape max).
  Check(cudaEventRecord(starts_[0], stream_), "cudaEventRecord");
  launch(rep++);
  Check(cudaEventRecord(stops_[0], stream_), "cudaEventRecord");
  Check(cudaEventSynchronize(stops_[0]), "cudaEventSynchronize");
  float probe_ms = 0;
  Check(cudaEventElapsedTime(&probe_ms, starts_[0], stops_[0]),
        "cudaEventElapsedTime");
  int reps = max_reps_;
  if (probe_ms > 0) {
    reps = std::clamp(static_cast<int>(250.0 / probe_ms), 5, max_reps_);
  }
  for (int i = 0; i < reps; ++i) {
    Check(cudaEventRecord(starts_[i], stream_), "cudaEventRecord");
    launch(rep++);
    Check(cudaEventRecord(stops_[i], stream_), "cudaEventRecord");
  }
  Check(cudaStreamSynchronize(stream_), "kernel execution");
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    float ms = 0;
    Check(cudaEventElapsedTime(&ms, starts_[i], stops_[i]),
          "cudaEventElapsedTime");
    seconds.push_back(ms * 1e-3);
  }
  return Summarise(seconds);
}

}  // namespace fleetsim::calibrate
