// File: hardware/calibration/gpu_harness/measure_allreduce.h
//
// The all-reduce table (allreduce.csv): NCCL all-reduce across the local
// GPUs, loaded at run time.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ALLREDUCE_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ALLREDUCE_H_

#include <string>
#include <vector>

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/options.h"

namespace fleetsim::calibrate {

// Times ncclAllReduce (bf16 sum, in place) on 2, 4, ... up to `devices`
// ranks for message sizes 2 KiB to 256 MiB; sets `tool` to the NCCL
// version. Empty (with a note on stderr) without libnccl or, when built
// without nccl.h, always.
std::vector<CsvRow> MeasureAllReduce(int devices, const Options& o,
                                     const std::string& chip,
                                     std::string* tool);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_MEASURE_ALLREDUCE_H_
