// File: hardware/calibration/gpu_harness/timer.h
//
// How the harness times a kernel: CUDA events around each launch after
// warm-up, summarised into the statistics a calibration row carries.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_TIMER_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_TIMER_H_

#include <cuda_runtime.h>

#include <functional>
#include <vector>

#include "hardware/calibration/gpu_harness/calibration_csv.h"

namespace fleetsim::calibrate {

// Order statistics of one kernel's timed repetitions.
struct Stats {
  double median_s = 0, p10_s = 0, p90_s = 0, mean_s = 0, min_s = 0, max_s = 0,
         std_s = 0;
  int samples = 0;
};

// Summarises the repetitions' `seconds`.
Stats Summarise(std::vector<double> seconds);

// A calibration row with `s`'s statistics (op and shape fields unset).
CsvRow RowFromStats(const Stats& s);

// Times `launch(rep)` with a CUDA event pair around each launch. The number
// of timed repetitions adapts so that small kernels get `max_reps` samples
// and big ones at least 5, keeping the whole sweep within minutes.
class Timer final {
 public:
  Timer(cudaStream_t stream, int max_reps, int warmup);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Warms up, probes once to size the repetition count, then times each
  // repetition; `launch` gets a fresh repetition index every call.
  Stats Time(const std::function<void(int)>& launch);

 private:
  cudaStream_t stream_;
  int max_reps_;
  int warmup_;
  std::vector<cudaEvent_t> starts_;
  std::vector<cudaEvent_t> stops_;
};

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_TIMER_H_
