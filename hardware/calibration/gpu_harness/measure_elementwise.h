// File: hardware/calibration/gpu_harness/measure_elementwise.h
//
// The elementwise table (elementwise.csv): RMSNorm, SwiGLU, residual add
// and rotary (kernels.cu) over each model's widths and a token sweep.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ELEMENTWISE_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ELEMENTWISE_H_

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/device_pool.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"
#include "hardware/calibration/gpu_harness/options.h"
#include "hardware/calibration/gpu_harness/timer.h"

namespace fleetsim::calibrate {

// Times each operator of every model in `models` at each TP of `o` and
// each token count up to o.max_tokens (distinct shapes once).
std::vector<CsvRow> MeasureElementwise(const std::vector<ModelDims>& models,
                                       const Options& o,
                                       const std::string& chip, Pool& in,
                                       Pool& out, Timer& timer,
                                       cudaStream_t stream);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ELEMENTWISE_H_
