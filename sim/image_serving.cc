#include "sim/image_serving.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hardware/deformable_detr_model.h"
#include "sim/pool_latency.h"
#include "util/text_locator.h"

namespace fleetsim::sim {

absl::Status CheckImageServing(const v1::Cluster& cluster,
                               const std::string& origin,
                               const FleetSpec& fleet) {
  if (!fleet.model.has_deformable_detr()) return absl::OkStatus();
  const TextLocator locator(origin, cluster);
  const std::string model = fleet.model.name();
  auto unsupported = [&](const std::string& field, const std::string& what) {
    return absl::UnimplementedError(locator.At(
        field, absl::StrCat("field '", field, "': ", what,
                            " is not modelled for images (model '", model,
                            "' is a detector: one prefill pass an image)")));
  };
  const absl::StatusOr<hardware::DetrGeometry> image =
      hardware::DetrGeometryOf(fleet.model);
  if (!image.ok()) return image.status();
  for (int i = 0; i < cluster.pools_size(); ++i) {
    const v1::Pool& pool = cluster.pools(i);
    const std::string at = absl::StrCat("pools[", i, "].");
    if (pool.role() != v1::POOL_ROLE_UNSPECIFIED &&
        pool.role() != v1::POOL_ROLE_COLOCATED) {
      return unsupported(at + "role",
                         "a disaggregated pool (no decode phase to hand "
                         "an image over to)");
    }
    if (pool.tp() != 1) {
      return locator.FieldError(
          at + "tp", absl::StrCat("must be 1 for model '", model,
                                  "' (a detector is modelled on one chip; "
                                  "0 means the machine's chips)"));
    }
    if (pool.pp() > 1) return unsupported(at + "pp", "pipeline parallelism");
    if (pool.ep() > 1) return unsupported(at + "ep", "expert parallelism");
    // fleet.pools[i] was resolved from cluster.pools(i).
    if (fleet.pools[i].max_batch_tokens < image->encoder_tokens) {
      return locator.FieldError(
          at + "batching.max_batch_tokens",
          absl::StrCat(fleet.pools[i].max_batch_tokens,
                       " tokens split an image of ", image->encoder_tokens,
                       " (model '", model,
                       "'), and an encoder pass is not chunked: set at least ",
                       image->encoder_tokens));
    }
  }
  if (fleet.disaggregated) return unsupported("pools", "disaggregation");
  if (fleet.mixed_pool_prefill_queue_tokens > 0) {
    return unsupported("mixed_pool_prefill_queue_tokens", "the mixed pool");
  }
  if (cluster.has_speculative_decoding()) {
    return unsupported("speculative_decoding", "speculative decoding");
  }
  if (cluster.has_test_time_scaling()) {
    return unsupported("test_time_scaling", "test-time scaling");
  }
  if (cluster.has_diffusion_serving()) {
    return unsupported("diffusion_serving", "diffusion serving");
  }
  if (cluster.prefix_caching()) {
    return unsupported("prefix_caching", "prefix caching");
  }
  if (!cluster.iteration_time_table().empty()) {
    return unsupported("iteration_time_table",
                       "an iteration table (it times LLM iterations)");
  }
  for (const PoolSpec& pool : fleet.pools) {
    auto latency = CreateLatencyModel(fleet, pool);
    if (!latency.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": pool '", pool.name, "': ", latency.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ResolveImageWorkload(const v1::Model& model,
                                  v1::Workload* workload) {
  if (!model.has_deformable_detr()) {
    if (!workload->has_images()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("workload: field 'images' (--images): model '",
                     model.name(), "' is a language model, not a detector"));
  }
  if (!workload->has_images()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workload: model '", model.name(),
        "' serves images: replay it with --images (Workload.images) and "
        "--rate images per second, not a trace of text requests"));
  }
  absl::StatusOr<hardware::DetrGeometry> g = hardware::DetrGeometryOf(model);
  if (!g.ok()) return g.status();
  const int64_t tokens = workload->images().encoder_tokens();
  if (tokens == 0) {
    workload->mutable_images()->set_encoder_tokens(
        static_cast<int32_t>(g->encoder_tokens));
  } else if (tokens != g->encoder_tokens) {
    return absl::InvalidArgumentError(
        absl::StrCat("workload: field 'images.encoder_tokens' = ", tokens,
                     ": model '", model.name(), "' makes ", g->encoder_tokens,
                     " tokens of an image at its resolution"));
  }
  return absl::OkStatus();
}

}  // namespace fleetsim::sim
