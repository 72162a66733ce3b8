// File: hardware/calibration/gpu_harness/cuda_check.h
//
// How the harness stops on an error: a message on stderr and an exit
// status (docs in calibrate_main.cc), after any failed CUDA or cuBLAS call.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CUDA_CHECK_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CUDA_CHECK_H_

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace fleetsim::calibrate {

// Prints "fleetsim-calibrate: MESSAGE" and exits with `code`.
[[noreturn]] void Die(int code, const std::string& message);

// Dies (exit 1) naming `what` when a CUDA or cuBLAS call failed.
void Check(cudaError_t e, const char* what);
void Check(cublasStatus_t s, const char* what);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CUDA_CHECK_H_
