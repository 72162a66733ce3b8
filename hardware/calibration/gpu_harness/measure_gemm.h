// File: hardware/calibration/gpu_harness/measure_gemm.h
//
// The GEMM table (gemm.csv): cuBLASLt BF16 GEMMs over the model catalog's
// per-chip shapes (model_shapes.h GemmShapes).
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_GEMM_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_GEMM_H_

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/device_pool.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"
#include "hardware/calibration/gpu_harness/timer.h"

namespace fleetsim::calibrate {

// Times every shape in `shapes` (identical shapes once, shared by their
// rows) with operands from `in` and results into `out`; shapes that do not
// fit the pools or have no cuBLASLt algorithm are skipped with a note on
// stderr.
std::vector<CsvRow> MeasureGemms(const std::vector<GemmShape>& shapes,
                                 const std::string& chip, Pool& in, Pool& out,
                                 Timer& timer, cudaStream_t stream);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_GEMM_H_
