// File: hardware/calibration/gpu_harness/kernels.h
//
// The small CUDA kernels the calibration harness times besides library
// GEMMs: the per-token elementwise and normalisation operators of a
// transformer layer, written the way a serving engine's unfused kernels are
// (one pass, 16-byte vector loads, fp32 math, bf16 storage), plus a random
// fill so that no benchmark reads all-zero data. All launch on `stream` and
// return the launch's cudaError_t; none synchronises.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_KERNELS_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_KERNELS_H_

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace fleetsim::calibrate {

// Fills `count` bf16 values with a deterministic hash of (seed, index),
// uniform in [-scale, scale].
cudaError_t FillRandomBf16(__nv_bfloat16* data, int64_t count, uint64_t seed,
                           float scale, cudaStream_t stream);

// RMSNorm: out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * weight.
// x, out: [tokens, width]; weight: [width]. REQUIRES: width % 8 == 0.
cudaError_t RmsNorm(const __nv_bfloat16* x, const __nv_bfloat16* weight,
                    __nv_bfloat16* out, int64_t tokens, int64_t width,
                    cudaStream_t stream);

// Gated activation (SwiGLU): out[t, j] = silu(gate_up[t, j]) *
// gate_up[t, width + j]. gate_up: [tokens, 2 * width]; out: [tokens, width].
// REQUIRES: width % 8 == 0.
cudaError_t SiluAndMul(const __nv_bfloat16* gate_up, __nv_bfloat16* out,
                       int64_t tokens, int64_t width, cudaStream_t stream);

// Residual add: out = a + b over `elements` values. REQUIRES: elements % 8 ==
// 0.
cudaError_t ResidualAdd(const __nv_bfloat16* a, const __nv_bfloat16* b,
                        __nv_bfloat16* out, int64_t elements,
                        cudaStream_t stream);

// Rotary embedding (NeoX layout: rotate halves) applied in place to
// `heads` vectors of `head_dim` per token (query and key heads together),
// position of token t = t. qk: [tokens, heads, head_dim].
// REQUIRES: head_dim even.
cudaError_t Rope(__nv_bfloat16* qk, int64_t tokens, int64_t heads,
                 int64_t head_dim, cudaStream_t stream);

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_KERNELS_H_
