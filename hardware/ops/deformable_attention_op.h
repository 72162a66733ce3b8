// File: hardware/ops/deformable_attention_op.h
//
// The deformable-attention family: the sampler of multi-scale deformable
// attention (MSDA; Zhu et al., "Deformable DETR", ICLR 2021,
// arXiv:2010.04159, eq. 3). Each query attends to M heads x L levels x K
// points; every sampled point is a bilinear interpolation of the 4
// neighbouring value vectors of its head (C / M channels each), weighted by
// the point's attention weight and summed. The projections around it (value,
// sampling offsets and attention weights, output) are GEMMs (gemm_op.h);
// this file prices what lies between them, which no tensor core runs: a
// gather of 4 L K C value elements per query and 5 multiply-adds per
// gathered channel and point (the paper's Appendix A.1 counts "5 N_q K C"
// for the bilinear interpolation and the weighted sum of one level), on
// the vector units.
//
// Memory traffic is the gather's misses: a share h (cache_hit_fraction) of
// the neighbour reads is served on chip (L2, shared memory, an
// accelerator's buffer), the rest comes from memory. h is an ASSUMPTION of
// the kernel's schedule, not of the model: the reference CUDA kernel walks
// the queries in raster order, so neighbouring queries' points overlap
// only by chance; QUILL (arXiv:2511.13679) orders queries by spatial
// proximity and prefetches the region they sample, raising h. A schedule
// cannot miss fewer bytes than the distinct value elements it touches:
// where the value map is read by its own queries (the encoder) the misses
// are at least the value map once.
#ifndef FLEETSIM_HARDWARE_OPS_DEFORMABLE_ATTENTION_OP_H_
#define FLEETSIM_HARDWARE_OPS_DEFORMABLE_ATTENTION_OP_H_

#include <string_view>

#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// ASSUMPTION (no published measurement found): half of the sampler's
// neighbour reads hit on chip under the reference raster-order kernel.
// Overridable per model (Model.deformable_detr.cache_hit_fraction) and in
// `fleetsim estimate --cache-hit-fraction`.
inline constexpr double kDefaultCacheHitFraction = 0.5;

// One MSDA sampler's shape (one chip, no tensor parallelism).
struct MsdaShape {
  int d_model = 0;                                       // C
  int heads = 0;                                         // M
  int levels = 0;                                        // L
  int points = 0;                                        // K
  double cache_hit_fraction = kDefaultCacheHitFraction;  // h in [0, 1)
  double value_bytes = kActivationBytes;  // bytes per value element
};

// Hand-checkable counts per query (Deformable DETR, C = 256, M = 8, L = 4,
// K = 4: 128 points, 16,384 neighbour elements, 32 KiB in bf16, 40,960
// FLOPs).
struct MsdaCounts {
  double sampled_points = 0;     // M L K
  double gathered_elements = 0;  // 4 neighbours x M L K x C / M = 4 L K C
  double gathered_bytes = 0;     // gathered_elements x value_bytes
  double flops = 0;  // 2 x 5 x L K C: 5 multiply-adds per channel and point
  // Per query besides the gather: its offsets and weights read (3 M L K
  // elements) and its output written (C).
  double io_bytes = 0;
};
MsdaCounts MsdaPerQuery(const MsdaShape& s);

// One sampler invocation over x[queries] query rows. Memory bytes per query:
// (1 - h) x gathered_bytes + io_bytes, but at least `value_bytes_per_query`
// + io_bytes (the value map read once; 0 = no floor). Vector FLOPs:
// MsdaCounts::flops. Charged to `op_class`'s efficiencies (the simulator
// uses ATTENTION_DECODE's, the other gather of cached vectors).
OpCost MsdaSamplingCost(const MsdaShape& s, Feature queries,
                        double value_bytes_per_query,
                        v1::OperatorClass op_class);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_DEFORMABLE_ATTENTION_OP_H_
