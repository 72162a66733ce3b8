#include "sim/batch_scheduler.h"

#include <algorithm>

namespace fleetsim::sim {

BatchScheduler::BatchScheduler(const PoolSpec& pool,
                               const hardware::LatencyModel* latency,
                               SchedulerHooks hooks, int decode_stride)
    : pool_(pool),
      latency_(latency),
      hooks_(std::move(hooks)),
      capacity_blocks_(pool.kv_capacity_blocks),
      decode_stride_(std::max(1, decode_stride)) {
  if (pool.prefix_block_tokens > 0) {
    prefix_cache_ = std::make_unique<PrefixCache>(pool.prefix_block_tokens /
                                                  pool.kv_block_tokens);
  }
}

void BatchScheduler::EnableOperatorTotals() {
  auto totals = std::make_unique<OperatorTotals>(latency_);
  if (totals->empty()) return;
  operator_totals_ = std::move(totals);
  usage_.operators = operator_totals_.get();
}

void BatchScheduler::Enqueue(LiveRequestPtr request) {
  if (pool_.diffusion &&
      (int64_t{request->input_tokens} + pool_.diffusion->canvas_tokens >
           pool_.diffusion->max_sequence_tokens ||
       request->output_tokens > pool_.diffusion->canvas_tokens)) {
    // Prompt and canvas past the model's max_context, or an answer longer
    // than the canvas: never served.
    request->rejected = true;
    Complete(std::move(request));
    return;
  }
  int64_t lifetime_blocks = pool_.role == v1::POOL_ROLE_PREFILL
                                ? BlocksFor(request->input_tokens)
                                : LifetimeBlocks(*request);
  // One attention group's share under expert parallelism
  // (PoolSpec::request_capacity_blocks), where the request's KV lives.
  if (lifetime_blocks > pool_.request_capacity_blocks()) {
    request->rejected = true;
    Complete(std::move(request));
    return;
  }
  // A diffusion request has no prefill of its own.
  if (!pool_.diffusion)
    pending_prefill_tokens_ += request->prefill_target - request->prefilled;
  waiting_.push_back(std::move(request));
  LoadChanged();
}

void BatchScheduler::ReserveForTransfer(const LiveRequest& request) {
  TakeBlocks(BlocksFor(request.input_tokens));
  ++reserved_transfers_;
  usage_.peak_kv_blocks = std::max(usage_.peak_kv_blocks, used_blocks());
  LoadChanged();
}

void BatchScheduler::AddTransferred(LiveRequestPtr request) {
  --reserved_transfers_;
  request->kv_blocks = BlocksFor(request->input_tokens);
  running_.push_back(std::move(request));
  LoadChanged();
}

bool BatchScheduler::KeepForDecode(LiveRequestPtr* request) {
  LiveRequest& r = **request;
  if (!CanEverHold(r.input_tokens + r.output_tokens)) return false;
  // The first token was sampled at the end of the prefill, here.
  r.first_token_s = r.prefill_done_s;
  r.last_token_s = r.prefill_done_s;
  ++usage_.decodes_kept;
  running_.push_back(std::move(*request));
  LoadChanged();
  return true;
}

void BatchScheduler::ReleaseBlocks(int64_t blocks) {
  used_blocks_ -= blocks;
  LoadChanged();
}

void BatchScheduler::ReleaseTransferred(LiveRequest* request, int64_t blocks) {
  UnpinPrefix(request);  // nothing pinned where there is no cache
  ReleaseBlocks(blocks);
}

void BatchScheduler::PrefillDone(LiveRequestPtr request) {
  LoadChanged();
  hooks_.on_prefill_done(std::move(request));
}

void BatchScheduler::Complete(LiveRequestPtr request) {
  LoadChanged();
  hooks_.on_complete(std::move(request));
}

void BatchScheduler::TokenGaps(double gap_s, int64_t count) {
  LoadChanged();
  hooks_.on_token_gaps(gap_s, count);
}

int64_t BatchScheduler::LifetimeBlocks(const LiveRequest& request) const {
  if (pool_.diffusion)
    return BlocksFor(pool_.diffusion->HeldTokens(request.input_tokens));
  if (!request.samples)
    return BlocksFor(int64_t{request.input_tokens} + request.output_tokens);
  int64_t blocks =
      pool_.state_only
          ? 0
          : SharedPromptKvBlocks(request.input_tokens, pool_.kv_block_tokens);
  for (int s = 0; s < request.samples->samples(); ++s)
    blocks += SampleBlocks(request, s);
  return blocks;
}

int64_t BatchScheduler::SampleBlocks(const LiveRequest& request, int s) const {
  // Each sample holds its own recurrent state.
  int64_t kv = pool_.state_only
                   ? 0
                   : SampleKvBlocks(request.input_tokens,
                                    request.samples->SampleTokens(s),
                                    pool_.kv_block_tokens);
  return kv + pool_.state_blocks_per_request;
}

void BatchScheduler::ReleaseFinishedSamples(LiveRequest* request) {
  for (int s : finished_samples_) {
    int64_t blocks = SampleBlocks(*request, s);
    used_blocks_ -= blocks;
    request->kv_blocks -= blocks;
    --held_samples_;
  }
  finished_samples_.clear();
}

bool BatchScheduler::Allocate(LiveRequest* request, int64_t tokens) {
  int64_t extra = ExtraBlocks(*request, tokens);
  if (extra <= 0) return true;
  if (extra > free_blocks()) return false;
  TakeBlocks(extra);
  request->kv_blocks += extra;
  usage_.peak_kv_blocks = std::max(usage_.peak_kv_blocks, used_blocks());
  return true;
}

void BatchScheduler::TakeBlocks(int64_t blocks) {
  int64_t unused = capacity_blocks_ - used_blocks_;
  if (blocks > unused && prefix_cache_) {
    int64_t freed = prefix_cache_->Evict(blocks - unused);
    used_blocks_ -= freed;
    usage_.prefix_evicted_blocks +=
        freed / prefix_cache_->kv_blocks_per_entry();
  }
  used_blocks_ += blocks;
}

int BatchScheduler::CachedEntries(const LiveRequest& request) const {
  if (!prefix_cache_ || request.prefix_hashes.empty()) return 0;
  int block_tokens = pool_.prefix_block_tokens;
  int entries = std::min(request.input_tokens / block_tokens,
                         (request.prefill_target - 1) / block_tokens);
  return prefix_cache_->MatchLength(request.prefix_hashes, entries);
}

int64_t BatchScheduler::CachedPrefixTokens(const LiveRequest& request) const {
  return static_cast<int64_t>(CachedEntries(request)) *
         pool_.prefix_block_tokens;
}

void BatchScheduler::UseCachedPrefix(LiveRequest* request, int entries) {
  for (int i = 0; i < entries; ++i)
    prefix_cache_->Pin(request->prefix_hashes[i]);
  request->pinned_prefix_blocks = entries;
  request->shared_kv_blocks = entries * prefix_cache_->kv_blocks_per_entry();
  int64_t cached = static_cast<int64_t>(entries) * pool_.prefix_block_tokens;
  request->prefilled = static_cast<int32_t>(cached);
  pending_prefill_tokens_ -= cached;
}

void BatchScheduler::ShareComputedPrefix(LiveRequest* request) {
  if (!prefix_cache_ || request->prefix_hashes.empty()) return;
  int full = std::min(static_cast<int>(request->prefix_hashes.size()),
                      request->input_tokens / pool_.prefix_block_tokens);
  int64_t per_entry = prefix_cache_->kv_blocks_per_entry();
  for (int i = request->pinned_prefix_blocks; i < full; ++i) {
    uint64_t hash = request->prefix_hashes[i];
    if (prefix_cache_->Contains(hash)) {
      // Cached meanwhile by another prompt: this copy stays the request's.
      prefix_cache_->Pin(hash);
    } else {
      prefix_cache_->InsertPinned(hash);
      request->kv_blocks -= per_entry;
      request->shared_kv_blocks += per_entry;
    }
  }
  request->pinned_prefix_blocks = std::max(request->pinned_prefix_blocks, full);
}

void BatchScheduler::UnpinPrefix(LiveRequest* request) {
  if (request->pinned_prefix_blocks > 0)
    prefix_cache_->Unpin(request->prefix_hashes, request->pinned_prefix_blocks);
  request->pinned_prefix_blocks = 0;
  request->shared_kv_blocks = 0;
}

void BatchScheduler::PreemptNewestRunning() {
  LiveRequestPtr victim = std::move(running_.back());
  running_.pop_back();
  used_blocks_ -= victim->kv_blocks;
  victim->kv_blocks = 0;
  UnpinPrefix(victim.get());
  victim->prefilled = 0;
  victim->prefill_target = victim->input_tokens + victim->generated;
  ++victim->preemptions;
  ++usage_.preemptions;
  pending_prefill_tokens_ += victim->prefill_target;
  waiting_.push_front(std::move(victim));
}

void BatchScheduler::PlanPrefills(int64_t token_budget,
                                  bool whole_prompts_only) {
  for (const LiveRequestPtr& request : prefilling_) {
    if (token_budget <= 0) break;
    int32_t chunk = static_cast<int32_t>(std::min<int64_t>(
        request->prefill_target - request->prefilled, token_budget));
    if (!Allocate(request.get(), request->prefilled + chunk)) break;
    chunks_.push_back({request.get(), chunk});
    token_budget -= chunk;
  }
  while (!waiting_.empty() && token_budget > 0 && has_batch_room()) {
    LiveRequest* head = waiting_.front().get();
    int entries = CachedEntries(*head);
    int64_t cached = static_cast<int64_t>(entries) * pool_.prefix_block_tokens;
    int64_t remaining = head->prefill_target - head->prefilled - cached;
    int64_t chunk = std::min(remaining, token_budget);
    if (whole_prompts_only && remaining > token_budget) {
      // A prompt larger than the whole budget runs alone rather than never.
      if (!chunks_.empty() || token_budget < pool_.max_batch_tokens) break;
      chunk = remaining;
    }
    // Pinned first, so that making room cannot evict the prefix it reads.
    if (entries > 0) UseCachedPrefix(head, entries);
    if (!Allocate(head, head->prefilled + chunk)) {  // FCFS: no bypass
      if (entries > 0) {
        UnpinPrefix(head);
        head->prefilled = 0;
        pending_prefill_tokens_ += cached;
      }
      break;
    }
    if (prefix_cache_) {
      usage_.prefix_prompt_tokens += head->prefill_target;
      usage_.prefix_cached_tokens += cached;
    }
    chunks_.push_back({head, static_cast<int32_t>(chunk)});
    token_budget -= chunk;
    if (head->samples) held_samples_ += head->samples->samples();
    prefilling_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

bool BatchScheduler::PlanIteration(double now_s, double* seconds) {
  chunks_.clear();
  scoring_chunks_.clear();
  shape_ = hardware::BatchShape();
  planned_decodes_ = 0;
  if (pool_.diffusion) return PlanDiffusionIteration(now_s, seconds);

  bool prefill_first = pool_.policy == v1::BATCHING_POLICY_VLLM;
  if (prefill_first && (!waiting_.empty() || !prefilling_.empty())) {
    PlanPrefills(pool_.max_batch_tokens, /*whole_prompts_only=*/true);
  }
  if (chunks_.empty()) {
    // Every running request needs room for one more KV token; preempt the
    // newest until the rest fit.
    while (!running_.empty()) {
      int64_t extra = 0;
      for (const LiveRequestPtr& request : running_) {
        extra += ExtraBlocks(*request, DecodeRoomTokens(*request, 0));
      }
      if (extra <= free_blocks()) break;
      PreemptNewestRunning();
    }
    // Admission keeps the unfinished samples within the cap.
    planned_decodes_ =
        pool_.samples_per_request > 0
            ? running_.size()
            : std::min<size_t>(running_.size(), pool_.max_batch_size);
    for (size_t i = 0; i < planned_decodes_; ++i) {
      LiveRequest* request = running_[i].get();
      Allocate(request, DecodeRoomTokens(*request, 0));
      if (request->samples) {
        AddSampleDecodes(*request);
      } else {
        shape_.AddDecode(request->context_tokens());
      }
    }
    // One token per decode sequence (a request's samples each decode).
    int64_t token_budget = pool_.max_batch_tokens - shape_.decode_requests;
    if (pool_.samples_per_request > 0)
      token_budget -= PlanScoring(token_budget);
    if (!prefill_first)
      PlanPrefills(token_budget, /*whole_prompts_only=*/false);
  }
  for (const PrefillChunk& chunk : chunks_) {
    if (chunk.request->first_scheduled_s < 0)
      chunk.request->first_scheduled_s = now_s;
    shape_.AddPrefillChunk(chunk.tokens, chunk.request->prefilled);
  }
  LoadChanged();
  if (shape_.empty()) return false;
  planned_seconds_ = latency_->IterationSeconds(shape_);
  *seconds = planned_seconds_;
  return true;
}

void BatchScheduler::AddSampleDecodes(const LiveRequest& request) {
  const SampleGroup& group = *request.samples;
  for (int s = 0; s < group.samples(); ++s) {
    // A sample's context: the prompt and its tokens before this one.
    if (group.Running(s))
      shape_.AddDecode(int64_t{request.input_tokens} + group.generated(s) - 1);
  }
}

int64_t BatchScheduler::PlanScoring(int64_t token_budget) {
  int64_t planned = 0;
  for (size_t i = 0; i < planned_decodes_; ++i) {
    LiveRequest* request = running_[i].get();
    const SampleGroup& group = *request->samples;
    if (!group.scores_between_rounds()) continue;
    for (int s = 0; s < group.samples(); ++s) {
      int64_t chunk =
          std::min<int64_t>(group.ScoringTokens(s), token_budget - planned);
      if (chunk <= 0) continue;
      shape_.AddPrefillChunk(
          chunk, int64_t{request->input_tokens} + group.ScoredTokens(s));
      scoring_chunks_.push_back({request, s, static_cast<int32_t>(chunk)});
      planned += chunk;
    }
  }
  return planned;
}

void BatchScheduler::EmitSampleStep(LiveRequest* request, double end_s) {
  // One gap per sample's token, measured from the request's last token (of
  // any sample).
  int tokens = request->samples->Step(&finished_samples_);
  if (tokens == 0) return;  // every sample is being scored or waits for it
  TokenGaps(end_s - request->last_token_s, tokens);
  request->generated += tokens;
  request->last_token_s = end_s;
  ReleaseFinishedSamples(request);
}

void BatchScheduler::EmitToken(LiveRequest* request, double end_s) {
  TokenGaps(end_s - request->last_token_s, 1);
  ++request->generated;
  request->last_token_s = end_s;
}

int64_t BatchScheduler::DecodeStepTokens(const LiveRequest& request,
                                         int steps) const {
  if (pool_.draft_tokens == 0) return steps;
  return std::min<int64_t>(
      request.remaining_tokens(),
      TokensAfterSteps(pool_.tokens_per_step, request.decode_steps + steps) -
          TokensAfterSteps(pool_.tokens_per_step, request.decode_steps));
}

int64_t BatchScheduler::DecodeRoomTokens(const LiveRequest& request,
                                         int steps_before) const {
  if (pool_.draft_tokens == 0)
    return request.context_tokens() + steps_before + 1;
  return std::min<int64_t>(
      request.context_tokens() + DecodeStepTokens(request, steps_before) +
          pool_.draft_tokens + 1,
      int64_t{request.input_tokens} + request.output_tokens);
}

void BatchScheduler::EmitDecodeStep(LiveRequest* request, double end_s) {
  if (request->samples) {
    EmitSampleStep(request, end_s);
    return;
  }
  if (pool_.draft_tokens == 0) {
    EmitToken(request, end_s);
    return;
  }
  int64_t tokens = DecodeStepTokens(*request, 1);
  TokenGaps((end_s - request->last_token_s) / tokens, tokens);
  request->generated += static_cast<int32_t>(tokens);
  ++request->decode_steps;
  request->last_token_s = end_s;
}

void BatchScheduler::FinishPrefill(LiveRequestPtr request, double end_s) {
  ShareComputedPrefix(request.get());
  bool first_time = request->generated == 0;
  if (first_time) {
    request->prefill_done_s = end_s;
    ++usage_.prompts_served;
    request->generated = 1;
    if (request->samples) {  // the prefill samples every sample's first token
      request->samples->StartDecoding(&finished_samples_);
      request->generated = request->samples->samples();
      ReleaseFinishedSamples(request.get());
    }
    if (pool_.role == v1::POOL_ROLE_PREFILL && request->output_tokens > 1) {
      PrefillDone(std::move(request));
      return;
    }
    request->first_token_s = end_s;
    request->last_token_s = end_s;
  } else {
    EmitToken(request.get(),
              end_s);  // a recompute prefill samples the next token
  }
  running_.push_back(std::move(request));
}

void BatchScheduler::FinishIteration(double end_s) {
  if (pool_.diffusion) {
    FinishDiffusionIteration(end_s);
    return;
  }
  if (chunks_.empty() && scoring_chunks_.empty()) {
    single_end_time_.assign(1, end_s);  // reused: no allocation per iteration
    FinishDecodeIterations(1, single_end_time_);
    return;
  }
  usage_.busy_s += planned_seconds_;
  ++usage_.iterations;
  usage_.batched_requests +=
      static_cast<int64_t>(chunks_.size()) + shape_.decode_requests;
  if (operator_totals_) operator_totals_->AddIteration(shape_);
  for (size_t i = 0; i < planned_decodes_; ++i)
    EmitDecodeStep(running_[i].get(), end_s);
  // Scored samples go on (after this step: they did not decode in it).
  for (const ScoringChunk& chunk : scoring_chunks_)
    chunk.request->samples->Score(chunk.sample, chunk.tokens);
  scoring_chunks_.clear();
  // Prefill chunks: finished prompts move on (in admission order).
  std::vector<LiveRequestPtr>& done = done_prefills_;  // reused, empty here
  for (const PrefillChunk& chunk : chunks_) {
    chunk.request->prefilled += chunk.tokens;
    pending_prefill_tokens_ -= chunk.tokens;
  }
  auto split = std::stable_partition(
      prefilling_.begin(), prefilling_.end(),
      [](const LiveRequestPtr& r) { return r->prefilled < r->prefill_target; });
  for (auto it = split; it != prefilling_.end(); ++it)
    done.push_back(std::move(*it));
  prefilling_.erase(split, prefilling_.end());
  CompleteFinished();
  for (LiveRequestPtr& request : done) FinishPrefill(std::move(request), end_s);
  done.clear();
  CompleteFinished();
  chunks_.clear();
  LoadChanged();
}

void BatchScheduler::CompleteFinished() {
  auto split = std::stable_partition(
      running_.begin(), running_.end(),
      [](const LiveRequestPtr& r) { return r->remaining_tokens() > 0; });
  for (auto it = split; it != running_.end(); ++it) {
    used_blocks_ -= (*it)->kv_blocks;
    (*it)->kv_blocks = 0;
    UnpinPrefix(it->get());
    Complete(std::move(*it));
  }
  running_.erase(split, running_.end());
}

int BatchScheduler::StableDecodeIterations(int max_iterations) const {
  // A diffusion request's passes differ in shape: one at a time.
  if (pool_.diffusion || !chunks_.empty() || !scoring_chunks_.empty() ||
      !prefilling_.empty() || planned_decodes_ != running_.size() ||
      planned_decodes_ == 0) {
    return 1;
  }
  if (!waiting_.empty()) {
    const LiveRequest& head = *waiting_.front();
    int64_t first_chunk = std::min<int64_t>(
        head.prefill_target - head.prefilled - CachedPrefixTokens(head),
        pool_.max_batch_tokens);
    int64_t blocks =
        head.samples ? LifetimeBlocks(head) : BlocksFor(first_chunk);
    if (blocks <= free_blocks() && has_batch_room()) {
      return 1;  // admissible work waits: the next boundary must admit it
    }
  }
  int horizon = max_iterations;
  for (const LiveRequestPtr& request : running_) {
    horizon = static_cast<int>(std::min<int64_t>(
        horizon, request->samples ? request->samples->StepsUntilChange()
                 : pool_.draft_tokens == 0
                     ? request->remaining_tokens()
                     : StepsToEmit(pool_.tokens_per_step, request->decode_steps,
                                   request->remaining_tokens())));
  }
  // Largest k <= horizon whose KV growth fits (monotone in k). The first
  // iteration's block is already allocated by PlanIteration.
  auto extra_blocks = [this](int k) {
    int64_t extra = 0;
    for (const LiveRequestPtr& request : running_) {
      extra += ExtraBlocks(*request, DecodeRoomTokens(*request, k - 1));
    }
    return extra;
  };
  int lo = 1, hi = std::max(1, horizon);
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (extra_blocks(mid) <= free_blocks()) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

int64_t BatchScheduler::DecodeRunGrowth(int steps) const {
  if (pool_.draft_tokens == 0)
    return static_cast<int64_t>(steps) * shape_.decode_requests;
  int64_t tokens = 0;  // speculative steps credit unequal counts
  for (size_t i = 0; i < planned_decodes_; ++i)
    tokens += DecodeStepTokens(*running_[i], steps);
  return tokens;
}

void BatchScheduler::DecodeRunEndTimes(int n, double start_s,
                                       std::vector<double>* end_times) const {
  // Iteration i of the run reads decode_requests more KV rows than
  // iteration i-1. The cost model is evaluated exactly at iteration 0,
  // every `decode_stride_` iterations and at the last one; in between its
  // (smooth, slowly varying) time is interpolated linearly. Stride 1 is
  // exact everywhere.
  end_times->resize(n);
  auto exact = [this](int i) {
    hardware::BatchShape shape = shape_;
    shape.decode_context_tokens += DecodeRunGrowth(i);
    return i == 0 ? planned_seconds_ : latency_->IterationSeconds(shape);
  };
  double t = start_s;
  int anchor = 0;
  double anchor_seconds = planned_seconds_;
  while (anchor < n) {
    int next = std::min(anchor + decode_stride_, n - 1);
    double next_seconds = next > anchor ? exact(next) : anchor_seconds;
    int last = next > anchor && next < n - 1 ? next - 1 : next;
    for (int i = anchor; i <= last; ++i) {
      double fraction =
          next > anchor ? static_cast<double>(i - anchor) / (next - anchor) : 0;
      t += anchor_seconds + (next_seconds - anchor_seconds) * fraction;
      (*end_times)[i] = t;
    }
    if (next == anchor || last == n - 1) break;
    anchor = next;
    anchor_seconds = next_seconds;
  }
}

void BatchScheduler::FinishDecodeIterations(
    int n, const std::vector<double>& end_times) {
  size_t batch = planned_decodes_;
  double start_s = end_times[0] - planned_seconds_;
  usage_.busy_s += end_times[n - 1] - start_s;
  if (operator_totals_) {
    hardware::BatchShape middle = shape_;
    middle.decode_context_tokens += DecodeRunGrowth((n - 1) / 2);
    operator_totals_->AddDecodeRun(middle, n, end_times[n - 1] - start_s);
  }
  usage_.iterations += n;
  usage_.batched_requests += int64_t{shape_.decode_requests} * n;
  // After the run's wait the requests are likely out of cache: start every
  // fetch now rather than one miss at a time between hook calls.
  for (size_t i = 0; i < batch; ++i) __builtin_prefetch(running_[i].get());
  if (pool_.draft_tokens > 0 || pool_.samples_per_request > 0) {
    // Speculative steps emit unequal token counts, a sample group one per
    // running sample: step by step.
    for (size_t i = 0; i < batch; ++i) {
      LiveRequest* request = running_[i].get();
      for (int step = 0; step < n && request->remaining_tokens() > 0; ++step)
        EmitDecodeStep(request, end_times[step]);
      Allocate(request, request->context_tokens());
    }
  } else {
    for (size_t i = 0; i < batch; ++i) {
      LiveRequest* request = running_[i].get();
      TokenGaps(end_times[0] - request->last_token_s, 1);
      request->generated += n;
      request->last_token_s = end_times[n - 1];
      Allocate(request, request->context_tokens());
    }
    for (int i = 1; i < n; ++i) {
      TokenGaps(end_times[i] - end_times[i - 1], static_cast<int64_t>(batch));
    }
  }
  CompleteFinished();
  LoadChanged();
}

bool BatchScheduler::PlanDiffusionIteration(double now_s, double* seconds) {
  // Admission (FCFS, no bypass): a request's whole K/V is taken at once, so
  // it is never preempted; it needs no prefill of its own (its first pass
  // reads the prompt).
  while (!waiting_.empty() && has_batch_room()) {
    LiveRequest* head = waiting_.front().get();
    const int64_t blocks = LifetimeBlocks(*head);
    if (blocks > free_blocks()) break;
    TakeBlocks(blocks);
    head->kv_blocks = blocks;
    head->first_scheduled_s = now_s;
    usage_.peak_kv_blocks = std::max(usage_.peak_kv_blocks, used_blocks());
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  for (const LiveRequestPtr& request : running_) {
    DiffusionPass pass = pool_.diffusion->Pass(
        request->decode_steps, request->input_tokens, request->output_tokens);
    shape_.AddBidirectionalPass(pass.query_tokens, pass.sequence_tokens);
  }
  planned_decodes_ = running_.size();
  LoadChanged();
  if (shape_.empty()) return false;
  planned_seconds_ = latency_->IterationSeconds(shape_);
  *seconds = planned_seconds_;
  return true;
}

void BatchScheduler::FinishDiffusionIteration(double end_s) {
  usage_.busy_s += planned_seconds_;
  ++usage_.iterations;
  usage_.batched_requests += static_cast<int64_t>(planned_decodes_);
  if (operator_totals_) operator_totals_->AddIteration(shape_);
  for (size_t i = 0; i < planned_decodes_; ++i) {
    LiveRequest* request = running_[i].get();
    if (request->decode_steps++ == 0) {
      request->prefill_done_s = end_s;  // the first pass read the prompt
      ++usage_.prompts_served;
      // An adaptive canvas has shrunk: its dropped blocks' K/V is free.
      const int64_t dropped =
          request->kv_blocks -
          BlocksFor(pool_.diffusion->HeldTokensAfterFirstPass(
              request->input_tokens, request->output_tokens));
      if (dropped > 0) {
        request->kv_blocks -= dropped;
        ReleaseBlocks(dropped);
      }
    }
    const int64_t tokens = pool_.diffusion->TokensAfterPasses(
                               request->decode_steps, request->output_tokens) -
                           request->generated;
    if (tokens <= 0) continue;
    if (request->generated == 0) {
      // A finished block streams at once: its first token is the TTFT's,
      // the rest follow with no gap.
      request->first_token_s = end_s;
      if (tokens > 1) TokenGaps(0, tokens - 1);
    } else {
      TokenGaps((end_s - request->last_token_s) / tokens, tokens);
    }
    request->generated += static_cast<int32_t>(tokens);
    request->last_token_s = end_s;
  }
  CompleteFinished();
  LoadChanged();
}

}  // namespace fleetsim::sim
