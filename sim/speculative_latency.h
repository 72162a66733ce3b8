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
// The verify scores all k + 1 positions (BatchShape::extra_logit_rows).
//
// A draft that reads the target's hidden states (multi-token prediction,
// EAGLE-style; FirstDraftPass::kVerifyTokens) makes its first pass over
// the tokens the target just ran instead: the prefill chunks and every
// decoding sequence's k + 1 verify tokens (their hidden states are the
// module's input; the pass refreshes its KV of the accepted ones and
// drafts the first token), with one logits row per sequence, then k - 1
// one-token steps. vLLM's v1 EagleProposer.propose runs the draft so over
// every scheduled token, SGLang's draft-extend pads each sequence to k + 1
// tokens in its CUDA graph.
#ifndef FLEETSIM_SIM_SPECULATIVE_LATENCY_H_
#define FLEETSIM_SIM_SPECULATIVE_LATENCY_H_

#include <memory>

#include "hardware/latency_model.h"

namespace fleetsim::sim {

class SpeculativeLatency final : public hardware::LatencyModel {
 public:
  // What the draft's first pass of an iteration runs over: the batch with
  // one token per decoding sequence (a draft model), or the target's
  // verify tokens (a draft on the target's hidden states: MTP).
  enum class FirstDraftPass { kOneToken, kVerifyTokens };
  // How the verify's k + 1 tokens of a sequence are priced: as a prefill
  // chunk after its context, or as k + 1 decode queries at contexts L + 1
  // ... L + k + 1 (MLA: serving stacks verify in the absorbed decode form,
  // FlashMLA taking several query tokens a sequence, where a prefill chunk
  // would be priced in the naive form that up-projects the whole cached
  // context). The decode form reads each sequence's KV and charges the
  // per-request serving overhead once per query, k + 1 times where the
  // kernel reads it once (docs/simulator.md "Multi-token prediction").
  enum class VerifyForm { kPrefillChunk, kDecodeQueries };

  // `draft_tokens` (k) >= 1.
  SpeculativeLatency(std::unique_ptr<hardware::LatencyModel> target,
                     std::unique_ptr<hardware::LatencyModel> draft,
                     int draft_tokens,
                     FirstDraftPass first_pass = FirstDraftPass::kOneToken,
                     VerifyForm verify_form = VerifyForm::kPrefillChunk)
      : target_(std::move(target)),
        draft_(std::move(draft)),
        draft_tokens_(draft_tokens),
        first_pass_(first_pass),
        verify_form_(verify_form) {}

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
  // What the draft's first pass of the iteration runs (FirstDraftPass).
  hardware::BatchShape FirstDraftShape(const hardware::BatchShape& batch) const;

  std::unique_ptr<hardware::LatencyModel> target_;
  std::unique_ptr<hardware::LatencyModel> draft_;
  const int draft_tokens_;
  const FirstDraftPass first_pass_;
  const VerifyForm verify_form_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SPECULATIVE_LATENCY_H_
