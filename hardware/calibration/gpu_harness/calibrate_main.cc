// fleetsim-calibrate: measures per-operator kernel times on the local GPU
// and writes them as fleetsim calibration tables
// (proto/fleetsim/v1/calibration.proto, CSV form) for the efficiency fit.
// docs/calibration.md explains the method; run_on_gpu.sh runs this plus
// attention_sdpa.py in one go.
//
//   fleetsim-calibrate --out DIR [--ops gemm,elementwise,allreduce]
//       [--models_dir data/models] [--max_tokens 8192] [--tp 1,2,4,8]
//       [--reps 30] [--warmup 5] [--chip h100] [--list]
//
// Tables written to DIR: gemm.csv (cuBLASLt BF16 GEMMs over the model
// catalog's per-chip shapes), elementwise.csv (RMSNorm, SwiGLU, residual
// add, rotary: kernels.cu), allreduce.csv (NCCL, only with >1 GPU).
// Timing: per-launch CUDA events after warm-up, median/p10/p90 of the
// repetitions; inputs are random bf16 and every repetition reads a different
// slice of a pool much larger than L2, so weights are never cache-resident.
// Exit status: 0 ok, 2 usage error, 3 no CUDA device, 1 other failure.
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/cuda_check.h"
#include "hardware/calibration/gpu_harness/device_facts.h"
#include "hardware/calibration/gpu_harness/device_pool.h"
#include "hardware/calibration/gpu_harness/measure_allreduce.h"
#include "hardware/calibration/gpu_harness/measure_elementwise.h"
#include "hardware/calibration/gpu_harness/measure_gemm.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"
#include "hardware/calibration/gpu_harness/options.h"
#include "hardware/calibration/gpu_harness/timer.h"

namespace fleetsim::calibrate {
namespace {

std::string Join(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

void Write(const std::string& path, const Provenance& p,
           const std::vector<CsvRow>& rows) {
  if (!WriteCalibrationCsv(path, p, rows)) Die(1, "cannot write " + path);
  std::fprintf(stderr, "wrote %s (%zu rows)\n", path.c_str(), rows.size());
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::printf(
        "usage: fleetsim-calibrate --out DIR [--ops "
        "gemm,elementwise,allreduce]\n"
        "  [--models_dir DIR] [--max_tokens N] [--tp 1,2,4,8] [--reps N]\n"
        "  [--warmup N] [--chip NAME] [--list]\n"
        "Measures kernel times on the local GPU; see docs/calibration.md.\n");
    return 0;
  }
  std::string log;
  const std::vector<ModelDims> models = LoadModels(o.models_dir, &log);
  std::fputs(log.c_str(), stderr);
  const std::vector<GemmShape> shapes = GemmShapes(models, o.tps, o.max_tokens);
  if (o.list) {
    std::printf("op,model,tp,tokens,m,n,k\n");
    for (const GemmShape& g : shapes) {
      std::printf("%s,%s,%d,%lld,%lld,%lld,%lld\n", g.op.c_str(),
                  g.model.c_str(), g.tp, static_cast<long long>(g.tokens),
                  static_cast<long long>(g.m), static_cast<long long>(g.n),
                  static_cast<long long>(g.k));
    }
    return 0;
  }

  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    Die(3, std::string("no CUDA device available (cudaGetDeviceCount: ") +
               (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices") +
               "). Run this on a machine with an NVIDIA GPU; see "
               "docs/calibration.md. "
               "`--list` prints the GEMM shapes without a GPU.");
  }
  Check(cudaSetDevice(0), "cudaSetDevice");
  const DeviceFacts device = QueryDevice(0);
  const std::string chip = o.chip.empty() ? ChipFromName(device.name) : o.chip;
  std::fprintf(stderr,
               "device 0: %s (%s), %d device(s), L2 %lld bytes, chip '%s'\n",
               device.name.c_str(), device.driver.c_str(), devices,
               static_cast<long long>(device.l2_bytes), chip.c_str());
  size_t free_bytes = 0, total_bytes = 0;
  Check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  cudaStream_t stream;
  Check(cudaStreamCreate(&stream), "cudaStreamCreate");
  const std::string command = Join(argc, argv);
  const std::string timing =
      "CUDA events around each launch; " + std::to_string(o.warmup) +
      " warm-up launches, then 5.." + std::to_string(o.reps) +
      " timed (as many as fit in ~0.25 s, at least 5); median/p10/p90 over "
      "them; "
      "random bf16 inputs; each repetition reads operands no earlier "
      "repetition "
      "touched (rotating slices of a multi-GiB pool), so nothing is "
      "L2-resident";
  {
    // Pools: inputs get ~45% of free memory (at most 6 GiB), outputs ~25%
    // (at most 3 GiB); both far larger than any L2.
    const size_t in_bytes =
        std::min<size_t>(free_bytes * 45 / 100, size_t{6} << 30);
    const size_t out_bytes =
        std::min<size_t>(free_bytes * 25 / 100, size_t{3} << 30);
    Pool in(in_bytes, 1, stream);
    Pool out(out_bytes, 2, stream);
    Check(cudaStreamSynchronize(stream), "pool fill");
    Timer timer(stream, o.reps, o.warmup);
    if (Wants(o, "gemm")) {
      int lt_version = static_cast<int>(cublasLtGetVersion());
      std::vector<CsvRow> rows =
          MeasureGemms(shapes, chip, in, out, timer, stream);
      Write(o.out + "/gemm.csv",
            MakeProvenance(
                device,
                "cuBLASLt " + std::to_string(lt_version) +
                    " (cublasLtMatmul, BF16 in/out, FP32 accumulate, "
                    "first heuristic algorithm, 32 MiB workspace)",
                timing, command,
                "GEMM C[m,n] = A[m,k] * W[n,k]^T (PyTorch Linear layout); "
                "shapes per chip from " +
                    o.models_dir +
                    " (or the built-in model list); identical shapes "
                    "timed once and shared by their rows"),
            rows);
    }
    if (Wants(o, "elementwise")) {
      std::vector<CsvRow> rows =
          MeasureElementwise(models, o, chip, in, out, timer, stream);
      Write(o.out + "/elementwise.csv",
            MakeProvenance(
                device,
                "fleetsim hardware/calibration/gpu_harness/kernels.cu (one "
                "pass, 16-byte vector loads, fp32 math, bf16 storage; "
                "unfused)",
                timing, command,
                "rmsnorm: [tokens, hidden]; mlp_act: SiLU(gate)*up from "
                "[tokens, 2F] to [tokens, F]; residual_add: a+b; rope: in "
                "place on (q+kv) heads"),
            rows);
    }
  }
  if (Wants(o, "allreduce")) {
    if (devices < 2) {
      std::fprintf(stderr, "allreduce: 1 GPU, nothing to measure; skipped\n");
    } else {
      std::string tool = "NCCL";
      std::vector<CsvRow> rows = MeasureAllReduce(devices, o, chip, &tool);
      if (!rows.empty()) {
        Write(o.out + "/allreduce.csv",
              MakeProvenance(
                  device, tool + " ncclAllReduce (bf16 sum, in place)",
                  "all ranks launched in one NCCL group; per repetition the "
                  "slowest rank's CUDA-event time; median over " +
                      std::to_string(o.reps),
                  command, "single node, ranks = GPUs 0..N-1"),
              rows);
      }
    }
  }
  cudaStreamDestroy(stream);
  return 0;
}

}  // namespace
}  // namespace fleetsim::calibrate

int main(int argc, char** argv) {
  return fleetsim::calibrate::Main(argc, argv);
}
