#include "sim/speculative_latency.h"

#include <algorithm>
#include <string>

namespace fleetsim::sim {

hardware::BatchShape SpeculativeLatency::VerifyShape(
    const hardware::BatchShape& batch) const {
  hardware::BatchShape verify = batch;
  verify.decode_requests = 0;
  verify.decode_context_tokens = 0;
  const int64_t n = batch.decode_requests;
  if (n == 0) return verify;
  const int64_t chunk = draft_tokens_ + 1;
  if (verify_form_ == VerifyForm::kDecodeQueries) {
    // Query i = 0..k of a sequence at context L_j attends L_j + i + 1
    // keys; every query is a logits row.
    verify.decode_requests = static_cast<int32_t>(n * chunk);
    verify.decode_context_tokens =
        chunk * batch.decode_context_tokens + n * draft_tokens_ * chunk / 2;
    return verify;
  }
  // BatchShape::AddPrefillChunk(k + 1, L_j) summed over the sequences:
  // decode_context_tokens is sum (L_j + 1).
  const int64_t cached = batch.decode_context_tokens - n;
  verify.prefill_requests += static_cast<int32_t>(n);
  verify.prefill_tokens += n * chunk;
  verify.prefill_attention_pairs +=
      static_cast<double>(chunk) * static_cast<double>(cached) +
      static_cast<double>(n) * chunk * (chunk + 1) / 2.0;
  verify.prefill_context_tokens += cached + n * chunk;
  // Each chunk is scored at all k + 1 positions, not only its last.
  verify.extra_logit_rows += n * draft_tokens_;
  return verify;
}

hardware::BatchShape SpeculativeLatency::DraftStepShape(
    const hardware::BatchShape& batch, int step) {
  hardware::BatchShape shape;
  shape.decode_requests = batch.decode_requests;
  shape.decode_context_tokens =
      batch.decode_context_tokens +
      static_cast<int64_t>(step) * batch.decode_requests;
  return shape;
}

hardware::BatchShape SpeculativeLatency::FirstDraftShape(
    const hardware::BatchShape& batch) const {
  if (first_pass_ == FirstDraftPass::kOneToken) return batch;
  hardware::BatchShape shape = VerifyShape(batch);
  shape.extra_logit_rows = batch.extra_logit_rows;  // a row per sequence
  return shape;
}

double SpeculativeLatency::TargetSeconds(
    const hardware::BatchShape& batch) const {
  return target_->IterationSeconds(VerifyShape(batch));
}

double SpeculativeLatency::DraftSeconds(
    const hardware::BatchShape& batch) const {
  // Step 0 carries the draft's prefill of the iteration's chunks.
  double seconds = draft_->IterationSeconds(FirstDraftShape(batch));
  if (batch.decode_requests == 0) return seconds;
  for (int step = 1; step < draft_tokens_; ++step)
    seconds += draft_->IterationSeconds(DraftStepShape(batch, step));
  return seconds;
}

double SpeculativeLatency::IterationSeconds(
    const hardware::BatchShape& batch) const {
  return TargetSeconds(batch) + DraftSeconds(batch);
}

hardware::IterationBreakdown SpeculativeLatency::Explain(
    const hardware::BatchShape& batch) const {
  hardware::IterationBreakdown out = target_->Explain(VerifyShape(batch));
  const size_t target_ops = out.ops.size();
  auto add_draft = [&out, target_ops](const hardware::IterationBreakdown& b) {
    out.seconds += b.seconds;
    for (const hardware::OperatorTime& op : b.ops) {
      const std::string name = "draft_" + op.name;
      auto it = std::find_if(
          out.ops.begin() + static_cast<std::ptrdiff_t>(target_ops),
          out.ops.end(),
          [&name](const hardware::OperatorTime& t) { return t.name == name; });
      if (it == out.ops.end()) {
        out.ops.push_back(op);
        out.ops.back().name = name;
        continue;
      }
      it->seconds += op.seconds;
      it->flops += op.flops;
      it->vector_flops += op.vector_flops;
      it->bytes += op.bytes;
    }
  };
  add_draft(draft_->Explain(FirstDraftShape(batch)));
  if (batch.decode_requests > 0) {
    for (int step = 1; step < draft_tokens_; ++step)
      add_draft(draft_->Explain(DraftStepShape(batch, step)));
  }
  return out;
}

}  // namespace fleetsim::sim
