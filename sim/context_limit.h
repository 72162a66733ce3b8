// File: sim/context_limit.h
//
// What Cluster.context_limit does with a request whose prompt + output
// tokens exceed the model's max_context: applied once, at arrival, before
// the request is routed, so a rejected request never reaches an instance
// and a truncated one is served at its cut size. Plain C++ (no SimGrid).
#ifndef FLEETSIM_SIM_CONTEXT_LIMIT_H_
#define FLEETSIM_SIM_CONTEXT_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/cluster.pb.h"
#include "sim/live_request.h"

namespace fleetsim::sim {

// Applies `policy` (UNSPECIFIED = REJECT) to `request` against
// `max_context_tokens` (<= 0: the model states no limit) and records the
// outcome in request->context_outcome. REJECT marks it rejected; TRUNCATE
// caps its output at max_context - 1 tokens, then keeps the prompt's first
// max_context - output tokens (its leading prefix blocks stay shareable);
// ALLOW leaves it as it is.
void ApplyContextLimit(v1::ContextLimit policy, int64_t max_context_tokens,
                       LiveRequest* request);

// Records in request->context_outcome that `request` (or, under test-time
// scaling, one of its samples) exceeds max_context under `policy`: REJECT
// (and UNSPECIFIED) also marks it rejected; TRUNCATE leaves the cutting to
// the caller.
void RecordOverContext(v1::ContextLimit policy, LiveRequest* request);

// "reject", "truncate" or "allow" (the --context-limit flag's words).
absl::StatusOr<v1::ContextLimit> ParseContextLimit(absl::string_view word);
std::string ContextLimitWord(v1::ContextLimit policy);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_CONTEXT_LIMIT_H_
