#include "hardware/calibration/gpu_harness/measure_gemm.h"

#include <cublasLt.h>

#include <cstdio>
#include <map>
#include <tuple>

#include "hardware/calibration/gpu_harness/cuda_check.h"

namespace fleetsim::calibrate {

namespace {

// cuBLASLt set up for one GEMM shape at a time.
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

}  // namespace

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

}  // namespace fleetsim::calibrate
