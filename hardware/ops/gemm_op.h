// File: hardware/ops/gemm_op.h
//
// The GEMM family: projections, MLPs, the LM head, MLA's absorbed per-head
// products and MoE routed experts. C[m, n] = A[m, k] W[k, n] on one chip
// costs 2 m k n tensor FLOPs and b_w k n + b_a (k + n) m bytes (weights
// once, activations per row), with the M-tile and skinny-GEMM terms fitted
// to Vidur's H100 GEMMs (docs/calibration.md §4.1). One definition for the
// simulator's table (hardware/operator_model.cc) and the pricer of measured
// rows (hardware/operator_pricer.h).
#ifndef FLEETSIM_HARDWARE_OPS_GEMM_OP_H_
#define FLEETSIM_HARDWARE_OPS_GEMM_OP_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

// One GEMM per chip: shape.k, shape.n (per chip), shape.weight_bytes,
// shape.op_class (GEMM charges the M-tile term; MOE, the shared experts,
// does not: experts see their own rows, not the batch's). `rows` is the
// feature that counts its m rows.
OpCost GemmCost(const OperatorQuery& shape, Feature rows);

// shape.heads independent [m, k] x [k, n] products (MLA's absorbed W_UK
// and W_UV, one per head). Charged without the M-tile and skinny-GEMM terms,
// which were fitted to single GEMMs.
OpCost BatchedGemmCost(const OperatorQuery& shape, Feature rows);

// MoE routed experts of one layer (SwiGLU experts: gate, up, down):
// shape.k = hidden size, shape.n = expert width per chip, shape.experts,
// shape.top_k. Per token 2 top_k 3 k n FLOPs and the activations of its
// top_k experts; the weights of the experts the batch touches
// (OpCost::num_experts) stream once; the fused layer's permutation traffic
// per (token, expert) pair is an efficiency term (BindOp). Rows are all
// tokens. Under expert parallelism (shape.moe_ep > 1) the chip holds
// E / moe_ep whole experts: balanced routing gives it 1 / moe_ep of the
// pairs and of the experts touched; power-law routing
// (shape.moe_routing_alpha > 0) attaches the most loaded rank's curve
// (OpCost::rank_load), which the unit step reads by the batch's tokens.
OpCost MoeExpertsCost(const OperatorQuery& shape);

// Distinct experts a batch of `tokens` routes to: E (1 - (1 - k/E)^N), or
// min(E, N k) when the tokens are spread evenly (OpCost::spread).
inline double ExpertsTouched(const OpCost& c, double tokens) {
  if (c.spread) {
    // E (1 - exp(log_miss)) = E (k / E) = k pairs per token.
    return std::min(c.num_experts,
                    tokens * (c.num_experts * -std::expm1(c.log_miss)));
  }
  return c.num_experts * (1.0 - std::exp(tokens * c.log_miss));
}

// Token rows a GEMM with m rows is charged for under the M-tile term
// (ClassEfficiency::tile_overhead_rows): m <= 64 costs m * c64, larger m
// min(ceil(m / 64) * 64 * c64, ceil(m / 128) * 128), with c64 = (1 + r / 64) /
// (1 + r / 128) the relative cost of a 64-row tile's FLOPs. Non-decreasing in
// m; >= m. m >= 0.
double GemmTileRows(double m, double tile_overhead_rows);

// The relative cost of a 64-row tile's FLOPs, (1 + r / 64) / (1 + r / 128);
// 0 when the M-tile term is off (r <= 0).
inline double TileCost64(double tile_overhead_rows) {
  const double r = tile_overhead_rows;
  return r > 0 ? (1.0 + r / 64.0) / (1.0 + r / 128.0) : 0.0;
}

// GemmTileRows with c64 = TileCost64(r) > 0 (hot path: two truncating casts,
// no libm). m >= 0.
inline double TileRows(double m, double c64) {
  if (m <= 64) return m * c64;
  double t64 = static_cast<double>(static_cast<int64_t>(m * (1.0 / 64)));
  if (t64 * 64 < m) t64 += 1;
  double t128 = static_cast<double>(static_cast<int64_t>(m * (1.0 / 128)));
  if (t128 * 128 < m) t128 += 1;
  return std::min(t64 * 64 * c64, t128 * 128);
}

// Skinny GEMMs launch too few thread blocks to saturate memory: eta_m(n) =
// eta_m n / (n + n0), n0 = parallel_columns. The factor on seconds per
// byte; 1 when the term is off.
inline double ParallelColumnsFactor(double parallel_columns, double n) {
  return parallel_columns > 0 && n > 0 ? (n + parallel_columns) / n : 1.0;
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_GEMM_OP_H_
