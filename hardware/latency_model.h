// File: hardware/latency_model.h
//
// The simulator's execution-time predictor: how long one iteration of one
// model instance takes for the exact composition of its batch. The operator
// cost model (operator_model.h) implements it from FLOPs and bytes; measured
// calibration tables correct individual operators. The simulator only sees
// this interface.
#ifndef FLEETSIM_HARDWARE_LATENCY_MODEL_H_
#define FLEETSIM_HARDWARE_LATENCY_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fleetsim/v1/chip.pb.h"

namespace fleetsim::hardware {

// A batch in the aggregate form every operator's cost depends on. The
// simulator keeps these sums up to date incrementally, so building one is
// O(1) per request change, and the cost model never walks the batch.
//
// Per prefill chunk i: T_i new tokens appended after L_i cached tokens.
// Per decode request j: one new token after L_j tokens already in the cache.
struct BatchShape {
  int32_t prefill_requests = 0;
  int64_t prefill_tokens = 0;  // sum T_i
  // Sum of T_i * L_i + T_i * (T_i + 1) / 2: causal query-key pairs (new
  // token j of T_i sees the L_i cached tokens and j new ones), the attention
  // core's quadratic term.
  double prefill_attention_pairs = 0;
  int64_t prefill_context_tokens = 0;  // sum (L_i + T_i): K/V rows read
  int32_t decode_requests = 0;
  int64_t decode_context_tokens = 0;  // sum (L_j + 1): K/V rows read
  // Rows that produce logits beyond one per request: a speculative verify
  // scores all k + 1 positions of each sequence (sim/speculative_latency.h).
  int64_t extra_logit_rows = 0;

  void AddPrefillChunk(int64_t new_tokens, int64_t cached_tokens) {
    ++prefill_requests;
    prefill_tokens += new_tokens;
    prefill_attention_pairs +=
        static_cast<double>(new_tokens) * cached_tokens +
        static_cast<double>(new_tokens) * (new_tokens + 1) / 2.0;
    prefill_context_tokens += cached_tokens + new_tokens;
  }
  // A diffusion LM's forward pass (sim/diffusion_serving.h), carried in
  // the prefill sums: `query_tokens` computed, each attending to all
  // `sequence_tokens` (bidirectional: query_tokens x sequence_tokens pairs,
  // not causal), each producing logits.
  void AddBidirectionalPass(int64_t query_tokens, int64_t sequence_tokens) {
    ++prefill_requests;
    prefill_tokens += query_tokens;
    prefill_attention_pairs +=
        static_cast<double>(query_tokens) * sequence_tokens;
    prefill_context_tokens += sequence_tokens;
    extra_logit_rows += query_tokens - 1;
  }
  void AddDecode(int64_t context_tokens) {
    ++decode_requests;
    decode_context_tokens += context_tokens + 1;
  }
  int64_t total_tokens() const { return prefill_tokens + decode_requests; }
  bool empty() const { return prefill_requests == 0 && decode_requests == 0; }
};

// Which unit limits an operator in the estimate.
enum class Bound { kCompute, kVector, kMemory, kFloor, kNetwork };
const char* BoundName(Bound bound);

// One operator's share of an iteration (summed over layers).
struct OperatorTime {
  std::string name;  // "qkv_proj", "attn_prefill", "allreduce"
  v1::OperatorClass op_class;
  double seconds = 0;
  double flops = 0;         // tensor FLOPs on one chip
  double vector_flops = 0;  // non-tensor FLOPs on one chip
  double bytes = 0;         // memory traffic on one chip
  Bound bound = Bound::kCompute;
};

struct IterationBreakdown {
  double seconds = 0;
  std::vector<OperatorTime> ops;
};

// An entry of LatencyModel::OperatorLabels(): what AddOperatorTotals'
// index i counts. Names may repeat (their totals are then one operator's).
struct OperatorLabel {
  std::string name;
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
};

// Predicts iteration times for one (model, chip, TP, PP) instance.
// Implementations are immutable after construction and thread-compatible.
class LatencyModel {
 public:
  virtual ~LatencyModel() = default;

  // Seconds for one iteration of `batch` across all pipeline stages.
  // REQUIRES: !batch.empty(). Hot path: must not allocate.
  virtual double IterationSeconds(const BatchShape& batch) const = 0;

  // The same time with its per-operator breakdown, for `fleetsim estimate`.
  virtual IterationBreakdown Explain(const BatchShape& batch) const = 0;

  // Per-operator totals over a run (SimulationResult's operator times and
  // MFU): the entries AddOperatorTotals fills, in index order. Empty (the
  // default) for a predictor without an operator breakdown.
  virtual std::vector<OperatorLabel> OperatorLabels() const { return {}; }

  // Adds each operator's seconds in one iteration of `batch` to
  // seconds[i] and its tensor FLOPs on one chip to tensor_flops[i] (arrays
  // of OperatorLabels().size()); returns the iteration's seconds, which the
  // added seconds sum to. REQUIRES: !batch.empty(). Must not allocate.
  virtual double AddOperatorTotals(const BatchShape& batch, double* seconds,
                                   double* tensor_flops) const {
    (void)seconds;
    (void)tensor_flops;
    return IterationSeconds(batch);
  }
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_LATENCY_MODEL_H_
