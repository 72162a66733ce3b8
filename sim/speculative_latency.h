// File: sim/speculative_latency.h
//
// SpeculativeLatency: the iteration time of an instance that decodes
// speculatively (sim/speculative_decoding.h), composed from two latency
// models on the same chips: the served (target) model's and the draft's.
// The scheduler hands it the batch as usual (prefill chunks, decode
// requests at their contexts); one iteration then costs
//   - the draft: its prefill of the same chunks (it needs the prompt's KV
//     too) together with its first draft step of every decoding sequence,
//     then k - 1 more draft steps, each one token further into the
//     context;
//   - the target: the same prefill chunks, and every decoding sequence's
//     verify step as a (k + 1)-token prefill chunk after its context (the
//     k drafts and the token before them, scored in one pass).
// The verify step's LM head is charged one row per sequence, as for any
// prefill chunk, where it computes k + 1: an under-count that is one GEMM
// row block per sequence (small beside the layers' k + 1 rows; noted in
// docs/simulator.md).
#ifndef FLEETSIM_SIM_SPECULATIVE_LATENCY_H_
#define FLEETSIM_SIM_SPECULATIVE_LATENCY_H_

#include <memory>

#include "hardware/latency_model.h"

namespace fleetsim::sim {

class SpeculativeLatency final : public hardware::LatencyModel {
 public:
  // `draft_tokens` (k) >= 1.
  SpeculativeLatency(std::unique_ptr<hardware::LatencyModel> target,
                     std::unique_ptr<hardware::LatencyModel> draft,
                     int draft_tokens)
      : target_(std::move(target)),
        draft_(std::move(draft)),
        draft_tokens_(draft_tokens) {}

  double IterationSeconds(const hardware::BatchShape& batch) const override;
  // The target's operators, then the draft's with names prefixed "draft_".
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& batch) const override;

  // The parts of one iteration: the target's pass (prefill chunks and
  // verify chunks), and the draft steps of the decoding sequences (with the
  // draft's prefill of the chunks).
  double TargetSeconds(const hardware::BatchShape& batch) const;
  double DraftSeconds(const hardware::BatchShape& batch) const;

 private:
  // `batch` with every decode request turned into its verify chunk.
  hardware::BatchShape VerifyShape(const hardware::BatchShape& batch) const;
  // The decode part of `batch` `step` draft tokens further on.
  static hardware::BatchShape DraftStepShape(const hardware::BatchShape& batch,
                                             int step);

  std::unique_ptr<hardware::LatencyModel> target_;
  std::unique_ptr<hardware::LatencyModel> draft_;
  const int draft_tokens_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SPECULATIVE_LATENCY_H_
