// File: sim/test_time_scaling.h
//
// Test-time scaling (Cluster.test_time_scaling; ATTS, "Asynchronous
// Test-Time Scaling via Conformal Prediction", arXiv:2509.15148): a request
// is answered by N parallel samples of its prompt, each generating in R
// sequential rounds, with a barrier at every round (synchronous: a round
// starts when every sample finished the one before) or none
// (asynchronous). ATTS identifies that barrier as the bottleneck of
// test-time scaling; this file holds what a request's samples need:
//  - the spec, checked (ApplyTestTimeScaling);
//  - each sample's tokens per round, drawn from the workload's seed
//    (DrawRoundTokens);
//  - the KV blocks of a sample group, the prompt's counted once
//    (SampleGroupKvBlocks);
//  - a request's sample group as it decodes (SampleGroup): which samples
//    run in the next decode step, how many steps until that changes, and
//    (score_between_rounds) which samples' round tokens await scoring.
// The batch scheduler (sim/batch_scheduler.h) decodes every running sample
// as one sequence of the batch and reserves a group's whole KV when its
// prefill is admitted.
#ifndef FLEETSIM_SIM_TEST_TIME_SCALING_H_
#define FLEETSIM_SIM_TEST_TIME_SCALING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "fleetsim/v1/cluster.pb.h"

namespace fleetsim::sim {

struct FleetSpec;
struct LiveRequest;

// ASSUMPTION (TestTimeScaling.length_spread unset): the log-normal spread
// of one sample's tokens in one round. Not measured; the sync/async gap
// grows with it (0 = none), so bench/seeds_tts.sh sweeps it.
inline constexpr double kDefaultLengthSpread = 0.5;
// Sanity bounds of the samples and rounds a cluster may ask for.
inline constexpr int kMaxSamples = 1024;
inline constexpr int kMaxRounds = 1024;

// Cluster.test_time_scaling, checked.
struct TestTimeScalingSpec {
  int samples = 1;
  int rounds = 1;
  bool synchronous = false;
  double length_spread = kDefaultLengthSpread;
  // ATTS's scoring pass after every round but the last
  // (TestTimeScaling.score_between_rounds).
  bool score_between_rounds = false;
};

// Resolves cluster.test_time_scaling into fleet->test_time_scaling and
// every pool's samples_per_request; OK and nothing done when unset.
// InvalidArgument (naming `origin` and the field) for an unset barrier or
// more samples than a pool's max_batch_size; Unimplemented with
// speculative decoding, prefix caching or disaggregated pools. The numeric
// ranges are ClusterFieldRanges'.
absl::Status ApplyTestTimeScaling(const v1::Cluster& cluster,
                                  const std::string& origin, FleetSpec* fleet);

// Tokens each sample generates in each round, samples x rounds row-major:
// `output_tokens` split evenly over the rounds, times exp(s z - s^2 / 2)
// for s = length_spread and z standard normal (a mean-one log-normal),
// rounded, at least 1 and at most what keeps the group's total within
// util/run_limits.h's request tokens. Deterministic in (seed, request_id).
std::vector<int32_t> DrawRoundTokens(const TestTimeScalingSpec& spec,
                                     uint64_t seed, int64_t request_id,
                                     int32_t output_tokens);

// Samples of `round_tokens` (samples x `rounds`, as DrawRoundTokens returns
// them) that generate more than `room_tokens` tokens in all: those whose
// prompt + tokens exceed max_context when room = max_context - prompt.
int SamplesOverRoom(int rounds, int64_t room_tokens,
                    absl::Span<const int32_t> round_tokens);

// Cuts every sample of `round_tokens` to max(1, room_tokens) tokens, as
// an engine stops a sequence at its length limit: the sample keeps its
// rounds in order until the room is used, the round that reaches it is
// cut there, and its later rounds get 0 tokens (the sample finishes
// early; the first round keeps at least the token the prefill samples).
void CapSampleTokens(int rounds, int64_t room_tokens,
                     std::vector<int32_t>* round_tokens);

// KV blocks of `block_tokens` tokens that a prompt of `prompt_tokens`
// shared by samples generating `sample_tokens` each holds: the prompt's
// full blocks once (SharedPromptKvBlocks), and per sample the prompt's
// partly filled last block (copied on write, as vLLM's parallel sampling
// does: Kwon et al. 2023, arXiv:2309.06180, §4.4) with the sample's own
// tokens (SampleKvBlocks), which it frees when it finishes.
int64_t SharedPromptKvBlocks(int64_t prompt_tokens, int block_tokens);
int64_t SampleKvBlocks(int64_t prompt_tokens, int64_t tokens, int block_tokens);
int64_t SampleGroupKvBlocks(int64_t prompt_tokens,
                            absl::Span<const int64_t> sample_tokens,
                            int block_tokens);

// One request's samples as they decode. The prefill samples every
// sample's first token (StartDecoding); then each decode step gives every
// running sample one token. A sample runs until it has all its tokens
// and, synchronously, until it finished the round every sample is in.
// With score_between_rounds a sample that finished a round before the last
// (and is not finished) is scored before it runs on: its round's tokens
// await a forward pass (ScoringTokens, fed by Score); synchronously, the
// next round opens once every sample of the request has been scored.
class SampleGroup {
 public:
  // `round_tokens` as DrawRoundTokens returns them (each >= 1), possibly
  // capped by CapSampleTokens (a sample's first round >= 1).
  SampleGroup(const TestTimeScalingSpec& spec,
              std::vector<int32_t> round_tokens);

  int samples() const { return static_cast<int>(generated_.size()); }
  // Tokens sample `s` generates over all its rounds.
  int32_t SampleTokens(int s) const { return RoundEnd(s, rounds_ - 1); }
  int64_t TotalTokens() const;
  // Tokens of the longest sample, the longest sequence the request decodes.
  int32_t LongestSampleTokens() const;
  int32_t generated(int s) const { return generated_[s]; }
  bool Running(int s) const {
    // Synchronously, no sample runs on while any of the group is scored.
    return (synchronous_ ? scoring_samples_ : scoring_left_[s]) == 0 &&
           generated_[s] < Limit(s);
  }
  bool Finished(int s) const { return generated_[s] >= SampleTokens(s); }
  int RunningSamples() const;
  int UnfinishedSamples() const;
  // Every sample's first token, sampled by the prefill. Samples that
  // finish with it or with a Step are appended to `finished` (if not
  // null).
  void StartDecoding(std::vector<int>* finished = nullptr);
  // Decode steps until the set of running samples changes (>= 1 while
  // any runs).
  int64_t StepsUntilChange() const;
  // One decode step: every running sample gains a token. Returns the
  // tokens emitted.
  int Step(std::vector<int>* finished = nullptr);

  bool scores_between_rounds() const { return scores_between_rounds_; }
  // Tokens of sample `s`'s last round still to be scored (0: none await).
  int32_t ScoringTokens(int s) const { return scoring_left_[s]; }
  // Tokens of sample `s` before those ScoringTokens counts (their KV is the
  // scoring pass's cached context, besides the prompt's).
  int32_t ScoredTokens(int s) const { return generated_[s] - scoring_left_[s]; }
  // A forward pass scored `tokens` (<= ScoringTokens(s)) of sample `s`.
  void Score(int s, int32_t tokens);

 private:
  // Tokens sample `s` has generated by the end of round `r`.
  int32_t RoundEnd(int s, int r) const { return round_end_[s * rounds_ + r]; }
  int32_t RoundTokens(int s, int r) const {
    return RoundEnd(s, r) - (r > 0 ? RoundEnd(s, r - 1) : 0);
  }
  // Tokens sample `s` may generate before it stops.
  int32_t Limit(int s) const { return RoundEnd(s, open_[s]); }
  // Sample `s` has finished its open round (and its scoring) and a later
  // round remains.
  bool CanAdvance(int s) const {
    return open_[s] < rounds_ - 1 && scoring_left_[s] == 0 &&
           generated_[s] >= Limit(s);
  }
  // Moves sample `s` on from its finished round: the next round opens, and
  // with scoring the finished round's tokens await scoring first.
  void AdvanceRound(int s);
  // Opens the rounds samples can go on to: each on its own (asynchronous),
  // or all together once every sample can (synchronous).
  void Advance();

  int rounds_;
  bool synchronous_;
  bool scores_between_rounds_;
  std::vector<int32_t> round_end_;     // cumulative, samples x rounds
  std::vector<int32_t> generated_;     // per sample
  std::vector<int> open_;              // per sample: the round it may work in
  std::vector<int32_t> scoring_left_;  // per sample: tokens awaiting scoring
  int scoring_samples_ = 0;            // samples with scoring_left_ > 0
};

// The output tokens of `request`'s longest sequence: output_tokens, or under
// test-time scaling its longest sample's (output_tokens then counts every
// sample's). TPOT and the SLO's reference latencies are per sequence: the
// samples decode side by side, so the total over them would divide a
// sequence's time by about N.
int32_t SequenceTokens(const LiveRequest& request);

// Gives `request` its sample group when the fleet scales at test time:
// its output becomes the samples' tokens together (what the metrics count
// as its output). Each sample is a sequence of the prompt and its own
// tokens, judged against the model's max_context as a plain request is
// (sim/context_limit.h), after ApplyContextLimit judged the trace's
// lengths: a sample over it makes the request rejected (REJECT), cut with
// CapSampleTokens (TRUNCATE) or served over it (ALLOW), counted once per
// request in its context_outcome and per sample in samples_over_context.
// No-op without test-time scaling.
void AttachSampleGroup(const FleetSpec& fleet, uint64_t seed,
                       LiveRequest* request);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_TEST_TIME_SCALING_H_
