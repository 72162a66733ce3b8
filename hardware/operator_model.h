// File: hardware/operator_model.h
//
// The operator cost model, version 1: a LatencyModel that predicts one
// iteration of one (model, chip, TP, PP) instance from FLOPs and bytes per
// operator on a roofline with shape-dependent efficiencies, launch floors and
// an explicit choice of what is fused. docs/cost_model.md explains the method,
// every constant's source and the SPAD Table 3 check. Each operator
// family's FLOPs and bytes are defined once in hardware/ops/ (gemm_op.h,
// attention_op.h, elementwise_op.h, ssm_op.h, collective_op.h) and priced
// by the unit step in hardware/ops/priced_op.h; this class composes them
// into one iteration of a model, and OperatorPricer (operator_pricer.h)
// prices the same families one query at a time for the calibration fit.
//
// What it charges, per layer and summed over layers (all quantities are per
// chip after the tensor-parallel split):
//   - GEMMs: QKV/O (or MLA's q_a/q_b/kv_a/kv_b/o), MLP up/down, MoE router,
//     routed experts (distinct experts touched, E_hit) and shared experts,
//     SSM in/out projections, LM head (rows = prefill + decode requests);
//   - attention prefill (causal quadratic term from
//     BatchShape::prefill_attention_pairs, K/V reads of the cached prefix),
//     fused (FlashAttention: scores stay on chip, exponentials still cost
//     vector throughput) or unfused (scores written, softmax as a separate
//     vector kernel, scores read back);
//   - attention decode (paged K/V reads, memory-bound), MLA in its absorbed
//     form for decode and naive form for prefill;
//   - norms, rotary, activation, residual adds (separate memory-bound kernels
//     unless OperatorModelOptions::fuse_elementwise), SSM conv and scan;
//   - TP all-reduce after the mixer and after the MLP of every layer (and
//     after the vocab-parallel embedding), the logits gather, and PP
//     send/recv between stages;
//   - for a multi-token-prediction module (OperatorModelOptions::mtp_module,
//     hardware/mtp_module.h): its two input norms and the [emb; h]
//     projection, once per iteration;
//   - under expert parallelism (OperatorModelOptions::expert_parallel): the
//     routed experts whole on ep ranks, a dispatch and a combine all-to-all
//     per MoE layer, and everything else on one of the ep / tp data-
//     parallel attention groups' share of the batch.
//
// Each operator's time is
//   max(combine(t_tensor, t_vector, t_memory), floor)
//   t_tensor = FLOPs / (peak * eta_c), t_vector = vector FLOPs /
//   (vector peak * eta_v), t_memory = (bytes + ramp) / (bandwidth * eta_m),
// where combine() is a smooth maximum (sum of p-th powers, p-th root; p = 1
// adds the terms, p -> infinity is the plain roofline max) and the operator
// is charged to the unit with the largest term (Bound). GEMMs charge their
// token rows padded to 64- or 128-row M tiles and a fixed tile-loop latency
// on the tensor term (ClassEfficiency::tile_overhead_rows,
// compute_latency_s; docs/calibration.md §4.1). Norms and the
// elementwise kernels also charge a fixed cost per token row, round rows up
// to whole waves over the chip's compute_units and run faster while their
// working set fits on chip (ClassEfficiency; docs/calibration.md §4); the
// rotary, activation and residual-add kernels have their own efficiencies
// (OperatorModelOptions::operator_efficiency). Collectives use the
// ring formula 2 (t-1)/t * S / (eta_net * scale-up bandwidth) + 2 (t-1) alpha.
//
// Pipeline parallelism: with one batch in flight the iteration visits every
// stage in turn, so its time is the sum over stages (all layers) plus one
// activation send per stage boundary; overlapping micro-batches is the
// simulator's business, not this model's.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(std::unique_ptr<OperatorModel> m,
//                             OperatorModel::Create(bloom, h100, 8, 1));
//   BatchShape batch;
//   batch.AddPrefillChunk(1500, 0);
//   double seconds = m->IterationSeconds(batch);
#ifndef FLEETSIM_HARDWARE_OPERATOR_MODEL_H_
#define FLEETSIM_HARDWARE_OPERATOR_MODEL_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/latency_model.h"
#include "hardware/operator_options.h"
#include "hardware/operator_pricer.h"
#include "hardware/operator_query.h"

namespace fleetsim::hardware {

// Predicts iteration times for one (model, chip, TP, PP) instance. Immutable
// after Create() and thread-compatible; IterationSeconds() neither allocates
// nor locks (it walks a per-layer operator table built at construction).
class OperatorModel final : public LatencyModel {
 public:
  // Builds the operator table for `model` on `chip` with tensor parallelism
  // `tp` and `pp` pipeline stages. Returns InvalidArgument listing every
  // problem: tp or pp < 1, pp > layers, heads (or KV heads, FFN, expert FFN,
  // SSM width) not divisible by tp, missing MLA/SSM sub-configs, a chip
  // without tensor/vector peaks or memory bandwidth, tp > 1 without
  // scale-up bandwidth, options out of range. (The default is spelled
  // OperatorModelOptions(): clang 14 does not emit std::function's
  // constructor for `= {}` here, and the link fails.)
  static absl::StatusOr<std::unique_ptr<OperatorModel>> Create(
      const v1::Model& model, const v1::Chip& chip, int tp, int pp,
      const OperatorModelOptions& options = OperatorModelOptions());

  // LatencyModel. REQUIRES: !batch.empty().
  double IterationSeconds(const BatchShape& batch) const override;
  IterationBreakdown Explain(const BatchShape& batch) const override;
  // "framework_overhead" (index 0), then the operator table's entries.
  std::vector<OperatorLabel> OperatorLabels() const override;
  double AddOperatorTotals(const BatchShape& batch, double* seconds,
                           double* tensor_flops) const override;

  // One operator invocation priced by shape on this model's chip and
  // options (OperatorPricer::Seconds; no correction hook applied).
  double OperatorSeconds(const OperatorQuery& q) const;

  const v1::Model& model() const { return model_; }
  const v1::Chip& chip() const { return chip_; }
  int tp() const { return tp_; }
  int pp() const { return pp_; }
  const OperatorModelOptions& options() const { return options_; }

  ~OperatorModel() override;

  // Implementation detail, public only so the .cc's helpers can name it.
  struct Op;

 private:
  OperatorModel(const v1::Model& model, const v1::Chip& chip, int tp, int pp,
                const OperatorModelOptions& options);

  // Builds ops_ (called once by Create()).
  void Build();

  // What Evaluate reports besides the total: nothing, the breakdown of
  // Explain, or AddOperatorTotals' sums.
  enum class Report { kNone, kExplain, kTotals };
  struct Totals {
    double* seconds;
    double* tensor_flops;
  };
  template <Report kReport>
  double Evaluate(const BatchShape& batch, IterationBreakdown* out,
                  const Totals* totals) const;

  // Constant after construction.
  const v1::Model model_;
  const v1::Chip chip_;
  const int tp_;
  const int pp_;
  const OperatorModelOptions options_;
  std::vector<Op> ops_;
  // Per entry of ops_: the static shape its correction-hook queries carry.
  std::vector<OperatorQuery> shapes_;
  double overhead_s_ = 0;  // per-iteration framework overhead, all layers
  double request_overhead_s_ = 0;  // framework overhead per request, all layers
  // Data-parallel attention groups under expert parallelism (ep / tp); 1 =
  // every operator sees the whole batch.
  int attention_groups_ = 1;
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPERATOR_MODEL_H_
