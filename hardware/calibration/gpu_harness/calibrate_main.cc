// fleetsim-calibrate: measures per-operator kernel times on the local GPU
// and writes them as fleetsim calibration tables (proto/calibration.proto,
// CSV form) for the efficiency fit. docs/calibration.md explains the method;
// run_on_gpu.sh runs this plus attention_sdpa.py in one go.
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
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>
#ifdef FLEETSIM_HAVE_NCCL
#include <nccl.h>
#endif

#include "hardware/calibration/gpu_harness/calibration_csv.h"
#include "hardware/calibration/gpu_harness/kernels.h"
#include "hardware/calibration/gpu_harness/model_shapes.h"

#ifndef FLEETSIM_SOURCE_DATA_DIR
#define FLEETSIM_SOURCE_DATA_DIR "data"
#endif
#ifndef FLEETSIM_GIT_COMMIT
#define FLEETSIM_GIT_COMMIT ""
#endif

namespace fleetsim::calibrate {
namespace {

// ---------------------------------------------------------------- options

struct Options {
  std::string out = ".";
  std::string ops = "gemm,elementwise,allreduce";
  std::string models_dir = std::string(FLEETSIM_SOURCE_DATA_DIR) + "/models";
  std::string chip;  // empty: derived from the device name
  int64_t max_tokens = 8192;
  std::vector<int> tps = {1, 2, 4, 8};
  int reps = 30;
  int warmup = 5;
  bool list = false;
};

[[noreturn]] void Die(int code, const std::string& message) {
  std::fprintf(stderr, "fleetsim-calibrate: %s\n", message.c_str());
  std::exit(code);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    size_t eq = arg.find('=');
    auto next = [&]() -> std::string {
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) Die(2, "missing value for " + arg);
      return argv[++i];
    };
    std::string name = arg.substr(0, eq);
    if (name == "--out") {
      o->out = next();
    } else if (name == "--ops") {
      o->ops = next();
    } else if (name == "--models_dir") {
      o->models_dir = next();
    } else if (name == "--chip") {
      o->chip = next();
    } else if (name == "--max_tokens") {
      o->max_tokens = std::atoll(next().c_str());
    } else if (name == "--reps") {
      o->reps = std::atoi(next().c_str());
    } else if (name == "--warmup") {
      o->warmup = std::atoi(next().c_str());
    } else if (name == "--tp") {
      o->tps.clear();
      std::string list = next();
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        o->tps.push_back(std::atoi(list.substr(p, c - p).c_str()));
        p = c == std::string::npos ? list.size() : c + 1;
      }
    } else if (name == "--list") {
      o->list = true;
    } else if (name == "--help" || name == "-h") {
      return false;
    } else {
      Die(2, "unknown flag " + arg + " (try --help)");
    }
  }
  if (o->max_tokens < 1 || o->reps < 3 || o->warmup < 0) {
    Die(2, "need --max_tokens >= 1, --reps >= 3, --warmup >= 0");
  }
  return true;
}

bool Wants(const Options& o, const std::string& op) {
  return ("," + o.ops + ",").find("," + op + ",") != std::string::npos;
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

// ------------------------------------------------------------ provenance

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

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ",
                std::gmtime(&now));
  return buffer;
}

using Provenance = std::vector<std::pair<std::string, std::string>>;

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

// ----------------------------------------------------------------- timing

struct Stats {
  double median_s = 0, p10_s = 0, p90_s = 0, mean_s = 0, min_s = 0, max_s = 0,
         std_s = 0;
  int samples = 0;
};

double Quantile(const std::vector<double>& sorted, double q) {
  double pos = q * (sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

Stats Summarise(std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  Stats s;
  s.samples = static_cast<int>(seconds.size());
  s.median_s = Quantile(seconds, 0.5);
  s.p10_s = Quantile(seconds, 0.1);
  s.p90_s = Quantile(seconds, 0.9);
  s.min_s = seconds.front();
  s.max_s = seconds.back();
  double sum = 0, sq = 0;
  for (double v : seconds) sum += v;
  s.mean_s = sum / seconds.size();
  for (double v : seconds) sq += (v - s.mean_s) * (v - s.mean_s);
  s.std_s = std::sqrt(sq / seconds.size());
  return s;
}

// Times `launch(rep)` with a CUDA event pair around each launch. The number
// of timed repetitions adapts so that small kernels get `max_reps` samples
// and big ones at least 5, keeping the whole sweep within minutes.
class Timer final {
 public:
  Timer(cudaStream_t stream, int max_reps, int warmup)
      : stream_(stream), max_reps_(max_reps), warmup_(warmup) {
    starts_.resize(max_reps);
    stops_.resize(max_reps);
    for (int i = 0; i < max_reps; ++i) {
      Check(cudaEventCreate(&starts_[i]), "cudaEventCreate");
      Check(cudaEventCreate(&stops_[i]), "cudaEventCreate");
    }
  }
  ~Timer() {
    for (size_t i = 0; i < starts_.size(); ++i) {
      cudaEventDestroy(starts_[i]);
      cudaEventDestroy(stops_[i]);
    }
  }

  Stats Time(const std::function<void(int)>& launch) {
    int rep = 0;
    for (int i = 0; i < std::max(warmup_, 1); ++i) launch(rep++);
    // One timed probe sizes the repetition count (~0.25 s per shape max).
    Check(cudaEventRecord(starts_[0], stream_), "cudaEventRecord");
    launch(rep++);
    Check(cudaEventRecord(stops_[0], stream_), "cudaEventRecord");
    Check(cudaEventSynchronize(stops_[0]), "cudaEventSynchronize");
    float probe_ms = 0;
    Check(cudaEventElapsedTime(&probe_ms, starts_[0], stops_[0]),
          "cudaEventElapsedTime");
    int reps = max_reps_;
    if (probe_ms > 0) {
      reps = std::clamp(static_cast<int>(250.0 / probe_ms), 5, max_reps_);
    }
    for (int i = 0; i < reps; ++i) {
      Check(cudaEventRecord(starts_[i], stream_), "cudaEventRecord");
      launch(rep++);
      Check(cudaEventRecord(stops_[i], stream_), "cudaEventRecord");
    }
    Check(cudaStreamSynchronize(stream_), "kernel execution");
    std::vector<double> seconds;
    for (int i = 0; i < reps; ++i) {
      float ms = 0;
      Check(cudaEventElapsedTime(&ms, starts_[i], stops_[i]),
            "cudaEventElapsedTime");
      seconds.push_back(ms * 1e-3);
    }
    return Summarise(seconds);
  }

 private:
  cudaStream_t stream_;
  int max_reps_;
  int warmup_;
  std::vector<cudaEvent_t> starts_;
  std::vector<cudaEvent_t> stops_;
};

// --------------------------------------------------------- buffer pools

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

// --------------------------------------------------------------- GEMMs

class LtGemm final {
 public:
  explicit LtGemm(cudaStream_t stream) : stream_(stream) {
    Check(cublasLtCreate(&handle_), "cublasLtCreate");
    Check(cudaMalloc(&workspace_, kWorkspaceBytes), "cudaMalloc(workspace)");
  }
  ~LtGemm() {
    cudaFree(workspace_);
    cublasLtDestroy(handle_);
  }

  // Prepares C[m,n] = A[m,k] * W[n,k]^T in BF16 with FP32 accumulation (the
  // PyTorch Linear layout; column-major "TN"). False if cuBLASLt has no
  // algorithm for it.
  bool Prepare(int64_t m, int64_t n, int64_t k) {
    Release();
    Check(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F),
          "MatmulDescCreate");
    cublasOperation_t t = CUBLAS_OP_T, nn = CUBLAS_OP_N;
    Check(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &t,
                                         sizeof(t)),
          "set TRANSA");
    Check(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &nn,
                                         sizeof(nn)),
          "set TRANSB");
    Check(cublasLtMatrixLayoutCreate(&a_, CUDA_R_16BF, k, n, k), "layout W");
    Check(cublasLtMatrixLayoutCreate(&b_, CUDA_R_16BF, k, m, k), "layout A");
    Check(cublasLtMatrixLayoutCreate(&c_, CUDA_R_16BF, n, m, n), "layout C");
    cublasLtMatmulPreference_t pref;
    Check(cublasLtMatmulPreferenceCreate(&pref), "PreferenceCreate");
    size_t ws = kWorkspaceBytes;
    Check(cublasLtMatmulPreferenceSetAttribute(
              pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
          "set workspace");
    int found = 0;
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(
        handle_, op_, a_, b_, c_, c_, pref, 1, &heuristic_, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    return s == CUBLAS_STATUS_SUCCESS && found > 0;
  }

  void Run(const void* w, const void* a, void* c) {
    const float alpha = 1.0f, beta = 0.0f;
    Check(
        cublasLtMatmul(handle_, op_, &alpha, w, a_, a, b_, &beta, c, c_, c, c_,
                       &heuristic_.algo, workspace_, kWorkspaceBytes, stream_),
        "cublasLtMatmul");
  }

 private:
  static constexpr size_t kWorkspaceBytes = 32u << 20;

  void Release() {
    if (op_ != nullptr) cublasLtMatmulDescDestroy(op_);
    if (a_ != nullptr) cublasLtMatrixLayoutDestroy(a_);
    if (b_ != nullptr) cublasLtMatrixLayoutDestroy(b_);
    if (c_ != nullptr) cublasLtMatrixLayoutDestroy(c_);
    op_ = nullptr;
    a_ = b_ = c_ = nullptr;
  }

  cudaStream_t stream_;
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, c_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_ = {};
};

CsvRow RowFromStats(const Stats& s) {
  CsvRow r;
  r.median_s = s.median_s;
  r.p10_s = s.p10_s;
  r.p90_s = s.p90_s;
  r.mean_s = s.mean_s;
  r.min_s = s.min_s;
  r.max_s = s.max_s;
  r.std_s = s.std_s;
  r.samples = s.samples;
  return r;
}

std::vector<CsvRow> MeasureGemms(const std::vector<GemmShape>& shapes,
                                 const std::string& chip, Pool& in, Pool& out,
                                 Timer& timer, cudaStream_t stream) {
  LtGemm gemm(stream);
  std::map<std::tuple<int64_t, int64_t, int64_t>, Stats> cache;
  std::vector<CsvRow> rows;
  size_t done = 0;
  for (const GemmShape& g : shapes) {
    ++done;
    auto key = std::make_tuple(g.m, g.n, g.k);
    auto it = cache.find(key);
    if (it == cache.end()) {
      const size_t w_bytes = static_cast<size_t>(g.n * g.k) * 2;
      const size_t a_bytes = static_cast<size_t>(g.m * g.k) * 2;
      const size_t c_bytes = static_cast<size_t>(g.m * g.n) * 2;
      if (in.Slice(w_bytes + a_bytes + 512, 0) == nullptr ||
          out.Slice(c_bytes, 0) == nullptr || !gemm.Prepare(g.m, g.n, g.k)) {
        std::fprintf(stderr,
                     "  skip gemm m=%lld n=%lld k=%lld (no memory/algorithm)\n",
                     static_cast<long long>(g.m), static_cast<long long>(g.n),
                     static_cast<long long>(g.k));
        continue;
      }
      const size_t w_span = (w_bytes + 255) / 256 * 256;
      Stats s = timer.Time([&](int rep) {
        char* base = in.Slice(w_bytes + a_bytes + 512, rep);
        gemm.Run(base, base + w_span, out.Slice(c_bytes, rep));
      });
      it = cache.emplace(key, s).first;
      if (cache.size() % 50 == 0) {
        std::fprintf(stderr, "  gemm %zu/%zu shapes, %zu unique timed\n", done,
                     shapes.size(), cache.size());
      }
    }
    CsvRow r = RowFromStats(it->second);
    r.op = g.op;
    r.op_class = "gemm";
    r.dtype = "bf16";
    r.chip = chip;
    r.tp = g.tp;
    r.model = g.model;
    r.m = g.m;
    r.n = g.n;
    r.k = g.k;
    r.tokens = g.tokens;
    rows.push_back(r);
  }
  return rows;
}

// ------------------------------------------------------ elementwise ops

std::vector<CsvRow> MeasureElementwise(const std::vector<ModelDims>& models,
                                       const Options& o,
                                       const std::string& chip, Pool& in,
                                       Pool& out, Timer& timer,
                                       cudaStream_t stream) {
  std::vector<CsvRow> rows;
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t>, bool> seen;
  for (const ModelDims& md : models) {
    for (int tp : o.tps) {
      int64_t q, kv;
      if (!HeadsPerChip(md, tp, &q, &kv)) continue;
      const int64_t f = md.ffn / tp;
      for (int64_t t : TokenSweep(o.max_tokens)) {
        struct Op {
          const char* name;
          const char* op_class;
          int64_t elements, width, aux;
        };
        const Op ops[] = {
            {"rmsnorm", "norm", t * md.hidden, md.hidden, 0},
            {"mlp_act", "elementwise", t * f, f, 0},
            {"residual_add", "elementwise", t * md.hidden, md.hidden, 0},
            {"rope", "elementwise", t * (q + kv) * md.head_dim, md.head_dim,
             q + kv},
        };
        for (const Op& op : ops) {
          if (op.width % 8 != 0) continue;
          if (!seen.emplace(
                       std::make_tuple(op.name, op.elements, op.width, op.aux),
                       true)
                   .second) {
            continue;
          }
          const size_t bytes = static_cast<size_t>(op.elements) * 2;
          std::function<void(int)> launch;
          const std::string name = op.name;
          if (name == "rmsnorm") {
            launch = [&, t, w = md.hidden, bytes](int rep) {
              auto* x = reinterpret_cast<__nv_bfloat16*>(
                  in.Slice(bytes + w * 2, rep));
              Check(RmsNorm(
                        x, x + t * w,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        t, w, stream),
                    "RmsNorm");
            };
          } else if (name == "mlp_act") {
            launch = [&, t, f, bytes](int rep) {
              auto* x =
                  reinterpret_cast<__nv_bfloat16*>(in.Slice(2 * bytes, rep));
              Check(SiluAndMul(
                        x,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        t, f, stream),
                    "SiluAndMul");
            };
          } else if (name == "residual_add") {
            launch = [&, bytes, n = op.elements](int rep) {
              auto* x =
                  reinterpret_cast<__nv_bfloat16*>(in.Slice(2 * bytes, rep));
              Check(ResidualAdd(
                        x, x + n,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        n, stream),
                    "ResidualAdd");
            };
          } else {
            // Rotary runs in place: on the output pool, pre-filled with random
            // data.
            launch = [&, t, heads = q + kv, d = md.head_dim, bytes](int rep) {
              auto* x = reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep));
              Check(Rope(x, t, heads, d, stream), "Rope");
            };
          }
          if (in.Slice(2 * bytes + md.hidden * 2, 0) == nullptr ||
              out.Slice(bytes, 0) == nullptr) {
            continue;
          }
          CsvRow r = RowFromStats(timer.Time(launch));
          r.op = op.name;
          r.op_class = op.op_class;
          r.dtype = "bf16";
          r.chip = chip;
          r.tp = tp;
          r.model = md.name;
          r.elements = op.elements;
          r.width = op.width;
          r.tokens = t;
          rows.push_back(r);
        }
      }
    }
  }
  return rows;
}

// ------------------------------------------------------ NCCL all-reduce
#ifdef FLEETSIM_HAVE_NCCL

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
