#include "hardware/calibration/efficiency_params.h"

#include <algorithm>
#include <cmath>

namespace fleetsim::hardware {

double ToValue(FitParam p, double x) {
  switch (p) {
    case FitParam::kCompute:
    case FitParam::kMemory:
    case FitParam::kVector:
    case FitParam::kCacheFraction:        // W0 cannot exceed the on-chip memory
      return 1.0 / (1.0 + std::exp(-x));  // (0, 1)
    case FitParam::kOverlap:
    case FitParam::kCacheSpeedup:
      return 1.0 + std::exp(x);  // (1, inf)
    default:
      return std::exp(x);  // (0, inf)
  }
}

double ToCoordinate(FitParam p, double v) {
  switch (p) {
    case FitParam::kCompute:
    case FitParam::kMemory:
    case FitParam::kVector:
    case FitParam::kCacheFraction: {
      const double c = std::clamp(v, 0.02, 0.98);
      return std::log(c / (1 - c));
    }
    case FitParam::kOverlap:
    case FitParam::kCacheSpeedup:
      return std::log(std::max(v - 1.0, 0.05));
    default:
      return std::log(std::max(v, 1e-3));
  }
}

void SetField(FitParam p, double v, v1::OperatorEfficiency* e) {
  switch (p) {
    case FitParam::kCompute:
      e->set_compute(v);
      break;
    case FitParam::kMemory:
      e->set_memory(v);
      break;
    case FitParam::kVector:
      e->set_vector(v);
      break;
    case FitParam::kRampMb:
      e->set_memory_ramp_mb(v);
      break;
    case FitParam::kParallelColumns:
      e->set_parallel_columns(v);
      break;
    case FitParam::kFloorUs:
      e->set_floor_us(v);
      break;
    case FitParam::kOverlap:
      e->set_overlap_exponent(v);
      break;
    case FitParam::kComputeRampTokens:
      e->set_compute_ramp_tokens(v);
      break;
    case FitParam::kCacheSpeedup:
      e->set_cache_speedup(v);
      break;
    case FitParam::kCacheFraction:
      e->set_cache_fraction(v);
      break;
    case FitParam::kRowsPerUnit:
      e->set_rows_per_unit(v);
      break;
    case FitParam::kRowOverheadKb:
      e->set_row_overhead_kb(v);
      break;
    case FitParam::kComputeLatencyUs:
      e->set_compute_latency_us(v);
      break;
    case FitParam::kTileOverheadRows:
      e->set_tile_overhead_rows(v);
      break;
    case FitParam::kLatencyUs:
      e->set_latency_us(v);
      break;
    case FitParam::kUnitLatencyUs:
      e->set_unit_latency_us(v);
      break;
    case FitParam::kLocalPairBytes:
      e->set_local_pair_bytes(v);
      break;
    case FitParam::kLayerPairBytes:
      e->set_layer_pair_bytes(v);
      break;
  }
}

std::vector<FitParam> ParamsFor(v1::OperatorClass c, int named) {
  if (named == static_cast<int>(NamedOperator::kMlaDecode)) {
    // MLA's absorbed decode (MQA over the latent: 2 x 1088 FLOPs per head
    // per cached token) is compute-bound from ~128 heads on a chip on
    // Hopper: its kernel's tensor efficiency, the overlap of the tensor
    // and latent-stream times near the ridge, and the decode terms.
    return {FitParam::kCompute, FitParam::kMemory, FitParam::kLatencyUs,
            FitParam::kUnitLatencyUs, FitParam::kOverlap};
  }
  if (named == static_cast<int>(NamedOperator::kSsmConv)) {
    // Mamba-2's causal depthwise conv (a memory-bound row kernel over the
    // conv channels): its bandwidth and a latency per call (its few vector
    // FLOPs cannot identify a vector efficiency).
    return {FitParam::kMemory, FitParam::kLatencyUs,
            FitParam::kOverlap};  // tiles: SetFixedFields
  }
  if (named == static_cast<int>(NamedOperator::kMoe)) {
    // The fused MoE layer (docs/calibration.md §4.4): the grouped GEMMs'
    // tensor efficiency and the experts' weight stream, a latency per call
    // (routing, permutation and their launches), the permutation traffic
    // per (token, expert) pair on the chip and per pair of the layer, and
    // the overlap of the tensor and memory times.
    return {FitParam::kCompute,        FitParam::kMemory,
            FitParam::kLatencyUs,      FitParam::kLocalPairBytes,
            FitParam::kLayerPairBytes, FitParam::kOverlap};
  }
  switch (c) {
    case v1::OPERATOR_CLASS_GEMM:
      return {FitParam::kCompute,          FitParam::kMemory,
              FitParam::kRampMb,           FitParam::kParallelColumns,
              FitParam::kFloorUs,          FitParam::kOverlap,
              FitParam::kComputeLatencyUs, FitParam::kTileOverheadRows};
    case v1::OPERATOR_CLASS_ATTENTION_PREFILL:
      // FlashAttention-3's tile loop (tiles fixed at its Hopper kernels'
      // 128 x 128, SetFixedFields): the tensor efficiency of a tile step,
      // the fixed work per tile and per call, and the overlap with the
      // memory traffic.
      return {FitParam::kCompute, FitParam::kUnitLatencyUs,
              FitParam::kLatencyUs, FitParam::kOverlap};
    case v1::OPERATOR_CLASS_ATTENTION_DECODE:
      // A latency in seconds (the same microseconds on chips of different
      // bandwidth) plus the KV stream at eta_m plus fixed work per request
      // and KV head. Not eta_c: GQA decode is memory-bound and cannot
      // identify it (compute-bound MLA decode has its own entry, above).
      return {FitParam::kMemory, FitParam::kLatencyUs,
              FitParam::kUnitLatencyUs};
    case v1::OPERATOR_CLASS_NORM:
      // No floor: one wave's bytes already set the shortest norm, and they
      // scale with the row width; a fitted floor would pin every width to
      // the widest measured model's single-wave time (Vidur's H100 rows:
      // 4 us at 4096, 6 us at 8192). The ramp carries the launch latency.
      return {FitParam::kMemory, FitParam::kRampMb, FitParam::kCacheSpeedup,
              FitParam::kCacheFraction, FitParam::kRowOverheadKb};
    case v1::OPERATOR_CLASS_ELEMENTWISE:
      return {FitParam::kMemory,        FitParam::kRampMb,
              FitParam::kFloorUs,       FitParam::kCacheSpeedup,
              FitParam::kCacheFraction, FitParam::kRowOverheadKb};
    default:
      // COLLECTIVE: FitCollective.
      return {};
  }
}

void SetFixedFields(v1::OperatorClass c, v1::OperatorEfficiency* e) {
  switch (c) {
    case v1::OPERATOR_CLASS_NORM:
      e->set_floor_us(0);
      break;
    case v1::OPERATOR_CLASS_ATTENTION_PREFILL:
      // FA3's Hopper tiles for head_dim 128 (Shah et al., arXiv 2407.08608
      // §4; hopper/tile_size.h in Dao-AILab/flash-attention): 128 query rows
      // x 128 keys. The latency replaces the floor; the tile loop replaces
      // the context ramp.
      e->set_tile_q_rows(128);
      e->set_tile_kv_rows(128);
      e->set_compute_ramp_tokens(0);
      e->set_floor_us(0);
      break;
    case v1::OPERATOR_CLASS_ATTENTION_DECODE:
      // The latency (seconds) replaces the MB ramp and the floor.
      e->set_memory_ramp_mb(0);
      e->set_floor_us(0);
      break;
    case v1::OPERATOR_CLASS_SSM:
      // The latency per call replaces the floor. The conv runs each prompt
      // in tiles of 512 tokens (aiconfigurator's H100 causal_conv1d_fn
      // rows: flat up to 512 tokens per sequence, then linear; of 256, 512
      // and 1024-token tiles, 512 fits, docs/calibration.md §4.5).
      e->set_floor_us(0);
      e->set_memory_ramp_mb(0);
      e->set_tile_q_rows(512);
      break;
    case v1::OPERATOR_CLASS_MOE:
      // The fused layer's latency per call replaces the GEMM defaults'
      // ramp, floor and tile-loop latency.
      e->set_memory_ramp_mb(0);
      e->set_floor_us(0);
      e->set_compute_latency_us(0);
      break;
    default:
      break;
  }
}

double StartValue(FitParam p, const ClassEfficiency& e) {
  switch (p) {
    case FitParam::kCompute:
      return e.compute;
    case FitParam::kMemory:
      return e.memory;
    case FitParam::kVector:
      return e.vector;
    case FitParam::kRampMb:
      return e.memory_ramp_bytes > 0 ? e.memory_ramp_bytes * 1e-6 : 1.0;
    case FitParam::kParallelColumns:
      return e.parallel_columns > 0 ? e.parallel_columns : 256;
    case FitParam::kFloorUs:
      return e.floor_s > 0 ? e.floor_s * 1e6 : 2.0;
    case FitParam::kOverlap:
      return e.overlap_exponent > 0 ? e.overlap_exponent : 1.5;
    case FitParam::kComputeRampTokens:
      return e.compute_ramp_tokens > 0 ? e.compute_ramp_tokens : 256;
    case FitParam::kCacheSpeedup:
      return e.cache_speedup > 1.05 ? e.cache_speedup : 1.5;
    case FitParam::kCacheFraction:
      return e.cache_fraction > 0 ? e.cache_fraction : 0.5;
    case FitParam::kRowsPerUnit:
      return e.rows_per_unit > 0 ? e.rows_per_unit : 2;
    case FitParam::kRowOverheadKb:
      return e.row_overhead_bytes > 0 ? e.row_overhead_bytes * 1e-3 : 1.0;
    case FitParam::kComputeLatencyUs:
      return e.compute_latency_s > 0 ? e.compute_latency_s * 1e6 : 2.0;
    case FitParam::kTileOverheadRows:
      return e.tile_overhead_rows > 0 ? e.tile_overhead_rows : 16.0;
    case FitParam::kLatencyUs:
      return e.latency_s > 0 ? e.latency_s * 1e6 : 5.0;
    case FitParam::kUnitLatencyUs:
      return e.unit_latency_s > 0 ? e.unit_latency_s * 1e6 : 1.0;
    case FitParam::kLocalPairBytes:
      return e.local_pair_bytes > 0 ? e.local_pair_bytes : 4.0;
    case FitParam::kLayerPairBytes:
      return e.layer_pair_bytes > 0 ? e.layer_pair_bytes : 4.0;
  }
  return 1;
}

}  // namespace fleetsim::hardware
