// File: hardware/calibration/gpu_harness/options.h
//
// The harness's command line (usage in calibrate_main.cc): which operators
// to measure, on which model shapes, with how many repetitions.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_OPTIONS_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#ifndef FLEETSIM_SOURCE_DATA_DIR
#define FLEETSIM_SOURCE_DATA_DIR "data"
#endif

namespace fleetsim::calibrate {

struct Options {
  std::string out = ".";
  std::string ops = "gemm,elementwise,allreduce";
  std::string models_dir = std::string(FLEETSIM_SOURCE_DATA_DIR) + "/models";
  std::string chip;  // empty: derived from the device name
  int64_t max_tokens = 8192;
  std::vector<int> tps = {1, 2, 4, 8};
  int reps = 30;
  int warmup = 5;
  bool list = false;
};

// Parses argv into `o`; false for --help. A bad flag or value exits with
// status 2 (Die).
bool ParseArgs(int argc, char** argv, Options* o);

// Whether --ops names `op` ("gemm", "elementwise", "allreduce").
bool Wants(const Options& o, const std::string& op);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_OPTIONS_H_
