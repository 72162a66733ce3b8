#include "sim/diffusion_serving.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sim/fleet.h"
#include "util/text_locator.h"

namespace fleetsim::sim {

int DiffusionServingSpec::StepsPerBlock() const {
  return static_cast<int>(std::ceil(block_tokens / tokens_per_step - 1e-9));
}

int DiffusionServingSpec::PassesPerBlock() const {
  const int steps = StepsPerBlock();
  if (cache == v1::DIFFUSION_CACHE_NONE) return steps;
  return 1 + static_cast<int>(std::ceil((steps - 1) / steps_per_pass - 1e-9));
}

int64_t DiffusionServingSpec::FinalCanvasTokens(int64_t output_tokens) const {
  if (!adaptive_length) return canvas_tokens;
  const int64_t blocks = (output_tokens + block_tokens - 1) / block_tokens;
  return std::clamp<int64_t>(blocks * block_tokens, block_tokens,
                             canvas_tokens);
}

int64_t DiffusionServingSpec::TotalPasses(int64_t output_tokens) const {
  return FinalCanvasTokens(output_tokens) / block_tokens * PassesPerBlock();
}

DiffusionPass DiffusionServingSpec::Pass(int64_t index, int64_t prompt_tokens,
                                         int64_t output_tokens) const {
  const int passes_per_block = PassesPerBlock();
  const int64_t block = index / passes_per_block;
  const bool refresh = index % passes_per_block == 0;
  // The first pass sees the whole canvas; adaptive length shrinks it after.
  const int64_t canvas =
      index == 0 ? canvas_tokens : FinalCanvasTokens(output_tokens);
  DiffusionPass pass;
  pass.sequence_tokens = prompt_tokens + canvas;
  if (cache == v1::DIFFUSION_CACHE_NONE || refresh) {
    pass.query_tokens = pass.sequence_tokens;
  } else {
    // The current block (PREFIX: and every later one), and the
    // speculative copies of the block.
    const int64_t computed = cache == v1::DIFFUSION_CACHE_PREFIX
                                 ? canvas - block * block_tokens
                                 : block_tokens;
    pass.query_tokens =
        computed + static_cast<int64_t>(speculative_copies) * block_tokens;
  }
  return pass;
}

int64_t DiffusionServingSpec::TokensAfterPasses(int64_t passes,
                                                int64_t output_tokens) const {
  if (passes >= TotalPasses(output_tokens)) return output_tokens;
  const int64_t finished_blocks = passes / PassesPerBlock();
  return std::min(output_tokens - 1, finished_blocks * block_tokens);
}

int64_t DiffusionServingSpec::HeldTokens(int64_t prompt_tokens) const {
  return cache == v1::DIFFUSION_CACHE_NONE ? 0 : prompt_tokens + canvas_tokens;
}

int64_t DiffusionServingSpec::HeldTokensAfterFirstPass(
    int64_t prompt_tokens, int64_t output_tokens) const {
  return cache == v1::DIFFUSION_CACHE_NONE
             ? 0
             : prompt_tokens + FinalCanvasTokens(output_tokens);
}

namespace {

// What diffusion serving is not simulated with, or null.
const char* UnsupportedWith(const v1::Cluster& cluster,
                            const FleetSpec& fleet) {
  if (fleet.disaggregated) return "on disaggregated pools";
  if (fleet.mixed_pool_prefill_queue_tokens > 0) return "with the mixed pool";
  if (fleet.speculative) return "with speculative_decoding";
  if (cluster.has_test_time_scaling()) return "with test_time_scaling";
  if (cluster.prefix_caching()) return "with prefix_caching";
  if (!cluster.iteration_time_table().empty())
    return "with an iteration_time_table (it times causal iterations)";
  return nullptr;
}

}  // namespace

absl::Status ApplyDiffusionServing(const v1::Cluster& cluster,
                                   const std::string& origin,
                                   FleetSpec* fleet) {
  const TextLocator locator(origin, cluster);
  auto field_error = [&locator](const std::string& field,
                                const std::string& message) {
    return locator.FieldError("diffusion_serving." + field, message);
  };
  const bool diffusion_model = fleet->model.has_diffusion();
  if (!cluster.has_diffusion_serving()) {
    if (!diffusion_model) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": field 'diffusion_serving': unset, but model '",
                     fleet->model.name(),
                     "' is a diffusion LM (give its canvas, block and cache)"));
  }
  if (!diffusion_model) {
    return field_error(
        "cache", absl::StrCat("model '", fleet->model.name(),
                              "' is autoregressive (no Model.diffusion)"));
  }
  if (const char* what = UnsupportedWith(cluster, *fleet)) {
    return absl::UnimplementedError(
        locator.At("diffusion_serving",
                   absl::StrCat("field 'diffusion_serving': not simulated ",
                                what, " yet")));
  }
  const v1::DiffusionServing& config = cluster.diffusion_serving();
  DiffusionServingSpec spec;
  spec.canvas_tokens = config.canvas_tokens();
  spec.block_tokens = config.block_tokens();
  spec.cache = config.cache();
  spec.adaptive_length = config.adaptive_length();
  spec.speculative_copies = config.speculative_copies();
  spec.max_sequence_tokens = fleet->model.max_context();
  if (spec.cache == v1::DIFFUSION_CACHE_UNSPECIFIED) {
    return field_error("cache",
                       "must be DIFFUSION_CACHE_NONE, DIFFUSION_CACHE_PREFIX "
                       "or DIFFUSION_CACHE_DUAL");
  }
  if (spec.block_tokens < 1) return field_error("block_tokens", "unset");
  if (spec.canvas_tokens < 1 || spec.canvas_tokens % spec.block_tokens != 0) {
    return field_error(
        "canvas_tokens",
        absl::StrCat("must be a positive multiple of block_tokens (",
                     spec.block_tokens, "; got ", spec.canvas_tokens, ")"));
  }
  if (spec.canvas_tokens >= spec.max_sequence_tokens) {
    return field_error(
        "canvas_tokens",
        absl::StrCat(spec.canvas_tokens, " tokens leave no room for a prompt ",
                     "in model '", fleet->model.name(), "''s max_context of ",
                     spec.max_sequence_tokens));
  }
  if (config.has_tokens_per_step()) {
    spec.tokens_per_step = config.tokens_per_step();
    if (spec.tokens_per_step < 1 || spec.tokens_per_step > spec.block_tokens) {
      return field_error(
          "tokens_per_step",
          absl::StrCat("must be in [1, block_tokens = ", spec.block_tokens,
                       "] (got ", spec.tokens_per_step, ")"));
    }
  }
  if (spec.speculative_copies > 0 && spec.cache == v1::DIFFUSION_CACHE_NONE) {
    return field_error("speculative_copies",
                       "jump-share steps score copies of the block against a "
                       "cache: needs cache PREFIX or DUAL");
  }
  if (config.has_steps_per_pass()) {
    spec.steps_per_pass = config.steps_per_pass();
    if (spec.speculative_copies == 0 || spec.steps_per_pass < 1 ||
        spec.steps_per_pass > 1 + spec.speculative_copies) {
      return field_error(
          "steps_per_pass",
          absl::StrCat("must be in [1, 1 + speculative_copies = ",
                       1 + spec.speculative_copies, "] (got ",
                       spec.steps_per_pass, ")"));
    }
  }
  for (PoolSpec& pool : fleet->pools) pool.diffusion = spec;
  return absl::OkStatus();
}

}  // namespace fleetsim::sim
