// File: hardware/calibration/gpu_harness/device_facts.h
//
// What a table records about where it was measured: the device, driver,
// clocks and power limit (from CUDA and, when present, NVML), the chip name
// fleetsim knows it by, and the provenance block a calibration CSV carries.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_FACTS_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_FACTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim::calibrate {

// NVML is loaded at run time so the binary needs no NVML at link time and
// still runs where the library is absent (fields then stay empty).
struct DeviceFacts {
  std::string name;
  std::string driver;
  std::string cuda_runtime;
  double sm_clock_mhz = 0;
  double memory_clock_mhz = 0;
  double power_limit_w = 0;
  int64_t l2_bytes = 0;
};

// The facts of CUDA device `device`; NVML fields stay empty (0) without
// libnvidia-ml.
DeviceFacts QueryDevice(int device);

// The catalog chip a device name denotes ("NVIDIA H100 80GB HBM3" ->
// "h100"), else the lower-cased name with non-alphanumerics as '_'.
std::string ChipFromName(const std::string& device_name);

// A calibration CSV's provenance: (key, value) pairs in order.
using Provenance = std::vector<std::pair<std::string, std::string>>;

// The provenance of a table measured on `d` with `tool`, timed by `timing`,
// run as `command`, with free-text `notes`; dated now (UTC).
Provenance MakeProvenance(const DeviceFacts& d, const std::string& tool,
                          const std::string& timing, const std::string& command,
                          const std::string& notes);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_DEVICE_FACTS_H_
