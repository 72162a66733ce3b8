#include "hardware/ops/priced_op.h"

namespace fleetsim::hardware {

CombineMode ModeFor(double p) {
  if (p >= 32) return CombineMode::kMax;
  if (std::fabs(p - 1.0) < 0.005) return CombineMode::kSum;
  if (std::fabs(p - 4.0 / 3.0) < 0.005) return CombineMode::kP43;
  if (std::fabs(p - 1.5) < 0.005) return CombineMode::kP15;
  if (std::fabs(p - 2.0) < 0.005) return CombineMode::kP2;
  return CombineMode::kGeneric;
}

double TensorTflops(const v1::Chip& chip, TensorPrecision precision) {
  // A pool's precision is checked against the chip before a model is built
  // (sim::ResolveFleet), so the fall-backs below only serve the shape-only
  // pricer. 8-bit weights: FP8's peak, or INT8's on a chip without FP8 (the
  // catalog's chips with both have equal peaks).
  if (precision == TensorPrecision::kFp4 && chip.fp4_tflops() > 0)
    return chip.fp4_tflops();
  const double eight_bit_tflops =
      chip.fp8_tflops() > 0 ? chip.fp8_tflops() : chip.int8_tops();
  return precision != TensorPrecision::kWide && eight_bit_tflops > 0
             ? eight_bit_tflops
             : chip.bf16_tflops();
}

v1::Dtype TensorDtype(const v1::Chip& chip, TensorPrecision precision) {
  if (precision == TensorPrecision::kWide) return v1::DTYPE_BF16;
  if (precision == TensorPrecision::kFp4 && chip.fp4_tflops() > 0)
    return v1::DTYPE_FP4;
  return chip.fp8_tflops() > 0 || chip.int8_tops() <= 0 ? v1::DTYPE_FP8
                                                        : v1::DTYPE_INT8;
}

PricedOp BindOp(const OpCost& cost, const ClassEfficiency& e,
                const v1::Chip& chip, const OperatorModelOptions& o) {
  PricedOp op;
  op.cost = cost;
  op.s_per_flop = 1.0 / (TensorTflops(chip, cost.precision) * 1e12 * e.compute);
  op.s_per_vector_flop = 1.0 / (chip.vector_tflops() * 1e12 * e.vector);
  op.s_per_byte = 1.0 / (chip.memory_bandwidth_tbps() * 1e12 * e.memory);
  op.ramp_bytes = e.memory_ramp_bytes;
  op.floor_s = cost.fused ? 0 : e.floor_s;  // fused: no launch
  op.compute_latency_s = e.compute_latency_s;
  op.p = e.overlap_exponent > 0 ? e.overlap_exponent : o.overlap_exponent;
  op.mode = ModeFor(op.p);

  // Norm / elementwise: the wave, per-row and cache terms of `e`.
  double cache_bytes = 0;
  if (cost.op_class == v1::OPERATOR_CLASS_NORM ||
      cost.op_class == v1::OPERATOR_CLASS_ELEMENTWISE) {
    op.row_bytes = e.row_overhead_bytes;
    if (e.rows_per_unit > 0 && chip.compute_units() > 0) {
      op.wave_rows = e.rows_per_unit * chip.compute_units();
    }
    if (e.cache_speedup > 1 && e.cache_fraction > 0 && chip.sram_mb() > 0) {
      cache_bytes = e.cache_fraction * chip.sram_mb() * 1e6;
      op.cache_gain = e.cache_speedup - 1;
    }
  }
  op.inv_wave_rows = op.wave_rows > 0 ? 1.0 / op.wave_rows : 0;
  op.inv_cache_bytes = cache_bytes > 0 ? 1.0 / cache_bytes : 0;
  op.cache_resident = 1.0 / (1.0 + op.cache_gain);
  op.memory_terms = op.wave_rows > 0 || cache_bytes > 0 || op.row_bytes > 0;
  // The wave, per-row and cache terms take bytes as bytes-per-row times
  // rows; an operator whose traffic has other terms (unfused softmax over
  // the scores) keeps the plain roofline.
  for (int f = 0; f < kNumFeatures; ++f) {
    op.has_flops |= cost.flops[f] != 0;
    op.has_vector_flops |= cost.vector_flops[f] != 0;
    if (f != cost.rows && cost.bytes[f] != 0) op.memory_terms = false;
  }

  op.has_experts = cost.num_experts > 0;
  // The fused MoE layer's permutation traffic per (token, expert) pair:
  // the rank's pairs and the layer's. Under power-law routing the rank's
  // share varies with the batch, so the layer's part stays apart.
  const double local_pair_bytes = cost.pair_elements * e.local_pair_bytes;
  const double layer_pair_bytes =
      cost.pair_elements * e.layer_pair_bytes * cost.layer_pairs;
  if (cost.rank_load != nullptr) {
    op.cost.bytes[cost.rows] += local_pair_bytes;
    op.layer_pair_bytes_per_row = layer_pair_bytes;
  } else {
    op.cost.bytes[cost.rows] += local_pair_bytes + layer_pair_bytes;
  }
  if (cost.columns > 0) {
    op.s_per_byte *= ParallelColumnsFactor(e.parallel_columns, cost.columns);
  }
  if (cost.m_tiles) op.tile_cost_64 = TileCost64(e.tile_overhead_rows);
  op.latency_s = e.latency_s;
  op.compute_units = std::max(1, chip.compute_units());
  if (cost.context_ramp) {
    if (e.tile_q_rows > 0 && e.tile_kv_rows > 0 && chip.compute_units() > 0 &&
        cost.attention_heads > 0) {
      // One tile step: q_rows x kv_rows query-key pairs of one head on one
      // compute unit (FLOPs per pair per head: the pairs coefficient over
      // the heads).
      const double flops_per_step = cost.flops[kPairs] / cost.attention_heads *
                                    e.tile_q_rows * e.tile_kv_rows;
      op.tile_step_s = flops_per_step * op.s_per_flop * op.compute_units;
      op.tile_q_rows = e.tile_q_rows;
      op.tile_kv_rows = e.tile_kv_rows;
      op.unit_s = e.unit_latency_s;
    } else {
      op.compute_ramp_tokens = e.compute_ramp_tokens;
    }
  }
  if (cost.form == OpForm::kSsmConv) op.seq_tile_rows = e.tile_q_rows;
  if (cost.form == OpForm::kAttentionDecode && e.unit_latency_s > 0) {
    op.unit_s_per_chip = e.unit_latency_s / op.compute_units;
  }
  if (cost.collective != CollectiveKind::kNone) {
    const double link_gbytes_per_s = cost.scale_out
                                         ? chip.scale_out_gbytes_per_s()
                                         : chip.scale_up_gbytes_per_s();
    op.link_s_per_byte = 1.0 / (link_gbytes_per_s * 1e9 * e.memory);
    op.alpha_s = e.step_latency_s;
    if (!e.collective_fits.empty() && !cost.scale_out &&
        cost.collective == CollectiveKind::kAllReduce) {
      const ClassEfficiency::CollectiveFit f =
          CollectiveFitAt(e.collective_fits, cost.ranks);
      op.two_lines = true;
      op.alpha_s = f.latency_s;
      op.bus_s_per_byte = 1.0 / (link_gbytes_per_s * 1e9 * f.bus_efficiency);
      op.bulk_alpha_s = f.bulk_latency_s;
      op.bulk_bus_s_per_byte =
          1.0 / (link_gbytes_per_s * 1e9 * f.bulk_bus_efficiency);
    }
  }
  return op;
}

PricedOp BindNamedOp(const OpCost& cost, std::string_view name,
                     const v1::Chip& chip, const OperatorModelOptions& o) {
  return BindOp(cost,
                ResolveEfficiency(o, chip, cost.op_class, name,
                                  TensorDtype(chip, cost.precision)),
                chip, o);
}

}  // namespace fleetsim::hardware
