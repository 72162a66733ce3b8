#include "hardware/calibration/gpu_harness/cuda_check.h"

#include <cstdio>
#include <cstdlib>

namespace fleetsim::calibrate {

[[noreturn]] void Die(int code, const std::string& message) {
  std::fprintf(stderr, "fleetsim-calibrate: %s\n", message.c_str());
  std::exit(code);
}

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    Die(1, std::string(what) + ": " + cudaGetErrorString(e));
}

void Check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    Die(1, std::string(what) + ": cuBLAS status " +
               std::to_string(static_cast<int>(s)));
  }
}

}  // namespace fleetsim::calibrate
