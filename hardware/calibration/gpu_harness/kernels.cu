// Kernels declared in kernels.h. Vector width 8 x bf16 = 16 bytes.
#include "hardware/calibration/gpu_harness/kernels.h"

namespace fleetsim::calibrate {
namespace {

constexpr int kVec = 8;

struct alignas(16) Bf16x8 {
  __nv_bfloat162 h[4];
};

__device__ __forceinline__ uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

__global__ void FillRandomKernel(__nv_bfloat16* data, int64_t count,
                                 uint64_t seed, float scale) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < count;
       i += int64_t{gridDim.x} * blockDim.x) {
    uint64_t bits =
        SplitMix64(seed ^ (static_cast<uint64_t>(i) * 0x2545F4914F6CDD1Dull));
    float unit =
        static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // [0,1)
    data[i] = __float2bfloat16((2.0f * unit - 1.0f) * scale);
  }
}

__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  }
  return v;
}

// One block per token row.
__global__ void RmsNormKernel(const __nv_bfloat16* x,
                              const __nv_bfloat16* weight, __nv_bfloat16* out,
                              int64_t width) {
  const int64_t row = blockIdx.x;
  const Bf16x8* in = reinterpret_cast<const Bf16x8*>(x + row * width);
  const Bf16x8* w = reinterpret_cast<const Bf16x8*>(weight);
  Bf16x8* dst = reinterpret_cast<Bf16x8*>(out + row * width);
  const int64_t vectors = width / kVec;
  float sum = 0.f;
  for (int64_t v = threadIdx.x; v < vectors; v += blockDim.x) {
    Bf16x8 chunk = in[v];
    for (int j = 0; j < 4; ++j) {
      float2 f = __bfloat1622float2(chunk.h[j]);
      sum += f.x * f.x + f.y * f.y;
    }
  }
  __shared__ float partial[32];
  sum = WarpSum(sum);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    float total =
        threadIdx.x < (blockDim.x + 31) / 32 ? partial[threadIdx.x] : 0.f;
    total = WarpSum(total);
    if (threadIdx.x == 0)
      partial[0] = rsqrtf(total / static_cast<float>(width) + 1e-6f);
  }
  __syncthreads();
  const float inv_rms = partial[0];
  for (int64_t v = threadIdx.x; v < vectors; v += blockDim.x) {
    Bf16x8 chunk = in[v];
    Bf16x8 scale = w[v];
    Bf16x8 result;
    for (int j = 0; j < 4; ++j) {
      float2 f = __bfloat1622float2(chunk.h[j]);
      float2 g = __bfloat1622float2(scale.h[j]);
      result.h[j] =
          __floats2bfloat162_rn(f.x * inv_rms * g.x, f.y * inv_rms * g.y);
    }
    dst[v] = result;
  }
}

__global__ void SiluAndMulKernel(const __nv_bfloat16* gate_up,
                                 __nv_bfloat16* out, int64_t tokens,
                                 int64_t width) {
  const int64_t per_row = width / kVec;
  const int64_t total = tokens * per_row;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = i / per_row;
    const int64_t v = i % per_row;
    const Bf16x8* row =
        reinterpret_cast<const Bf16x8*>(gate_up + t * 2 * width);
    Bf16x8 gate = row[v];
    Bf16x8 up = row[per_row + v];
    Bf16x8 result;
    for (int j = 0; j < 4; ++j) {
      float2 g = __bfloat1622float2(gate.h[j]);
      float2 u = __bfloat1622float2(up.h[j]);
      float sx = g.x / (1.f + __expf(-g.x));
      float sy = g.y / (1.f + __expf(-g.y));
      result.h[j] = __floats2bfloat162_rn(sx * u.x, sy * u.y);
    }
    reinterpret_cast<Bf16x8*>(out + t * width)[v] = result;
  }
}

__global__ void ResidualAddKernel(const __nv_bfloat16* a,
                                  const __nv_bfloat16* b, __nv_bfloat16* out,
                                  int64_t vectors) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < vectors;
       i += int64_t{gridDim.x} * blockDim.x) {
    Bf16x8 x = reinterpret_cast<const Bf16x8*>(a)[i];
    Bf16x8 y = reinterpret_cast<const Bf16x8*>(b)[i];
    Bf16x8 r;
    for (int j = 0; j < 4; ++j) r.h[j] = __hadd2(x.h[j], y.h[j]);
    reinterpret_cast<Bf16x8*>(out)[i] = r;
  }
}

__global__ void RopeKernel(__nv_bfloat16* qk, int64_t tokens, int64_t heads,
                           int64_t head_dim) {
  const int64_t half = head_dim / 2;
  const int64_t total = tokens * heads * half;
  const float log_base = __logf(10000.f);
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t pair = i % half;
    const int64_t vec = i / half;  // token * heads + head
    const int64_t token = vec / heads;
    __nv_bfloat16* base = qk + vec * head_dim;
    const float inv_freq = __expf(-log_base * (2.f * pair) / head_dim);
    float s, c;
    __sincosf(static_cast<float>(token) * inv_freq, &s, &c);
    const float x1 = __bfloat162float(base[pair]);
    const float x2 = __bfloat162float(base[pair + half]);
    base[pair] = __float2bfloat16(x1 * c - x2 * s);
    base[pair + half] = __float2bfloat16(x2 * c + x1 * s);
  }
}

// Enough blocks to fill any current GPU several times over; grid-stride
// loops cover the rest.
unsigned int Blocks(int64_t work, int threads) {
  int64_t blocks = (work + threads - 1) / threads;
  if (blocks > 65536) blocks = 65536;
  return static_cast<unsigned int>(blocks < 1 ? 1 : blocks);
}

}  // namespace

cudaError_t FillRandomBf16(__nv_bfloat16* data, int64_t count, uint64_t seed,
                           float scale, cudaStream_t stream) {
  FillRandomKernel<<<Blocks(count, 256), 256, 0, stream>>>(data, count, seed,
                                                           scale);
  return cudaGetLastError();
}

cudaError_t RmsNorm(const __nv_bfloat16* x, const __nv_bfloat16* weight,
                    __nv_bfloat16* out, int64_t tokens, int64_t width,
                    cudaStream_t stream) {
  int threads = static_cast<int>(width / kVec);
  threads = threads > 1024 ? 1024 : ((threads + 31) / 32) * 32;
  RmsNormKernel<<<static_cast<unsigned int>(tokens), threads, 0, stream>>>(
      x, weight, out, width);
  return cudaGetLastError();
}

cudaError_t SiluAndMul(const __nv_bfloat16* gate_up, __nv_bfloat16* out,
                       int64_t tokens, int64_t width, cudaStream_t stream) {
  SiluAndMulKernel<<<Blocks(tokens * width / kVec, 256), 256, 0, stream>>>(
      gate_up, out, tokens, width);
  return cudaGetLastError();
}

cudaError_t ResidualAdd(const __nv_bfloat16* a, const __nv_bfloat16* b,
                        __nv_bfloat16* out, int64_t elements,
                        cudaStream_t stream) {
  ResidualAddKernel<<<Blocks(elements / kVec, 256), 256, 0, stream>>>(
      a, b, out, elements / kVec);
  return cudaGetLastError();
}

cudaError_t Rope(__nv_bfloat16* qk, int64_t tokens, int64_t heads,
                 int64_t head_dim, cudaStream_t stream) {
  RopeKernel<<<Blocks(tokens * heads * head_dim / 2, 256), 256, 0, stream>>>(
      qk, tokens, heads, head_dim);
  return cudaGetLastError();
}

}  // namespace fleetsim::calibrate
