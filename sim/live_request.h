// File: sim/live_request.h
//
// The simulator's state for one in-flight request. Owned by exactly one
// place at a time (the router, an instance's queue, a KV transfer) and
// handed on as a unique_ptr, so memory is proportional to requests in
// flight, never to the trace length.
#ifndef FLEETSIM_SIM_LIVE_REQUEST_H_
#define FLEETSIM_SIM_LIVE_REQUEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/test_time_scaling.h"
#include "workloads/request.h"

namespace fleetsim::sim {

// What the cluster's context limit did with a request (sim/context_limit.h).
enum class ContextOutcome : int8_t {
  kWithin,      // prompt + output within the model's max_context
  kRejected,    // over it, not served
  kTruncated,   // over it, served cut to fit
  kServedOver,  // over it, served as given (CONTEXT_LIMIT_ALLOW)
};

// The fields a decode step reads and writes come first and the struct is
// cache-line aligned, so a step touches one line per request: on a large
// fleet a request is usually out of cache when its instance next runs.
struct alignas(64) LiveRequest {
  int32_t input_tokens = 0;
  int32_t output_tokens = 0;

  // Tokens whose KV the current (re)prefill must compute: input_tokens at
  // first, input + generated after a recompute preemption (vLLM semantics:
  // the recompute prefill covers every known token, then samples the next).
  int32_t prefill_target = 0;
  int32_t prefilled = 0;  // of prefill_target, done so far (chunked prefill)
  int32_t generated = 0;  // output tokens produced; the first at prefill end
  int64_t kv_blocks = 0;  // KV blocks held on the current instance
  // Prefix caching (sim/prefix_cache.h): KV blocks of this request's
  // context that its instance's cache holds instead, and how many of its
  // leading prefix hashes it pins there.
  int64_t shared_kv_blocks = 0;
  int32_t pinned_prefix_blocks = 0;
  // Speculative decoding: decode steps taken, whose tokens are credited by
  // sim/speculative_decoding.h's TokensAfterSteps.
  int32_t decode_steps = 0;
  double last_token_s = -1;

  int64_t id = 0;
  double arrival_s = 0;

  int decode_instance = -1;  // disaggregated: chosen by the router
  int prefill_instance = -1;
  int preemptions = 0;
  // Never admitted: its KV (input + output tokens) exceeds an instance's
  // whole KV capacity. Counted and reported, never silently dropped.
  bool rejected = false;
  ContextOutcome context_outcome = ContextOutcome::kWithin;
  // Test-time scaling: samples whose prompt + tokens exceed max_context
  // (AttachSampleGroup).
  int32_t samples_over_context = 0;

  double first_scheduled_s = -1;
  double prefill_done_s = -1;
  double first_token_s = -1;
  double kv_transfer_s = 0;  // time spent moving KV between instances
  // The trace's prefix-block hashes, kept only when the fleet caches
  // prefixes (empty otherwise).
  std::vector<uint64_t> prefix_hashes;
  // Test-time scaling (sim/test_time_scaling.h): the request's samples,
  // which decode as one sequence each; output_tokens and generated then
  // count the tokens of them all. Null otherwise.
  std::unique_ptr<SampleGroup> samples;

  bool in_decode() const {
    return generated > 0 && prefilled >= prefill_target;
  }
  // Tokens in this request's KV cache once its current work is done.
  int64_t context_tokens() const {
    return input_tokens + generated - (generated > 0 ? 1 : 0);
  }
  int32_t remaining_tokens() const { return output_tokens - generated; }
};

using LiveRequestPtr = std::unique_ptr<LiveRequest>;

inline LiveRequestPtr MakeLiveRequest(const workloads::Request& request) {
  auto live = std::make_unique<LiveRequest>();
  live->id = request.id;
  live->arrival_s = request.arrival_s;
  live->input_tokens = request.input_tokens;
  live->output_tokens = request.output_tokens < 1 ? 1 : request.output_tokens;
  live->input_tokens = request.input_tokens < 1 ? 1 : request.input_tokens;
  live->prefill_target = live->input_tokens;
  return live;
}

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_LIVE_REQUEST_H_
