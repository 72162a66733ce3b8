// File: hardware/ops/priced_op.h
//
// The unit step every operator family shares: an OpCost bound to one chip
// (seconds per tensor FLOP, vector FLOP and byte at its class's
// efficiencies) and priced at a batch's features. One invocation takes
//   max(combine(t_tensor, t_vector, t_memory), floor)
// where combine() is a smooth maximum (sum of p-th powers, p-th root; p = 1
// adds the terms, p -> infinity is the plain roofline max) and the unit with
// the largest term bounds it; collectives take the ring formula
// (collective_op.h). The family terms that are not linear in the features
// (GEMM M tiles and skinny columns, MoE experts touched, the prefill
// compute ramp, norm waves and cache residency) apply here, from the flags
// the families set. The simulator's hot path and the pricer run the same
// inline Seconds().
#ifndef FLEETSIM_HARDWARE_OPS_PRICED_OP_H_
#define FLEETSIM_HARDWARE_OPS_PRICED_OP_H_

#include <algorithm>
#include <cmath>
#include <string_view>

#include "absl/base/attributes.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/latency_model.h"
#include "hardware/moe_routing.h"
#include "hardware/operator_options.h"
#include "hardware/ops/attention_op.h"
#include "hardware/ops/collective_op.h"
#include "hardware/ops/elementwise_op.h"
#include "hardware/ops/gemm_op.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// How the tensor, vector and memory times of an operator combine.
// p in {1, 4/3, 3/2, 2} (within 0.005; what `fleetsim calibrate fit` picks
// from) and p >= 32 have closed forms with one or two sqrt/cbrt; any other p
// costs four std::pow calls per operator.
enum class CombineMode { kMax, kSum, kP43, kP15, kP2, kGeneric };

CombineMode ModeFor(double p);

inline double Combine(CombineMode mode, double p, double a, double b,
                      double c) {
  const double m = std::max(a, std::max(b, c));
  if (m <= 0) return 0;
  switch (mode) {
    case CombineMode::kMax:
      return m;
    case CombineMode::kSum:
      return a + b + c;
    case CombineMode::kP43: {
      // (sum x^(4/3))^(3/4)
      const double s = a * std::cbrt(a) + b * std::cbrt(b) + c * std::cbrt(c);
      return std::sqrt(std::sqrt(s * s * s));
    }
    case CombineMode::kP15: {
      const double s = a * std::sqrt(a) + b * std::sqrt(b) + c * std::sqrt(c);
      return std::cbrt(s * s);
    }
    case CombineMode::kP2:
      return std::sqrt(a * a + b * b + c * c);
    case CombineMode::kGeneric:
      break;
  }
  return std::pow(std::pow(a, p) + std::pow(b, p) + std::pow(c, p), 1.0 / p);
}

// The roofline time of one invocation and the unit that bounds it.
inline double RooflineSeconds(CombineMode mode, double p, double s_per_flop,
                              double s_per_vector_flop, double s_per_byte,
                              double ramp_bytes, double floor_s,
                              double compute_latency_s, double flops,
                              double vflops, double bytes, Bound* bound) {
  const double tc = flops > 0 ? flops * s_per_flop + compute_latency_s : 0;
  const double tv = vflops * s_per_vector_flop;
  const double tm = bytes > 0 ? (bytes + ramp_bytes) * s_per_byte : 0;
  const double seconds = Combine(mode, p, tc, tv, tm);
  if (seconds < floor_s) {
    *bound = Bound::kFloor;
    return floor_s;
  }
  if (tc >= tv && tc >= tm) {
    *bound = Bound::kCompute;
  } else if (tv >= tm) {
    *bound = Bound::kVector;
  } else {
    *bound = Bound::kMemory;
  }
  return seconds;
}

// What one invocation did: FLOPs, vector FLOPs and bytes of traffic (MoE:
// with the touched experts' weights).
struct OpWork {
  double flops = 0;
  double vector_flops = 0;
  double bytes = 0;
};

// An OpCost with the rates of the unit that runs it on one chip.
struct PricedOp {
  OpCost cost;
  // Seconds per FLOP / vector FLOP / byte (the skinny-GEMM factor folded
  // in), the memory ramp, the launch floor and the combine rule.
  double s_per_flop = 0;
  double s_per_vector_flop = 0;
  double s_per_byte = 0;
  double ramp_bytes = 0;
  double floor_s = 0;
  double p = 1.5;
  CombineMode mode = CombineMode::kP15;
  // Fused prefill attention: eta_c(L) = eta_c L / (L + ramp).
  double compute_ramp_tokens = 0;
  // GEMM: seconds added to the tensor term, and the relative cost of a
  // 64-row tile's FLOPs (0 = no M-tile term; GemmTileRows).
  double compute_latency_s = 0;
  double tile_cost_64 = 0;
  // Any non-zero FLOP / vector FLOP coefficient (the hot path skips empty
  // dot products); MoE experts' weights to add (a byte test on the hot path
  // instead of a floating-point compare).
  bool has_flops = false;
  bool has_vector_flops = false;
  bool has_experts = false;
  // MoE under power-law routing (OpCost::rank_load): the layer's
  // permutation bytes per token, which do not follow the rank's share.
  double layer_pair_bytes_per_row = 0;
  // Norm / elementwise: the wave, per-row and cache terms are on (and the
  // traffic is bytes-per-row times rows); rows per wave (0 = no wave term)
  // and 1 / wave_rows, 1 / W0 of the cache term (0 = off), speedup - 1 and
  // 1 / speedup at u -> 0, bytes of fixed cost per row (docs/calibration.md
  // §4). Divisions hoisted here from the hot path.
  bool memory_terms = false;
  double wave_rows = 0;
  double inv_wave_rows = 0;
  double inv_cache_bytes = 0;
  double cache_gain = 0;
  double cache_resident = 1;
  double row_bytes = 0;
  // Collectives: seconds per byte of the link, latency per step; with a
  // measured alpha-beta fit (ClassEfficiency::collective_fits, all-reduce
  // within a node) the two lines, the time being the smaller.
  double link_s_per_byte = 0;
  double alpha_s = 0;
  bool two_lines = false;
  double bus_s_per_byte = 0;
  double bulk_alpha_s = 0;
  double bulk_bus_s_per_byte = 0;
  // Attention: fixed seconds per invocation, seconds of fixed work per
  // work unit divided over the compute units (decode: per request per KV
  // head), and the FlashAttention-3 tile loop (prefill; tile_step_s = one
  // tile step on one compute unit, 0 = off; attention_op.h).
  double latency_s = 0;
  double unit_s = 0;
  double unit_s_per_chip = 0;
  double tile_q_rows = 0;
  double tile_kv_rows = 0;
  double tile_step_s = 0;
  double compute_units = 1;
  // SSM conv: prompts run in tiles of seq_tile_rows tokens, so the
  // prompts of a batch move at least seq_tile_rows rows each (0 = off;
  // ClassEfficiency::tile_q_rows of its entry).
  double seq_tile_rows = 0;

  // Seconds of one invocation at batch features x (whatever x[gate] is;
  // callers gate), what it did and the unit that bounds it (kNetwork for a
  // collective above its floor). Always inlined: it is the body of the
  // simulator's hot loop, where a call costs ~15 % of IterationSeconds.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline double Seconds(const double* x,
                                                     OpWork* work,
                                                     Bound* bound) const;
};

// The dense tensor peak, TFLOP/s, that GEMMs run at on `chip`: FP4's with
// FP4 weights, FP8's (or INT8's) with 8-bit weights, else BF16's. Also
// MFU's peak (sim/operator_totals.h).
double TensorTflops(const v1::Chip& chip, TensorPrecision precision);
// The precision of that peak, which selects a chip's dtype efficiency
// entries (OperatorEfficiency.dtype; FP4 also takes FP8's,
// ResolveEfficiency): FP4 with FP4 weights, FP8 (INT8 on a chip without
// FP8) with 8-bit weights, else BF16.
v1::Dtype TensorDtype(const v1::Chip& chip, TensorPrecision precision);

// Binds `cost` to `chip` with `e`, the efficiency of its class and operator
// (ResolveEfficiency), and the options' overlap exponent.
PricedOp BindOp(const OpCost& cost, const ClassEfficiency& e,
                const v1::Chip& chip, const OperatorModelOptions& o);
// The same with the efficiency `o` resolves for operator `name` of the
// cost's class at the precision it runs in: how a latency model's operator
// table binds each entry.
PricedOp BindNamedOp(const OpCost& cost, std::string_view name,
                     const v1::Chip& chip, const OperatorModelOptions& o);

ABSL_ATTRIBUTE_ALWAYS_INLINE inline double PricedOp::Seconds(
    const double* x, OpWork* work, Bound* bound) const {
  // Memory-bound kernels have no tensor FLOPs, GEMMs no vector FLOPs,
  // collectives neither: skip the empty dot products.
  double flops = has_flops ? Dot(cost.flops, x) : 0.0;
  double reported_flops = flops;
  const double vflops = has_vector_flops ? Dot(cost.vector_flops, x) : 0.0;
  double bytes = Dot(cost.bytes, x);
  double seconds = 0;
  *bound = Bound::kNetwork;
  if (cost.collective != CollectiveKind::kNone) {
    seconds = two_lines ? TwoLineAllReduceSeconds(cost.ranks, bytes, alpha_s,
                                                  bus_s_per_byte, bulk_alpha_s,
                                                  bulk_bus_s_per_byte)
                        : CollectiveSeconds(cost.collective, cost.ranks, bytes,
                                            link_s_per_byte, alpha_s);
    if (seconds < floor_s) {
      seconds = floor_s;
      *bound = Bound::kFloor;
    }
  } else {
    double s_flop = s_per_flop;
    if (tile_cost_64 > 0 && x[cost.rows] > 0) {
      // GEMM: FLOPs are linear in the rows; charge the padded tiles.
      const double rows = x[cost.rows];
      s_flop *= TileRows(rows, tile_cost_64) / rows;
    }
    if (compute_ramp_tokens > 0) {
      s_flop *= ContextRampFactor(compute_ramp_tokens, x);
    }
    if (has_experts) {
      if (cost.rank_load == nullptr) {
        bytes += ExpertsTouched(cost, x[kTokens]) * cost.expert_bytes;
      } else {
        // The layer waits for its slowest rank: the one with the most
        // pairs (the per-token coefficients are for top_k pairs per token)
        // or the one streaming the most experts' weights, whichever the
        // roofline prices slower.
        const RankLoads loads = cost.rank_load->At(x[kTokens]);
        const double layer_bytes = layer_pair_bytes_per_row * x[kTokens];
        auto rank_flops = [&](const RankLoad& l) {
          return flops * l.pairs / cost.top_k;
        };
        auto rank_bytes = [&](const RankLoad& l) {
          return bytes * l.pairs / cost.top_k + layer_bytes +
                 l.experts * cost.expert_bytes;
        };
        auto rank_seconds = [&](const RankLoad& l) {
          Bound ignored;
          return RooflineSeconds(mode, p, s_flop, s_per_vector_flop, s_per_byte,
                                 ramp_bytes, floor_s, compute_latency_s,
                                 rank_flops(l), vflops, rank_bytes(l),
                                 &ignored);
        };
        const RankLoad& slowest =
            rank_seconds(loads.most_experts) > rank_seconds(loads.most_pairs)
                ? loads.most_experts
                : loads.most_pairs;
        reported_flops = flops / cost.expert_ranks;
        flops = rank_flops(slowest);
        bytes = rank_bytes(slowest);
      }
    }
    if (seq_tile_rows > 0) {
      const double pad =
          seq_tile_rows * x[kPrefillRequests] - x[kPrefillTokens];
      if (pad > 0) bytes += pad * cost.bytes[kTokens];
    }
    double s_byte = s_per_byte;
    double charged_bytes = bytes;
    if (memory_terms && bytes > 0) {
      // Norm / elementwise: bytes = bytes[rows] * rows.
      const double rows = x[cost.rows];
      const double per_row = cost.bytes[cost.rows] + row_bytes;
      charged_bytes =
          per_row *
          (wave_rows > 0 ? WaveRows(rows, wave_rows, inv_wave_rows) : rows);
      if (inv_cache_bytes > 0) {
        s_byte *=
            CacheFactor(bytes * inv_cache_bytes, cache_gain, cache_resident);
      }
    }
    if (tile_step_s > 0) {
      // FlashAttention-3 prefill: the tile loop's time is the tensor term,
      // the softmax hides under the matmuls.
      const double tensor_s = FlashTileSeconds(
          x, cost.attention_heads, cost.attention_kv_heads, tile_q_rows,
          tile_kv_rows, tile_step_s, unit_s, compute_units);
      seconds = RooflineSeconds(mode, p, 1.0, 0, s_byte, ramp_bytes, floor_s, 0,
                                tensor_s, 0, charged_bytes, bound);
    } else {
      seconds = RooflineSeconds(mode, p, s_flop, s_per_vector_flop, s_byte,
                                ramp_bytes, floor_s, compute_latency_s, flops,
                                vflops, charged_bytes, bound);
    }
    if (unit_s_per_chip > 0) {
      seconds += unit_s_per_chip * x[kDecodeRequests] * cost.attention_kv_heads;
    }
    seconds += latency_s;
  }
  work->flops = reported_flops;
  work->vector_flops = vflops;
  work->bytes = bytes;
  return seconds;
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_PRICED_OP_H_
