#include "hardware/calibration/gpu_harness/measure_allreduce.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#ifdef FLEETSIM_HAVE_NCCL
#include <nccl.h>
#endif

#include "hardware/calibration/gpu_harness/cuda_check.h"
#include "hardware/calibration/gpu_harness/kernels.h"
#include "hardware/calibration/gpu_harness/timer.h"

namespace fleetsim::calibrate {

#ifdef FLEETSIM_HAVE_NCCL

namespace {

// NCCL is loaded at run time: single-GPU machines (and machines without
// libnccl) never need it.
struct Nccl {
  decltype(&ncclCommInitAll) comm_init_all = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  int version = 0;

  bool Load() {
    void* lib = dlopen("libnccl.so.2", RTLD_NOW);
    if (lib == nullptr) lib = dlopen("libnccl.so", RTLD_NOW);
    if (lib == nullptr) return false;
    comm_init_all = reinterpret_cast<decltype(comm_init_all)>(
        dlsym(lib, "ncclCommInitAll"));
    comm_destroy =
        reinterpret_cast<decltype(comm_destroy)>(dlsym(lib, "ncclCommDestroy"));
    all_reduce =
        reinterpret_cast<decltype(all_reduce)>(dlsym(lib, "ncclAllReduce"));
    group_start =
        reinterpret_cast<decltype(group_start)>(dlsym(lib, "ncclGroupStart"));
    group_end =
        reinterpret_cast<decltype(group_end)>(dlsym(lib, "ncclGroupEnd"));
    error_string = reinterpret_cast<decltype(error_string)>(
        dlsym(lib, "ncclGetErrorString"));
    auto get_version = reinterpret_cast<decltype(&ncclGetVersion)>(
        dlsym(lib, "ncclGetVersion"));
    if (get_version != nullptr) get_version(&version);
    return comm_init_all && comm_destroy && all_reduce && group_start &&
           group_end && error_string;
  }
};

}  // namespace

std::vector<CsvRow> MeasureAllReduce(int devices, const Options& o,
                                     const std::string& chip,
                                     std::string* tool) {
  std::vector<CsvRow> rows;
  Nccl nccl;
  if (!nccl.Load()) {
    std::fprintf(stderr, "allreduce: libnccl not found; skipped\n");
    return rows;
  }
  *tool = "NCCL " + std::to_string(nccl.version);
  const size_t max_bytes = 256u << 20;
  for (int ranks = 2; ranks <= devices; ranks *= 2) {
    std::vector<int> list(ranks);
    for (int i = 0; i < ranks; ++i) list[i] = i;
    std::vector<ncclComm_t> comms(ranks);
    if (nccl.comm_init_all(comms.data(), ranks, list.data()) != ncclSuccess) {
      std::fprintf(stderr, "allreduce: ncclCommInitAll(%d) failed; skipped\n",
                   ranks);
      continue;
    }
    std::vector<cudaStream_t> streams(ranks);
    std::vector<void*> buffers(ranks);
    std::vector<cudaEvent_t> starts(ranks), stops(ranks);
    for (int r = 0; r < ranks; ++r) {
      Check(cudaSetDevice(r), "cudaSetDevice");
      Check(cudaStreamCreate(&streams[r]), "cudaStreamCreate");
      Check(cudaMalloc(&buffers[r], max_bytes), "cudaMalloc(nccl)");
      Check(FillRandomBf16(static_cast<__nv_bfloat16*>(buffers[r]),
                           max_bytes / 2, r, 1.0f, streams[r]),
            "FillRandomBf16");
      Check(cudaEventCreate(&starts[r]), "cudaEventCreate");
      Check(cudaEventCreate(&stops[r]), "cudaEventCreate");
    }
    for (size_t bytes = 2048; bytes <= max_bytes; bytes *= 2) {
      auto once = [&](bool timed) {
        if (timed) {
          for (int r = 0; r < ranks; ++r)
            cudaEventRecord(starts[r], streams[r]);
        }
        nccl.group_start();
        for (int r = 0; r < ranks; ++r) {
          nccl.all_reduce(buffers[r], buffers[r], bytes / 2, ncclBfloat16,
                          ncclSum, comms[r], streams[r]);
        }
        nccl.group_end();
        if (timed) {
          for (int r = 0; r < ranks; ++r) cudaEventRecord(stops[r], streams[r]);
        }
      };
      for (int i = 0; i < o.warmup + 1; ++i) once(false);
      std::vector<double> seconds;
      for (int i = 0; i < o.reps; ++i) {
        once(true);
        double worst = 0;
        for (int r = 0; r < ranks; ++r) {
          Check(cudaEventSynchronize(stops[r]), "all_reduce");
          float ms = 0;
          cudaEventElapsedTime(&ms, starts[r], stops[r]);
          worst = std::max(worst, ms * 1e-3);
        }
        seconds.push_back(worst);
      }
      CsvRow row = RowFromStats(Summarise(seconds));
      row.op = "all_reduce";
      row.op_class = "collective";
      row.dtype = "bf16";
      row.chip = chip;
      row.bytes = static_cast<int64_t>(bytes);
      row.ranks = ranks;
      row.ranks_per_node = ranks;
      rows.push_back(row);
    }
    for (int r = 0; r < ranks; ++r) {
      cudaSetDevice(r);
      nccl.comm_destroy(comms[r]);
      cudaFree(buffers[r]);
      cudaStreamDestroy(streams[r]);
      cudaEventDestroy(starts[r]);
      cudaEventDestroy(stops[r]);
    }
  }
  cudaSetDevice(0);
  return rows;
}
#else
std::vector<CsvRow> MeasureAllReduce(int, const Options&, const std::string&,
                                     std::string*) {
  std::fprintf(stderr, "allreduce: built without nccl.h; skipped\n");
  return {};
}
#endif  // FLEETSIM_HAVE_NCCL

}  // namespace fleetsim::calibrate
