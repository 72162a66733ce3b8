#include "sim/speculative_decoding.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "hardware/model_footprint.h"
#include "hardware/mtp_module.h"
#include "util/text_locator.h"

namespace fleetsim::sim {

double ExpectedTokensPerStep(const std::vector<double>& acceptance) {
  double tokens = 1;
  double all_accepted = 1;
  for (double a : acceptance) {
    all_accepted *= a;
    tokens += all_accepted;
  }
  return tokens;
}

double LeviathanSpeedup(double alpha, int draft_tokens, double cost_ratio) {
  double expected_tokens =
      alpha >= 1 ? draft_tokens + 1
                 : (1 - std::pow(alpha, draft_tokens + 1)) / (1 - alpha);
  return expected_tokens / (cost_ratio * draft_tokens + 1);
}

int64_t TokensAfterSteps(double tokens_per_step, int64_t steps) {
  if (tokens_per_step == 1) return steps;
  return static_cast<int64_t>(
      std::floor(static_cast<double>(steps) * tokens_per_step));
}

int64_t StepsToEmit(double tokens_per_step, int64_t steps_done,
                    int64_t tokens) {
  const int64_t target = TokensAfterSteps(tokens_per_step, steps_done) + tokens;
  // floor(x) >= n iff x >= n: the first step count at or past target / E,
  // then nudged against rounding of the division.
  int64_t steps = std::max<int64_t>(
      1, static_cast<int64_t>(
             std::ceil(static_cast<double>(target) / tokens_per_step)) -
             steps_done);
  while (steps > 1 &&
         TokensAfterSteps(tokens_per_step, steps_done + steps - 1) >= target)
    --steps;
  while (TokensAfterSteps(tokens_per_step, steps_done + steps) < target)
    ++steps;
  return steps;
}

absl::Status ResolveDraftModel(const workloads::ModelCatalog& models,
                               const std::string& origin,
                               v1::Cluster* cluster) {
  if (!cluster->has_speculative_decoding()) return absl::OkStatus();
  v1::SpeculativeDecoding* speculative =
      cluster->mutable_speculative_decoding();
  if (speculative->has_draft() || speculative->draft_model().empty() ||
      speculative->multi_token_prediction())
    return absl::OkStatus();
  absl::StatusOr<const v1::Model*> draft =
      models.Find(speculative->draft_model());
  if (!draft.ok()) {
    return absl::NotFoundError(
        TextLocator(origin, *cluster)
            .At("speculative_decoding.draft_model",
                absl::StrCat("field "
                             "'speculative_decoding.draft_model': ",
                             draft.status().message())));
  }
  *speculative->mutable_draft() = **draft;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SpeculativeDecodingSpec>>
ResolveSpeculativeDecoding(const v1::Cluster& cluster, const v1::Model& served,
                           const std::string& origin) {
  if (!cluster.has_speculative_decoding()) return std::nullopt;
  const v1::SpeculativeDecoding& config = cluster.speculative_decoding();
  // At the field's position when `origin` is the cluster file.
  const TextLocator locator(origin, cluster);
  auto field_error = [&locator](const std::string& field,
                                const std::string& message) {
    return locator.FieldError("speculative_decoding." + field, message);
  };
  SpeculativeDecodingSpec spec;
  if (config.multi_token_prediction()) {
    if (!config.draft_model().empty() || config.has_draft()) {
      return field_error(
          config.draft_model().empty() ? "draft" : "draft_model",
          "multi_token_prediction drafts with the served model's own "
          "modules: give no draft model");
    }
    if (served.mtp().num_modules() < 1) {
      return field_error(
          "multi_token_prediction",
          absl::StrCat("'", served.name(),
                       "' has no multi-token-prediction modules (its "
                       "catalog entry's field 'mtp')"));
    }
    spec.draft = hardware::MtpModuleModel(served);
    spec.mtp_modules = served.mtp().num_modules();
  } else if (!config.has_draft()) {
    return field_error(
        "draft_model",
        config.draft_model().empty()
            ? "no draft model (name a catalog model, or give 'draft' inline)"
            : absl::StrCat("'", config.draft_model(),
                           "' was not looked up in the model catalog"));
  } else if (absl::Status draft = workloads::ValidateModel(
                 config.draft(),
                 absl::StrCat(origin, ": speculative_decoding.draft"));
             !draft.ok()) {
    return draft;
  } else {
    spec.draft = config.draft();
  }
  if (config.draft_tokens() < 1 || config.draft_tokens() > kMaxDraftTokens) {
    return field_error("draft_tokens",
                       absl::StrCat("must be in [1, ", kMaxDraftTokens,
                                    "] (got ", config.draft_tokens(), ")"));
  }
  spec.draft_tokens = config.draft_tokens();
  if (config.acceptance_by_position_size() > 0) {
    if (config.acceptance_by_position_size() != spec.draft_tokens) {
      return field_error(
          "acceptance_by_position",
          absl::StrCat("has ", config.acceptance_by_position_size(),
                       " entries; it needs one per draft token (",
                       spec.draft_tokens, ")"));
    }
    spec.acceptance.assign(config.acceptance_by_position().begin(),
                           config.acceptance_by_position().end());
  } else if (config.acceptance_rate() > 0) {
    spec.acceptance.assign(spec.draft_tokens, config.acceptance_rate());
  } else {
    return field_error(
        "acceptance_rate",
        "unset: give the draft's acceptance rate (or "
        "acceptance_by_position; all zeros for drafts never accepted)");
  }
  spec.tokens_per_step = ExpectedTokensPerStep(spec.acceptance);
  return spec;
}

double DraftWeightBytes(const SpeculativeDecodingSpec& spec,
                        const v1::Model& draft, int attention_groups) {
  if (spec.mtp_modules == 0) return hardware::WeightBytes(draft);
  const double module = hardware::MtpModuleWeightBytes(draft);
  const double experts = hardware::RoutedExpertBytes(draft);
  return spec.mtp_modules *
         (module + (attention_groups - 1) * (module - experts));
}

int64_t DraftKvBytesPerToken(const SpeculativeDecodingSpec& spec,
                             const v1::Model& draft) {
  return std::max(spec.mtp_modules, 1) * hardware::KvBytesPerToken(draft);
}

}  // namespace fleetsim::sim
