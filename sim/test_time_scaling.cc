#include "sim/test_time_scaling.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "sim/context_limit.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "util/run_limits.h"
#include "workloads/random_draws.h"

namespace fleetsim::sim {

absl::Status ApplyTestTimeScaling(const v1::Cluster& cluster,
                                  const std::string& origin, FleetSpec* fleet) {
  if (!cluster.has_test_time_scaling()) return absl::OkStatus();
  const v1::TestTimeScaling& config = cluster.test_time_scaling();
  const std::string field = absl::StrCat(origin, ": field 'test_time_scaling");
  if (config.barrier() == v1::TEST_TIME_SCALING_BARRIER_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        ".barrier': must be TEST_TIME_SCALING_BARRIER_SYNCHRONOUS or "
        "TEST_TIME_SCALING_BARRIER_ASYNCHRONOUS"));
  }
  if (config.samples() < 1 || config.rounds() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, config.samples() < 1 ? ".samples'" : ".rounds'",
                     ": must be at least 1"));
  }
  if (fleet->speculative || cluster.prefix_caching() || fleet->disaggregated) {
    return absl::UnimplementedError(absl::StrCat(
        field, "': not simulated ",
        fleet->speculative     ? "with speculative_decoding"
        : fleet->disaggregated ? "on disaggregated pools (the samples' KV)"
                               : "with prefix_caching",
        " yet"));
  }
  TestTimeScalingSpec spec;
  spec.samples = config.samples();
  spec.rounds = config.rounds();
  spec.synchronous =
      config.barrier() == v1::TEST_TIME_SCALING_BARRIER_SYNCHRONOUS;
  spec.score_between_rounds = config.score_between_rounds();
  if (config.has_length_spread()) spec.length_spread = config.length_spread();
  for (PoolSpec& pool : fleet->pools) {
    if (pool.attention_groups() > 1) {
      // The pricer spreads decodes over the attention groups, while a
      // request's samples share its prompt's KV in one group.
      return absl::UnimplementedError(absl::StrCat(
          field,
          "': not simulated with expert parallelism over "
          "data-parallel attention groups (pool '",
          pool.name, "', ep ", pool.ep, " > tp ", pool.tp, ") yet"));
    }
    if (pool.max_batch_size < spec.samples) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".samples': ", spec.samples, " samples do not fit pool '",
          pool.name, "''s max_batch_size of ", pool.max_batch_size,
          " sequences"));
    }
    pool.samples_per_request = spec.samples;
  }
  fleet->test_time_scaling = spec;
  return absl::OkStatus();
}

std::vector<int32_t> DrawRoundTokens(const TestTimeScalingSpec& spec,
                                     uint64_t seed, int64_t request_id,
                                     int32_t output_tokens) {
  // One generator per request, so a request's draws do not depend on the
  // requests before it (or on how many there were).
  std::seed_seq sequence{static_cast<uint32_t>(seed),
                         static_cast<uint32_t>(seed >> 32),
                         static_cast<uint32_t>(request_id),
                         static_cast<uint32_t>(request_id >> 32)};
  std::mt19937_64 rng(sequence);
  const int cells = spec.samples * spec.rounds;
  const double mean = static_cast<double>(output_tokens) / spec.rounds;
  const double s = spec.length_spread;
  const double cap = static_cast<double>(kMaxRequestTokens / cells);
  std::vector<int32_t> tokens(cells);
  for (int32_t& cell : tokens) {
    double factor = std::exp(s * workloads::Normal(&rng) - s * s / 2);
    cell =
        static_cast<int32_t>(std::clamp(std::round(mean * factor), 1.0, cap));
  }
  return tokens;
}

int SamplesOverRoom(int rounds, int64_t room_tokens,
                    absl::Span<const int32_t> round_tokens) {
  int over = 0;
  for (size_t first = 0; first < round_tokens.size(); first += rounds) {
    int64_t tokens = 0;
    for (int r = 0; r < rounds; ++r) tokens += round_tokens[first + r];
    over += tokens > room_tokens ? 1 : 0;
  }
  return over;
}

void CapSampleTokens(int rounds, int64_t room_tokens,
                     std::vector<int32_t>* round_tokens) {
  const int64_t room = std::max<int64_t>(1, room_tokens);
  for (size_t first = 0; first < round_tokens->size(); first += rounds) {
    int64_t left = room;
    for (int r = 0; r < rounds; ++r) {
      int32_t& cell = (*round_tokens)[first + r];
      cell = static_cast<int32_t>(std::min<int64_t>(cell, left));
      left -= cell;
    }
  }
}

int64_t SharedPromptKvBlocks(int64_t prompt_tokens, int block_tokens) {
  return prompt_tokens / block_tokens;
}

int64_t SampleKvBlocks(int64_t prompt_tokens, int64_t tokens,
                       int block_tokens) {
  return (prompt_tokens % block_tokens + tokens + block_tokens - 1) /
         block_tokens;
}

int64_t SampleGroupKvBlocks(int64_t prompt_tokens,
                            absl::Span<const int64_t> sample_tokens,
                            int block_tokens) {
  int64_t blocks = SharedPromptKvBlocks(prompt_tokens, block_tokens);
  for (int64_t tokens : sample_tokens)
    blocks += SampleKvBlocks(prompt_tokens, tokens, block_tokens);
  return blocks;
}

SampleGroup::SampleGroup(const TestTimeScalingSpec& spec,
                         std::vector<int32_t> round_tokens)
    : rounds_(spec.rounds),
      synchronous_(spec.synchronous),
      scores_between_rounds_(spec.score_between_rounds),
      round_end_(std::move(round_tokens)),
      generated_(spec.samples, 0),
      // Asynchronous without scoring, nothing stops a sample between rounds.
      open_(spec.samples,
            synchronous_ || scores_between_rounds_ ? 0 : rounds_ - 1),
      scoring_left_(spec.samples, 0) {
  for (int s = 0; s < spec.samples; ++s) {
    for (int r = 1; r < rounds_; ++r)
      round_end_[s * rounds_ + r] += round_end_[s * rounds_ + r - 1];
  }
}

int64_t SampleGroup::TotalTokens() const {
  int64_t total = 0;
  for (int s = 0; s < samples(); ++s) total += SampleTokens(s);
  return total;
}

int32_t SampleGroup::LongestSampleTokens() const {
  int32_t longest = 0;
  for (int s = 0; s < samples(); ++s)
    longest = std::max(longest, SampleTokens(s));
  return longest;
}

int SampleGroup::RunningSamples() const {
  int running = 0;
  for (int s = 0; s < samples(); ++s) running += Running(s) ? 1 : 0;
  return running;
}

int SampleGroup::UnfinishedSamples() const {
  int unfinished = 0;
  for (int s = 0; s < samples(); ++s) unfinished += Finished(s) ? 0 : 1;
  return unfinished;
}

void SampleGroup::StartDecoding(std::vector<int>* finished) {
  std::fill(generated_.begin(), generated_.end(), 1);
  for (int s = 0; s < samples(); ++s) {
    if (finished != nullptr && Finished(s)) finished->push_back(s);
  }
  Advance();
}

int64_t SampleGroup::StepsUntilChange() const {
  int64_t steps = 0;
  for (int s = 0; s < samples(); ++s) {
    if (!Running(s)) continue;
    int64_t left = Limit(s) - generated_[s];
    steps = steps == 0 ? left : std::min(steps, left);
  }
  return steps;
}

int SampleGroup::Step(std::vector<int>* finished) {
  int emitted = 0;
  for (int s = 0; s < samples(); ++s) {
    if (!Running(s)) continue;
    ++generated_[s];
    ++emitted;
    if (finished != nullptr && Finished(s)) finished->push_back(s);
  }
  Advance();
  return emitted;
}

void SampleGroup::Score(int s, int32_t tokens) {
  scoring_left_[s] -= tokens;
  if (scoring_left_[s] == 0) --scoring_samples_;
  Advance();
}

void SampleGroup::AdvanceRound(int s) {
  // A finished sample (cut at max_context) has no next round to wait for.
  if (scores_between_rounds_ && !Finished(s)) {
    scoring_left_[s] = RoundTokens(s, open_[s]);
    if (scoring_left_[s] > 0) ++scoring_samples_;
  }
  ++open_[s];
}

void SampleGroup::Advance() {
  if (!synchronous_) {
    for (int s = 0; s < samples(); ++s) {
      while (CanAdvance(s)) AdvanceRound(s);
    }
    return;
  }
  auto all_can_advance = [this] {
    for (int s = 0; s < samples(); ++s) {
      if (!CanAdvance(s)) return false;
    }
    return true;
  };
  while (all_can_advance()) {
    for (int s = 0; s < samples(); ++s) AdvanceRound(s);
  }
}

void AttachSampleGroup(const FleetSpec& fleet, uint64_t seed,
                       LiveRequest* request) {
  if (!fleet.test_time_scaling) return;
  const TestTimeScalingSpec& spec = *fleet.test_time_scaling;
  std::vector<int32_t> round_tokens =
      DrawRoundTokens(spec, seed, request->id, request->output_tokens);
  const int64_t max_context = fleet.model.max_context();
  if (max_context > 0) {
    // The trace's mean length may fit while a sample's drawn one does not.
    const int64_t room = max_context - request->input_tokens;
    request->samples_over_context =
        SamplesOverRoom(spec.rounds, room, round_tokens);
    if (request->samples_over_context > 0) {
      RecordOverContext(fleet.context_limit, request);
      if (fleet.context_limit == v1::CONTEXT_LIMIT_TRUNCATE)
        CapSampleTokens(spec.rounds, room, &round_tokens);
    }
  }
  request->samples =
      std::make_unique<SampleGroup>(spec, std::move(round_tokens));
  request->output_tokens =
      static_cast<int32_t>(request->samples->TotalTokens());
}

int32_t SequenceTokens(const LiveRequest& request) {
  return request.samples ? request.samples->LongestSampleTokens()
                         : request.output_tokens;
}

}  // namespace fleetsim::sim
