#include "sim/expert_parallel_layout.h"

#include "absl/strings/str_cat.h"
#include "hardware/model_footprint.h"
#include "util/text_locator.h"

namespace fleetsim::sim {

absl::Status CheckExpertParallel(const v1::Cluster& cluster, int index,
                                 const v1::Model& model,
                                 const std::string& origin,
                                 const PoolSpec& pool) {
  if (pool.ep <= 1) return absl::OkStatus();
  std::string problem;
  if (hardware::NumMoeLayers(model) == 0) {
    problem = absl::StrCat(model.name(),
                           " has no MoE layers to shard over expert ranks");
  } else if (model.moe().num_experts() % pool.ep != 0) {
    problem = absl::StrCat("it does not divide the ", model.moe().num_experts(),
                           " routed experts of ", model.name());
  } else if (pool.ep % pool.tp != 0) {
    problem = absl::StrCat(
        "it is not a multiple of tp = ", pool.tp,
        " (attention runs in ep / tp data-parallel groups of tp chips)");
  } else if (pool.ep * pool.pp > pool.chips_per_machine) {
    // Spanning machines: whole machines of one pipeline stage, the
    // all-to-all's cross-machine share on the scale-out links
    // (docs/simulator.md "Expert parallelism across machines").
    if (pool.pp > 1) {
      problem = absl::StrCat(
          "ep x pp = ", pool.ep * pool.pp, " chips exceed the machine's ",
          pool.chips_per_machine, " and pp = ", pool.pp,
          " > 1: an expert-parallel instance spans machines only with one "
          "pipeline stage (pipeline stages across machines with expert "
          "parallelism are not modelled)");
    } else if (pool.ep % pool.chips_per_machine != 0) {
      problem = absl::StrCat(
          "it exceeds the machine's ", pool.chips_per_machine,
          " chips but is not a multiple of them (an instance spanning "
          "machines takes whole machines)");
    } else if (cluster.has_speculative_decoding()) {
      // The cross-machine exchange is sized from the scheduler's batch, one
      // token per decode; a verify pass carries k + 1.
      problem = absl::StrCat(
          "it exceeds the machine's ", pool.chips_per_machine,
          " chips, and an instance spanning machines does not decode "
          "speculatively (speculative_decoding; not modelled yet)");
    } else {
      return absl::OkStatus();
    }
  } else if (pool.chips_per_machine % (pool.ep * pool.pp) != 0) {
    problem = absl::StrCat(
        "ep x pp = ", pool.ep * pool.pp, " chips do not divide the machine's ",
        pool.chips_per_machine,
        " (an instance's all-to-all runs within its scale-up domain)");
  } else {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      TextLocator(origin, cluster)
          .At(absl::StrCat("pools[", index, "].ep"),
              absl::StrCat("pool '", pool.name, "': field 'ep' = ", pool.ep,
                           ": ", problem)));
}

}  // namespace fleetsim::sim
