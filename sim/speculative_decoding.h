// File: sim/speculative_decoding.h
//
// Speculative decoding (Cluster.speculative_decoding; Leviathan et al. 2023,
// "Fast Inference from Transformers via Speculative Decoding",
// arXiv:2211.17192): the acceptance arithmetic, the draft model looked up in
// the catalog, and the cluster's settings checked and resolved. What one
// step costs is sim/speculative_latency.h's; the batch scheduler credits
// the tokens a step emits with TokensAfterSteps.
//
// Tokens are credited from their expectation, not drawn: after s decode
// steps a sequence has emitted floor(s E) tokens, E = ExpectedTokensPerStep
// (so floor(E) or ceil(E) per step). Why not a seeded draw per step: a
// step costs the same whatever each sequence accepted (every sequence
// drafts k tokens and verifies k + 1), so iteration times and throughput
// depend on E alone; a draw would add only a per-request spread of the
// token gaps, and its stream would follow the batch's composition, so one
// scheduling change would reshuffle every request's draws. The closed form
// also keeps a run of identical decode iterations computable at once
// (BatchScheduler::StableDecodeIterations).
#ifndef FLEETSIM_SIM_SPECULATIVE_DECODING_H_
#define FLEETSIM_SIM_SPECULATIVE_DECODING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {

// Cluster.speculative_decoding, checked.
struct SpeculativeDecodingSpec {
  // The draft's shape in its own precision; with multi-token prediction,
  // one module of the served model (hardware::MtpModuleModel).
  v1::Model draft;
  // Multi-token prediction: the served model's modules, each `draft`-
  // shaped, that draft in turn; 0 = a draft model.
  int mtp_modules = 0;
  int draft_tokens = 0;  // k
  // a_1..a_k: the chance that draft token i is accepted given 1..i-1 were.
  std::vector<double> acceptance;
  double tokens_per_step = 1;  // ExpectedTokensPerStep(acceptance)
};

// Most draft tokens per step a cluster may ask for (a sanity bound: serving
// stacks draft a handful, vLLM's examples 2 to 5).
inline constexpr int kMaxDraftTokens = 64;

// Expected tokens one verify step emits per sequence: 1 + a_1 + a_1 a_2 +
// ... + a_1...a_k (the accepted prefix of the drafts, then the served
// model's own token: the one that replaced the first rejected draft, or
// the bonus token after k accepted).
double ExpectedTokensPerStep(const std::vector<double>& acceptance);

// Leviathan et al. 2023, Theorem 3.8: the expected walltime improvement
// (1 - alpha^(k+1)) / ((1 - alpha) (c k + 1)) of k drafts at acceptance
// rate alpha when one draft step takes c times one step of the served
// model and verifying costs one such step. alpha = 1 gives (k+1)/(ck+1).
double LeviathanSpeedup(double alpha, int draft_tokens, double cost_ratio);

// Tokens a sequence has emitted after `steps` decode steps at
// `tokens_per_step` (floor(steps x tokens_per_step); steps when it is 1).
int64_t TokensAfterSteps(double tokens_per_step, int64_t steps);

// The fewest further steps after `steps_done` in which a sequence emits at
// least `tokens` (>= 1) tokens.
int64_t StepsToEmit(double tokens_per_step, int64_t steps_done, int64_t tokens);

// Copies the draft's shape from `models` into
// cluster->speculative_decoding.draft when the cluster names a draft_model
// and gives no inline shape. NotFound naming `origin` and the field for an
// unknown model; OK (and nothing done) without speculative decoding or
// with multi-token prediction (the served model's modules draft).
absl::Status ResolveDraftModel(const workloads::ModelCatalog& models,
                               const std::string& origin, v1::Cluster* cluster);

// The cluster's speculative decoding of `served` checked, or nullopt when
// it has none. InvalidArgument naming `origin` and the field: no draft
// shape (a name never looked up with ResolveDraftModel, or none), a draft
// shape that fails the model catalog's checks, multi_token_prediction with
// a draft model too or for a model without MTP modules (Model.mtp),
// draft_tokens outside [1, kMaxDraftTokens], an acceptance_by_position of
// other than draft_tokens entries, or neither acceptance_rate nor
// acceptance_by_position.
absl::StatusOr<std::optional<SpeculativeDecodingSpec>>
ResolveSpeculativeDecoding(const v1::Cluster& cluster, const v1::Model& served,
                           const std::string& origin);

// What the draft adds to an instance serving it in `draft`'s precision
// (the spec's draft with the pool's dtypes): its weights (every MTP
// module's own, hardware/mtp_module.h, without the shared embedding and
// head; under `attention_groups` > 1 data-parallel attention groups each
// group holds all of a module but its routed experts, as for the served
// model), and its KV bytes per token (one layer per MTP module).
double DraftWeightBytes(const SpeculativeDecodingSpec& spec,
                        const v1::Model& draft, int attention_groups = 1);
int64_t DraftKvBytesPerToken(const SpeculativeDecodingSpec& spec,
                             const v1::Model& draft);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SPECULATIVE_DECODING_H_
