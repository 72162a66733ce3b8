#include "sim/context_limit.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace fleetsim::sim {

void ApplyContextLimit(v1::ContextLimit policy, int64_t max_context_tokens,
                       LiveRequest* request) {
  int64_t total = int64_t{request->input_tokens} + request->output_tokens;
  if (max_context_tokens <= 0 || total <= max_context_tokens) return;
  RecordOverContext(policy, request);
  if (policy != v1::CONTEXT_LIMIT_TRUNCATE) return;
  // A prompt keeps at least one token and the output at least one.
  int64_t output = std::min<int64_t>(
      request->output_tokens, std::max<int64_t>(1, max_context_tokens - 1));
  int64_t input = std::max<int64_t>(1, max_context_tokens - output);
  request->output_tokens = static_cast<int32_t>(output);
  request->input_tokens =
      static_cast<int32_t>(std::min<int64_t>(request->input_tokens, input));
  request->prefill_target = request->input_tokens;
}

void RecordOverContext(v1::ContextLimit policy, LiveRequest* request) {
  switch (policy) {
    case v1::CONTEXT_LIMIT_TRUNCATE:
      request->context_outcome = ContextOutcome::kTruncated;
      return;
    case v1::CONTEXT_LIMIT_ALLOW:
      request->context_outcome = ContextOutcome::kServedOver;
      return;
    default:  // REJECT, and UNSPECIFIED, which means REJECT
      request->rejected = true;
      request->context_outcome = ContextOutcome::kRejected;
      return;
  }
}

absl::StatusOr<v1::ContextLimit> ParseContextLimit(absl::string_view word) {
  for (v1::ContextLimit policy :
       {v1::CONTEXT_LIMIT_REJECT, v1::CONTEXT_LIMIT_TRUNCATE,
        v1::CONTEXT_LIMIT_ALLOW}) {
    if (word == ContextLimitWord(policy)) return policy;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "context limit '", word, "' is none of reject, truncate, allow"));
}

std::string ContextLimitWord(v1::ContextLimit policy) {
  switch (policy) {
    case v1::CONTEXT_LIMIT_TRUNCATE:
      return "truncate";
    case v1::CONTEXT_LIMIT_ALLOW:
      return "allow";
    default:
      return "reject";
  }
}

}  // namespace fleetsim::sim
