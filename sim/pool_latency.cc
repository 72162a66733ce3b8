#include "sim/pool_latency.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "hardware/chip_catalog.h"
#include "hardware/deformable_detr_model.h"
#include "hardware/model_footprint.h"
#include "hardware/operator_model.h"
#include "hardware/splitwise_perf_model.h"
#include "sim/speculative_latency.h"
#include "util/status_macros.h"

namespace fleetsim::sim {

namespace {

// `pool`: null = the fleet's settings (the SLO reference, capacity bounds):
// no expert parallelism, balanced routing. A model without routed experts
// (a dense draft) has none to place whatever the pool's ep.
absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> CreateFor(
    const FleetSpec& fleet, const v1::Model& model, const v1::Chip& chip,
    int tp, int pp, std::string_view framework, const PoolSpec* pool = nullptr,
    bool mtp_module = false) {
  const int ep =
      pool != nullptr && hardware::NumMoeLayers(model) > 0 ? pool->ep : 1;
  const double alpha = pool != nullptr ? pool->moe_routing_alpha : 0;
  if (fleet.iteration_table == nullptr) {
    hardware::OperatorModelOptions options = fleet.cost_model;
    options.mtp_module = mtp_module;
    if (!framework.empty()) options.framework = std::string(framework);
    if (pool != nullptr) options.kernels = pool->kernels;
    options.expert_parallel = ep;
    options.moe_routing_alpha = alpha;
    // Pipeline stages beyond the chip's scale-up domain cross scale-out.
    options.chips_per_machine = hardware::MachineChips(chip);
    // A pool's instance spanning machines: the simulator moves the
    // all-to-all's cross-machine share (sim/instance.h).
    options.cross_machine_all_to_all_by_caller =
        pool != nullptr && pool->machines_per_instance > 1;
    if (model.has_deformable_detr()) {
      return hardware::DeformableDetrModel::Create(model, chip, tp, pp,
                                                   options);
    }
    return hardware::OperatorModel::Create(model, chip, tp, pp, options);
  }
  if (ep > 1 || alpha > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pool '", pool->name, "': the iteration table ",
        fleet.iteration_table_path,
        " times whole iterations as measured; it cannot honour the fields "
        "'ep' or 'expert_routing'"));
  }
  if (pp > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the iteration table ", fleet.iteration_table_path,
        " times whole iterations without pipeline stages (pp = ", pp, ")"));
  }
  return hardware::SplitwiseTableLatency::Create(*fleet.iteration_table,
                                                 fleet.iteration_table_path,
                                                 model.name(), chip.name(), tp);
}

}  // namespace

absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> CreateLatencyModel(
    const FleetSpec& fleet, const v1::Chip& chip, int tp, int pp,
    std::string_view framework) {
  return CreateFor(fleet, fleet.model, chip, tp, pp, framework);
}

absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> CreateLatencyModel(
    const FleetSpec& fleet, const PoolSpec& pool) {
  FLEETSIM_ASSIGN_OR_RETURN(
      std::unique_ptr<hardware::LatencyModel> target,
      CreateFor(fleet, ServedModel(fleet.model, pool), pool.chip, pool.tp,
                pool.pp, pool.framework, &pool));
  if (pool.draft_tokens == 0) return target;
  // MTP modules run on the last pipeline stage's chips (one layer each).
  const bool mtp = fleet.speculative->mtp_modules > 0;
  FLEETSIM_ASSIGN_OR_RETURN(
      std::unique_ptr<hardware::LatencyModel> draft,
      CreateFor(fleet, ServedModel(fleet.speculative->draft, pool), pool.chip,
                pool.tp, mtp ? 1 : pool.pp, pool.framework, &pool, mtp));
  using Latency = SpeculativeLatency;
  return std::make_unique<Latency>(
      std::move(target), std::move(draft), pool.draft_tokens,
      mtp ? Latency::FirstDraftPass::kVerifyTokens
          : Latency::FirstDraftPass::kOneToken,
      fleet.model.attention() == v1::ATTENTION_KIND_MLA
          ? Latency::VerifyForm::kDecodeQueries
          : Latency::VerifyForm::kPrefillChunk);
}

}  // namespace fleetsim::sim
