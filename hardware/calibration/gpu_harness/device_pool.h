// File: hardware/calibration/gpu_harness/device_pool.h
//
// Device memory for the harness's operands, large enough that no timed
// repetition finds its inputs in L2.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_POOL_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_POOL_H_

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "hardware/calibration/gpu_harness/cuda_check.h"
#include "hardware/calibration/gpu_harness/kernels.h"

namespace fleetsim::calibrate {

// A device allocation filled with random bf16, handed out in rotating
// slices: repetition r of a kernel whose operands take `bytes` gets slice
// r mod (size / bytes), so consecutive repetitions never find their inputs
// in L2 unless one slice alone is bigger than the pool allows.
class Pool final {
 public:
  Pool(size_t bytes, uint64_t seed, cudaStream_t stream) : bytes_(bytes) {
    Check(cudaMalloc(&base_, bytes_), "cudaMalloc(pool)");
    Check(FillRandomBf16(static_cast<__nv_bfloat16*>(base_),
                         static_cast<int64_t>(bytes_ / 2), seed, 1.0f, stream),
          "FillRandomBf16");
  }
  ~Pool() { cudaFree(base_); }

  // Start of the slice for repetition `rep`; nullptr if `bytes` > pool.
  char* Slice(size_t bytes, int rep) const {
    size_t aligned = (bytes + 255) / 256 * 256;
    if (aligned > bytes_) return nullptr;
    size_t slices = bytes_ / aligned;
    return static_cast<char*>(base_) +
           (static_cast<size_t>(rep) % slices) * aligned;
  }
  size_t bytes() const { return bytes_; }

 private:
  void* base_ = nullptr;
  size_t bytes_;
};

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_POOL_H_
