// File: sim/batch_scheduler.h
//
// BatchScheduler: iteration-level continuous batching for one model instance
// (one replica on tp x pp chips), in plain C++ with no SimGrid, so its
// policy is unit-testable. The instance actor (sim/instance.h) asks it
// for the next iteration, sleeps for the predicted time, then tells it the
// iteration finished.
//
// Policies (BatchingPolicy):
//  - VLLM: prefill-first. When prompts wait and fit, the iteration is
//    prefill-only (whole prompts up to max_batch_tokens); else all running
//    requests decode one token.
//  - SARATHI: every iteration decodes all running requests and fills the
//    rest of the token budget with prefill chunks (FCFS; chunked prefill).
// KV cache: paged blocks of kv_block_tokens. A prefill allocates blocks for
// the tokens it computes, and with its first chunk the blocks of the
// request's recurrent state (SSM/CCA layers; PoolSpec::RequestBlocks); a
// decode step allocates a block when a request's context crosses a block
// boundary. Speculative decoding (PoolSpec::draft_tokens > 0,
// sim/speculative_decoding.h): a decode step holds room for the k + 1 tokens
// its verify writes and credits each sequence the step's share of its
// expected tokens (TokensAfterSteps); its token gaps are the step's time
// spread over the tokens it emitted. When blocks run out the newest running
// request is preempted (recompute: its blocks are freed and it re-queues at
// the front to re-prefill every known token). Memory never over-commits.
// Test-time scaling (PoolSpec::samples_per_request > 0,
// sim/test_time_scaling.h): each running sample of a request is one decode
// sequence; a request's KV (its prompt once, every sample's tokens) is
// reserved whole when its prefill is admitted, and the batch-size cap
// counts samples.
// Diffusion LMs (PoolSpec::diffusion, sim/diffusion_serving.h): a request
// is admitted whole (FCFS, its lifetime K/V taken at once, so never
// preempted) with no prefill; every iteration runs one forward pass of
// each admitted request, the pass's shape set by how many it ran before;
// its answer's tokens are credited block by block.
// Prefix caching (PoolSpec.prefix_block_tokens > 0, sim/prefix_cache.h): a
// prompt admitted to a prefill starts past its longest cached prefix (those
// tokens' KV is read, not computed) and pins it; when its prefill ends its
// full prefix blocks become cache entries, which stay in KV after it
// completes until evicted (least recently used first) to make room, before
// any request is preempted.
//
// Not thread-safe; owned by one instance actor.
#ifndef FLEETSIM_SIM_BATCH_SCHEDULER_H_
#define FLEETSIM_SIM_BATCH_SCHEDULER_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "hardware/latency_model.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "sim/operator_totals.h"
#include "sim/prefix_cache.h"

namespace fleetsim::sim {

// Where finished work goes. All times are simulated seconds.
struct SchedulerHooks {
  // A request's prefill finished on a PREFILL-role instance; it still holds
  // its KV blocks here until ReleaseBlocks() (after its KV transfer).
  std::function<void(LiveRequestPtr)> on_prefill_done;
  // A request produced its last token.
  std::function<void(LiveRequestPtr)> on_complete;
  // `count` inter-token gaps of `gap_s` each (TBT samples).
  std::function<void(double gap_s, int64_t count)> on_token_gaps;
};

// Usage counters of one instance over the run.
struct InstanceUsage {
  double busy_s = 0;
  int64_t iterations = 0;
  int64_t batched_requests = 0;  // sum of batch sizes over iterations
  int64_t peak_kv_blocks = 0;
  int64_t preemptions = 0;
  int64_t prompts_served = 0;
  int64_t decodes_kept = 0;  // requests decoded on a prefill instance
  // Prefix caching: prompt tokens of prefills started, of them found
  // cached, and cache entries evicted.
  int64_t prefix_prompt_tokens = 0;
  int64_t prefix_cached_tokens = 0;
  int64_t prefix_evicted_blocks = 0;
  // An expert-parallel instance spanning machines: instance-seconds its
  // iterations waited on the all-to-all's cross-machine share (in busy_s
  // too), and the bytes that share sent (every ordered machine pair).
  double all_to_all_scale_out_s = 0;
  double all_to_all_scale_out_bytes = 0;
  // The scheduler's per-operator totals (EnableOperatorTotals); null when
  // off. Valid while the scheduler lives.
  const OperatorTotals* operators = nullptr;
};

class BatchScheduler final {
 public:
  // `latency` must outlive the scheduler. `decode_stride` (>= 1): in a run
  // of identical decode iterations the cost model is evaluated every
  // `decode_stride` iterations and interpolated in between (1 = exact).
  BatchScheduler(const PoolSpec& pool, const hardware::LatencyModel* latency,
                 SchedulerHooks hooks, int decode_stride = 1);

  // Called whenever the router's load signals (used_blocks,
  // pending_prefill_tokens, outstanding_requests, has_batch_room) may have
  // changed: before every hook call and before every mutating call
  // returns, the only points where control leaves the scheduler, so an
  // observer that notes the instance as changed never misses a change (the
  // Router's load indexes). Null: none.
  void set_on_load_change(std::function<void()> on_load_change) {
    on_load_change_ = std::move(on_load_change);
  }

  // From now on, sums every finished iteration's per-operator times and
  // FLOPs (usage().operators; sim/operator_totals.h). A no-op when the
  // latency model has no operator breakdown.
  void EnableOperatorTotals();

  // A new prompt (or a request to re-prefill) joins the waiting queue.
  void Enqueue(LiveRequestPtr request);

  // Disaggregated decode side: whether memory and the batch-size cap allow
  // reserving room for a request's KV now, and the reservation itself
  // (REQUIRES: CanReserveForTransfer), made before the transfer starts.
  bool CanReserveForTransfer(const LiveRequest& request) const {
    return BlocksFor(request.input_tokens) <= free_blocks() && has_batch_room();
  }
  void ReserveForTransfer(const LiveRequest& request);
  // The reserved request's KV has arrived: it joins the running batch.
  void AddTransferred(LiveRequestPtr request);
  // SplitwiseSim's mixed pool, decode side: a PREFILL-role instance keeps a
  // request it just prefilled (its KV is already here) and decodes it
  // itself because no decode instance has room. False, leaving `request`
  // untouched, when the request's whole lifetime would not fit this
  // instance's KV cache (it could never finish here).
  bool KeepForDecode(LiveRequestPtr* request);
  // Frees blocks held for a request that left (prefill side, after its KV
  // transfer finished).
  void ReleaseBlocks(int64_t blocks);
  // `request`'s KV transfer from here finished: frees `blocks` (its own
  // blocks when the transfer started) and unpins its prompt prefix, which
  // stays in this instance's prefix cache for later prompts; the request
  // leaves with nothing of this cache pinned.
  void ReleaseTransferred(LiveRequest* request, int64_t blocks);

  // Builds the next iteration. Returns false when there is nothing to run.
  // On true, `seconds` is the iteration's predicted duration.
  bool PlanIteration(double now_s, double* seconds);
  // Applies the planned iteration, which ended at `end_s`.
  void FinishIteration(double end_s);
  // The planned iteration also waited `seconds` on the cross-machine
  // all-to-all, which sent `bytes` (sim/instance.h); counted as busy.
  void AddCrossMachineAllToAll(double seconds, double bytes) {
    usage_.busy_s += seconds;
    usage_.all_to_all_scale_out_s += seconds;
    usage_.all_to_all_scale_out_bytes += bytes;
  }

  // After PlanIteration() returned a decode-only batch: how many identical
  // decode iterations (same members, one more context token each time) can
  // run before anything but time changes — the first completion, a KV block
  // shortage, or waiting work that could be admitted. At least 1.
  int StableDecodeIterations(int max_iterations) const;
  // Predicted end times of `n` stable decode iterations starting at
  // `start_s` (the first equals start + PlanIteration's seconds).
  void DecodeRunEndTimes(int n, double start_s,
                         std::vector<double>* end_times) const;
  // Applies the first `n` iterations of such a run (replaces
  // FinishIteration for the planned iteration).
  void FinishDecodeIterations(int n, const std::vector<double>& end_times);

  bool idle() const {
    return waiting_.empty() && prefilling_.empty() && running_.empty();
  }
  // Blocks a request can have now: unused ones and those of cached
  // prefixes no request pins.
  int64_t free_blocks() const {
    return capacity_blocks_ - used_blocks_ + evictable_blocks();
  }
  // Blocks in use, evictable cached prefixes not counted (vLLM's KV usage).
  int64_t used_blocks() const { return used_blocks_ - evictable_blocks(); }
  // Tokens of `request`'s prompt its next prefill would find cached here
  // (0 without prefix caching): the router's affinity signal.
  int64_t CachedPrefixTokens(const LiveRequest& request) const;
  // Null without prefix caching.
  PrefixCache* prefix_cache() { return prefix_cache_.get(); }
  // Prompt tokens queued or in progress (router load signal).
  int64_t pending_prefill_tokens() const { return pending_prefill_tokens_; }
  // Requests queued and not yet in any batch.
  bool has_waiting() const { return !waiting_.empty(); }
  // Whether the batch-size cap allows one more member (running,
  // prefilling, or reserved for a transfer).
  // With test-time scaling: room for one more request's samples beside
  // the unfinished samples of those admitted.
  bool has_batch_room() const {
    if (pool_.samples_per_request > 0)
      return held_samples_ + pool_.samples_per_request <= pool_.max_batch_size;
    return static_cast<int64_t>(running_.size() + prefilling_.size()) +
               reserved_transfers_ <
           pool_.max_batch_size;
  }
  // Whether a request of this many tokens over its lifetime can ever fit
  // (Enqueue rejects one that cannot): in one attention group's share of
  // the KV cache (PoolSpec::request_capacity_blocks).
  bool CanEverHold(int64_t lifetime_tokens) const {
    return BlocksFor(lifetime_tokens) <= pool_.request_capacity_blocks();
  }
  // Requests here in any state (router load signal).
  int64_t outstanding_requests() const {
    return static_cast<int64_t>(waiting_.size() + prefilling_.size() +
                                running_.size());
  }
  // The batch PlanIteration last built (kept until the next one).
  const hardware::BatchShape& planned_shape() const { return shape_; }
  const InstanceUsage& usage() const { return usage_; }
  const PoolSpec& pool() const { return pool_; }

 private:
  struct PrefillChunk {
    LiveRequest* request;
    int32_t tokens;
  };
  // Test-time scaling's scoring pass of one sample's round tokens.
  struct ScoringChunk {
    LiveRequest* request;
    int sample;
    int32_t tokens;
  };

  void LoadChanged() const {
    if (on_load_change_) on_load_change_();
  }
  // The hooks, each after LoadChanged().
  void PrefillDone(LiveRequestPtr request);
  void Complete(LiveRequestPtr request);
  void TokenGaps(double gap_s, int64_t count);
  // Blocks of a request with `tokens` tokens cached (KV and state).
  int64_t BlocksFor(int64_t tokens) const {
    return pool_.RequestBlocks(tokens);
  }
  bool Allocate(LiveRequest* request, int64_t tokens);
  // Blocks `request` holds once it has all its tokens: its KV and state,
  // or its sample group's (SampleGroupKvBlocks).
  int64_t LifetimeBlocks(const LiveRequest& request) const;
  // Blocks `request` still needs to hold `tokens` of context. A sample
  // group reserves its lifetime's blocks with its first prefill chunk, so
  // it is never preempted.
  int64_t ExtraBlocks(const LiveRequest& request, int64_t tokens) const {
    if (request.samples) {
      bool reserved = request.prefilled > 0 || request.kv_blocks > 0;
      return reserved ? 0 : LifetimeBlocks(request);
    }
    return std::max<int64_t>(
        0, BlocksFor(tokens) - request.shared_kv_blocks - request.kv_blocks);
  }
  // Counts `blocks` more in use, evicting cached prefixes as needed
  // (REQUIRES: blocks <= free_blocks()).
  void TakeBlocks(int64_t blocks);
  int64_t evictable_blocks() const {
    return prefix_cache_ ? prefix_cache_->evictable_kv_blocks() : 0;
  }
  // Prefix caching, on a request's admission to a (re)prefill: starts it
  // past the `entries` cached prefix blocks and pins them.
  void UseCachedPrefix(LiveRequest* request, int entries);
  // At a prefill's end: the request's full prompt blocks become cache
  // entries (those not cached yet take its KV blocks) and it pins them all.
  void ShareComputedPrefix(LiveRequest* request);
  // The request leaves (completed or preempted): its pins go.
  void UnpinPrefix(LiveRequest* request);
  // Cached prefix blocks `request` could start past: full prompt blocks
  // before its last prompt token, which a prefill must compute.
  int CachedEntries(const LiveRequest& request) const;
  void PreemptNewestRunning();
  void PlanPrefills(int64_t token_budget, bool whole_prompts_only);
  void FinishPrefill(LiveRequestPtr request, double end_s);
  void EmitToken(LiveRequest* request, double end_s);
  // A sample group's running samples join the planned decode batch.
  void AddSampleDecodes(const LiveRequest& request);
  // A sample group's decode step: its running samples' tokens.
  void EmitSampleStep(LiveRequest* request, double end_s);
  // The planned decodes' samples awaiting scoring join the batch as
  // prefill chunks of their round's tokens over their own KV, within
  // `token_budget` tokens (a sample left over waits for the next
  // iteration); returns the tokens planned.
  int64_t PlanScoring(int64_t token_budget);
  // Samples of `request` in finished_samples_ free their own KV blocks and
  // batch slots (the prompt's shared blocks stay until the request ends).
  void ReleaseFinishedSamples(LiveRequest* request);
  // Blocks sample `s` of `request` holds of its own (KV and state).
  int64_t SampleBlocks(const LiveRequest& request, int s) const;
  // A decode step of `request` ended: its token, or with speculative
  // decoding the step's tokens.
  void EmitDecodeStep(LiveRequest* request, double end_s);
  // Context tokens a decoding request needs room for during its decode
  // step `steps_before` steps from now: its context by then plus the tokens
  // the step writes (1, or a verify's draft_tokens + 1), at most its
  // lifetime's.
  int64_t DecodeRoomTokens(const LiveRequest& request, int steps_before) const;
  // Tokens `request`'s next `steps` decode steps emit, at most those left.
  int64_t DecodeStepTokens(const LiveRequest& request, int steps) const;
  // Context tokens the planned decode batch gains in its next `steps`
  // steps (a decode run's iteration `steps` reads that many more rows).
  int64_t DecodeRunGrowth(int steps) const;
  // Diffusion pools: the next iteration (admission, then one pass of every
  // admitted request), and its end.
  bool PlanDiffusionIteration(double now_s, double* seconds);
  void FinishDiffusionIteration(double end_s);
  // Hands every running request with no tokens left to on_complete.
  void CompleteFinished();

  const PoolSpec pool_;
  const hardware::LatencyModel* latency_;
  SchedulerHooks hooks_;
  std::function<void()> on_load_change_;
  const int64_t capacity_blocks_;
  const int decode_stride_;
  std::unique_ptr<PrefixCache> prefix_cache_;  // null when off
  int64_t used_blocks_ = 0;
  int64_t reserved_transfers_ = 0;  // requests with blocks reserved, in flight
  // Test-time scaling: unfinished samples of the requests admitted.
  int64_t held_samples_ = 0;
  int64_t pending_prefill_tokens_ = 0;

  std::deque<LiveRequestPtr> waiting_;
  std::vector<LiveRequestPtr> prefilling_;  // admitted, prefill in progress
  std::vector<LiveRequestPtr> running_;     // decoding, in admission order

  // The planned iteration.
  hardware::BatchShape shape_;
  std::vector<PrefillChunk> chunks_;
  std::vector<ScoringChunk> scoring_chunks_;
  size_t planned_decodes_ = 0;
  double planned_seconds_ = 0;

  // Scratch buffers reused across iterations (no allocation per iteration).
  std::vector<double> single_end_time_;
  std::vector<LiveRequestPtr> done_prefills_;
  std::vector<int> finished_samples_;

  InstanceUsage usage_;
  std::unique_ptr<OperatorTotals> operator_totals_;  // null when off
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_BATCH_SCHEDULER_H_
