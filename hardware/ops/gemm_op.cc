#include "hardware/ops/gemm_op.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "hardware/moe_routing.h"

namespace fleetsim::hardware {
namespace {

// The GEMM family's start: tensor FLOPs at the weights' precision.
OpCost GemmBase(OpForm form, const OperatorQuery& shape, Feature rows) {
  OpCost c = MakeOpCost(form, shape.op_class, rows);
  c.precision = PrecisionOfWeights(shape.weight_bytes);
  return c;
}

}  // namespace

OpCost GemmCost(const OperatorQuery& shape, Feature rows) {
  const int64_t k = shape.k;
  const int64_t n = shape.n;
  OpCost c = GemmBase(OpForm::kGemm, shape, rows);
  c.flops[rows] = 2.0 * k * n;
  c.bytes[kOne] = shape.weight_bytes * k * n;
  c.bytes[rows] = kActivationBytes * (k + n);
  c.columns = static_cast<double>(n);
  c.m_tiles = shape.op_class == v1::OPERATOR_CLASS_GEMM;
  return c;
}

OpCost BatchedGemmCost(const OperatorQuery& shape, Feature rows) {
  const double k = static_cast<double>(shape.k);
  const double n = static_cast<double>(shape.n);
  const int h = shape.heads;
  OpCost c = GemmBase(OpForm::kBatchedGemm, shape, rows);
  c.flops[rows] = 2.0 * h * k * n;
  c.bytes[kOne] = shape.weight_bytes * h * k * n;
  c.bytes[rows] = kActivationBytes * h * (k + n);
  return c;
}

OpCost MoeExpertsCost(const OperatorQuery& shape) {
  const double e = shape.experts;
  const double k = shape.top_k;
  const double d = static_cast<double>(shape.k);
  const double d_e = static_cast<double>(shape.n);
  OpCost c = GemmBase(OpForm::kMoeExperts, shape, kTokens);
  c.flops[kTokens] = 2.0 * k * 3.0 * d * d_e;
  c.bytes[kTokens] = kActivationBytes * k * (2.0 * d + 3.0 * d_e);
  c.num_experts = e;
  c.log_miss = std::log1p(-std::min(k / e, 1.0 - 1e-12));
  c.expert_bytes = shape.weight_bytes * 3.0 * d * d_e;
  c.spread = shape.moe_spread;
  c.pair_elements = k * d;
  c.layer_pairs = shape.moe_layer_pairs;
  c.top_k = k;
  const int ep = std::max(shape.moe_ep, 1);
  // The layer's pairs the rank's kernel scans (layer_pair_bytes): those of
  // every token, or under the dispatch all-to-all those of the tokens it
  // receives, each with all its top_k choices (the others masked).
  const double received =
      shape.moe_dispatched ? RanksPerToken(shape.top_k, ep) : 1.0;
  c.layer_pairs *= received;
  if (shape.moe_routing_alpha > 0) {
    c.rank_load = std::make_shared<const RankLoadCurve>(
        shape.experts, shape.top_k, ep, shape.moe_routing_alpha);
    c.expert_ranks = ep;
  } else if (ep > 1) {
    // Balanced: this rank's expected 1 / ep of the pairs and of the
    // touched experts (E / ep (1 - (1 - k / E)^N); log_miss stays the
    // layer's), while the layer's pairs are ep times the rank's.
    c.flops[kTokens] /= ep;
    c.bytes[kTokens] /= ep;
    c.pair_elements /= ep;
    c.layer_pairs *= ep;
    c.num_experts /= ep;
  }
  return c;
}

double GemmTileRows(double m, double tile_overhead_rows) {
  const double c64 = TileCost64(tile_overhead_rows);
  return c64 > 0 ? TileRows(std::max(m, 0.0), c64) : std::max(m, 0.0);
}

}  // namespace fleetsim::hardware
