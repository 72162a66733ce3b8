#include "hardware/calibration/gpu_harness/device_facts.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cctype>
#include <ctime>

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/cuda_check.h"

#ifndef FLEETSIM_GIT_COMMIT
#define FLEETSIM_GIT_COMMIT ""
#endif

namespace fleetsim::calibrate {

DeviceFacts QueryDevice(int device) {
  DeviceFacts f;
  cudaDeviceProp prop;
  Check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  f.name = prop.name;
  f.l2_bytes = prop.l2CacheSize;
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  f.cuda_runtime = std::to_string(runtime / 1000) + "." +
                   std::to_string(runtime % 1000 / 10);
  int khz = 0;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device) ==
      cudaSuccess) {
    f.sm_clock_mhz = khz / 1000.0;
  }
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device) ==
      cudaSuccess) {
    f.memory_clock_mhz = khz / 1000.0;
  }
  int driver = 0;
  cudaDriverGetVersion(&driver);
  f.driver = "CUDA driver API " + std::to_string(driver / 1000) + "." +
             std::to_string(driver % 1000 / 10);
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW);
  if (nvml != nullptr) {
    using InitFn = int (*)();
    using DriverFn = int (*)(char*, unsigned int);
    using HandleFn = int (*)(unsigned int, void**);
    using ClockFn = int (*)(void*, int, unsigned int*);
    using PowerFn = int (*)(void*, unsigned int*);
    auto init = reinterpret_cast<InitFn>(dlsym(nvml, "nvmlInit_v2"));
    auto version =
        reinterpret_cast<DriverFn>(dlsym(nvml, "nvmlSystemGetDriverVersion"));
    auto handle_by_index = reinterpret_cast<HandleFn>(
        dlsym(nvml, "nvmlDeviceGetHandleByIndex_v2"));
    auto max_clock =
        reinterpret_cast<ClockFn>(dlsym(nvml, "nvmlDeviceGetMaxClockInfo"));
    auto power = reinterpret_cast<PowerFn>(
        dlsym(nvml, "nvmlDeviceGetEnforcedPowerLimit"));
    if (init != nullptr && init() == 0) {
      char buffer[96] = {0};
      if (version != nullptr && version(buffer, sizeof(buffer)) == 0) {
        f.driver = std::string(buffer) + " (" + f.driver + ")";
      }
      void* h = nullptr;
      if (handle_by_index != nullptr &&
          handle_by_index(static_cast<unsigned int>(device), &h) == 0) {
        unsigned int mhz = 0, milliwatts = 0;
        // nvmlClockType_t: NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2.
        if (max_clock != nullptr && max_clock(h, 1, &mhz) == 0)
          f.sm_clock_mhz = mhz;
        if (max_clock != nullptr && max_clock(h, 2, &mhz) == 0)
          f.memory_clock_mhz = mhz;
        if (power != nullptr && power(h, &milliwatts) == 0) {
          f.power_limit_w = milliwatts / 1000.0;
        }
      }
    }
  }
  return f;
}

std::string ChipFromName(const std::string& device_name) {
  std::string lower;
  for (char c : device_name) lower += static_cast<char>(std::tolower(c));
  for (const char* chip :
       {"h200", "h100", "a100", "h800", "a800", "l40s", "b200"}) {
    if (lower.find(chip) != std::string::npos) return chip;
  }
  std::string out;
  for (char c : lower)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

namespace {

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ",
                std::gmtime(&now));
  return buffer;
}

}  // namespace

Provenance MakeProvenance(const DeviceFacts& d, const std::string& tool,
                          const std::string& timing, const std::string& command,
                          const std::string& notes) {
  auto number = [](double v) { return v > 0 ? CsvDouble(v) : std::string(); };
  return {{"source", "fleetsim-calibrate"},
          {"source_commit", FLEETSIM_GIT_COMMIT},
          {"license", "measured by the fleetsim project"},
          {"tool", tool},
          {"timing_method", timing},
          {"device_name", d.name},
          {"driver_version", d.driver},
          {"cuda_version", d.cuda_runtime},
          {"sm_clock_mhz", number(d.sm_clock_mhz)},
          {"memory_clock_mhz", number(d.memory_clock_mhz)},
          {"power_limit_w", number(d.power_limit_w)},
          {"date", UtcNow()},
          {"command", command},
          {"notes", notes}};
}

}  // namespace fleetsim::calibrate
