#include "planner/capacity_bounds.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "hardware/latency_model.h"
#include "hardware/model_footprint.h"
#include "hardware/operator_options.h"
#include "hardware/reference_machine.h"
#include "sim/fleet.h"
#include "sim/platform.h"
#include "sim/pool_latency.h"
#include "sim/slo_evaluator.h"
#include "util/status_macros.h"
#include "workloads/trace_stats.h"

namespace fleetsim::planner {
namespace {

// A diffusion LM's bound (sim/diffusion_serving.h): every admitted request
// runs one pass an iteration, so a full batch of the mean request finishes
// in the sum of its passes' iteration times. The passes read the prompt
// too: all of it is counted as decode work, none as prefill.
CapacityBounds DiffusionCapacity(const sim::DiffusionServingSpec& diffusion,
                                 const sim::PoolSpec& spec,
                                 const hardware::LatencyModel& model,
                                 const Demand& demand) {
  const auto prompt = static_cast<int64_t>(std::max(1.0, demand.mean_input));
  const auto answer = std::clamp<int64_t>(
      static_cast<int64_t>(demand.mean_output), 1, diffusion.canvas_tokens);
  // Held at the canvas left after the first pass (the larger first-pass
  // canvas is held for one pass of many).
  const int batch = static_cast<int>(std::clamp<double>(
      spec.RequestsHeld(static_cast<double>(
          diffusion.HeldTokensAfterFirstPass(prompt, answer))),
      1, spec.max_batch_size));
  double batch_seconds = 0;
  for (int64_t i = 0; i < diffusion.TotalPasses(answer); ++i) {
    const sim::DiffusionPass pass = diffusion.Pass(i, prompt, answer);
    hardware::BatchShape shape;
    for (int r = 0; r < batch; ++r)
      shape.AddBidirectionalPass(pass.query_tokens, pass.sequence_tokens);
    batch_seconds += model.IterationSeconds(shape);
  }
  const double requests_per_s =
      batch / batch_seconds * spec.instances_per_machine;
  CapacityBounds bounds;
  bounds.prefill_machines = 0;
  bounds.decode_machines = demand.rate_per_s / requests_per_s;
  return bounds;
}

}  // namespace

absl::StatusOr<CapacityBounds> EstimateCapacity(const PlanContext& context,
                                                const std::string& chip_name,
                                                Layout layout,
                                                const Demand& demand) {
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* chip,
                            context.chips.Find(chip_name));
  // KV capacity and cost-model settings per instance, exactly as a
  // simulated pool of this chip gets them (sim::ResolveFleet).
  v1::Cluster probe = context.template_cluster;
  probe.clear_pools();
  v1::Pool* pool = probe.add_pools();
  pool->set_role(v1::POOL_ROLE_COLOCATED);
  pool->mutable_machine()->set_chip(chip_name);
  const int chips_per_machine = context.MachineChips(*chip);
  pool->mutable_machine()->set_chips_per_machine(chips_per_machine);
  pool->set_machines(layout.machines);
  pool->set_tp(layout.tp);
  if (layout.ep > 1) pool->set_ep(layout.ep);
  // The precision and kernels every candidate pool takes from the template
  // (ToCluster): a model served in FP8 must be probed in FP8.
  if (!context.template_cluster.pools().empty()) {
    const v1::Pool& t = context.template_cluster.pools(0);
    pool->set_weight_dtype(t.weight_dtype());
    pool->set_kv_dtype(t.kv_dtype());
    for (const std::string& kernel : TemplateKernelsOn(*chip, t.kernels()))
      pool->add_kernels(kernel);
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      sim::FleetSpec fleet,
      sim::ResolveFleet(probe, "capacity probe", context.model,
                        context.chips.entries(), {}));
  FLEETSIM_ASSIGN_OR_RETURN(auto model,
                            sim::CreateLatencyModel(fleet, fleet.pools[0]));
  // The SLO's reference latencies come from the same latency model: a
  // reference it cannot time fails here, not in every simulation.
  FLEETSIM_RETURN_IF_ERROR(
      sim::SloEvaluator::Create(context.slo, fleet, context.slo_reference_chip)
          .status());
  const sim::PoolSpec& spec = fleet.pools[0];
  // An instance spanning machines (expert parallelism) counts 1 / its
  // machines per machine.
  const double instances_per_machine =
      static_cast<double>(spec.instances_per_machine) /
      spec.machines_per_instance;
  // One chunk per data-parallel attention group (one without expert
  // parallelism): each group prefills its own prompt.
  constexpr int kChunk = 2048;
  const int groups = spec.attention_groups();
  hardware::BatchShape prefill;
  for (int g = 0; g < groups; ++g) prefill.AddPrefillChunk(kChunk, 0);
  // An instance spanning machines also waits for the all-to-all's
  // cross-machine share (sim::Instance::RunIteration, no overlap).
  auto iteration_s = [&](const hardware::BatchShape& batch) {
    double s = model->IterationSeconds(batch);
    if (spec.machines_per_instance > 1) {
      s += spec.all_to_all.ScaleOutSeconds(
          static_cast<double>(batch.total_tokens()), spec.scale_out_bytes_per_s,
          sim::RouteLatencySeconds(spec, spec));
    }
    return s;
  };
  double prefill_tokens_per_s =
      groups * kChunk / iteration_s(prefill) * instances_per_machine;
  if (spec.diffusion) {
    return DiffusionCapacity(*spec.diffusion, spec, *model, demand);
  }
  // Under test-time scaling a request decodes as `samples` sequences that
  // share its prompt's KV, each holding its own output's.
  const int samples = spec.sequences_per_request();
  double context_tokens = demand.mean_input + demand.mean_output / 2;
  double per_request_tokens =
      demand.mean_input + samples * demand.mean_output / 2;
  int batch = samples * static_cast<int>(std::clamp<double>(
                            spec.RequestsHeld(per_request_tokens), 1,
                            spec.max_batch_size / samples));
  hardware::BatchShape decode;
  for (int i = 0; i < batch; ++i)
    decode.AddDecode(static_cast<int64_t>(context_tokens));
  // A speculative step emits tokens_per_step tokens per sequence.
  double decode_tokens_per_s = batch * spec.tokens_per_step /
                               iteration_s(decode) * instances_per_machine;

  CapacityBounds bounds;
  bounds.prefill_machines =
      demand.rate_per_s * demand.mean_input / prefill_tokens_per_s;
  bounds.decode_machines =
      demand.rate_per_s * samples * demand.mean_output / decode_tokens_per_s;
  return bounds;
}

std::vector<Layout> ExpertParallelLayouts(const PlanContext& context,
                                          const v1::Chip& chip, int machines) {
  std::vector<Layout> layouts;
  if (hardware::NumMoeLayers(context.model) == 0) return layouts;
  const int chips = context.MachineChips(chip);
  const int experts = context.model.moe().num_experts();
  const int ep = machines == 1 ? std::gcd(chips, experts) : chips * machines;
  if (ep <= 1 || experts % ep != 0) return layouts;
  const int max_tp = std::min({ep, chips, hardware::kDefaultChipsPerMachine});
  for (int tp = 1; tp <= max_tp; tp *= 2) {
    if (ep % tp == 0) layouts.push_back({tp, ep, machines});
  }
  return layouts;
}

absl::StatusOr<ChipLayouts> ChooseExpertParallel(
    const PlanContext& context, const std::string& chip,
    const std::vector<Layout>& layouts, const Demand& demand) {
  ChipLayouts best;
  bool found = false;
  absl::Status last = absl::NotFoundError("no expert-parallel layout");
  for (const Layout& layout : layouts) {
    absl::StatusOr<CapacityBounds> b =
        EstimateCapacity(context, chip, layout, demand);
    if (!b.ok()) {
      last = b.status();
      continue;
    }
    const CapacityBounds& held = best.colocated_bounds;
    if (!found || b->prefill_machines + b->decode_machines <
                      held.prefill_machines + held.decode_machines) {
      best.colocated = layout;
      best.colocated_bounds = *b;
    }
    if (!found || b->prefill_machines < best.prefill_bounds.prefill_machines) {
      best.prefill = layout;
      best.prefill_bounds = *b;
    }
    if (!found || b->decode_machines < best.decode_bounds.decode_machines) {
      best.decode = layout;
      best.decode_bounds = *b;
    }
    found = true;
  }
  if (!found) return last;
  return best;
}

absl::StatusOr<Demand> MeasureDemand(const v1::Workload& workload) {
  FLEETSIM_ASSIGN_OR_RETURN(
      workloads::TraceStats stats,
      workloads::ComputeTraceStats(workload.trace_path(), workload.format()));
  Demand demand;
  demand.mean_input = stats.input_tokens.mean();
  demand.mean_output = stats.output_tokens.mean();
  demand.rate_per_s =
      workload.arrival() != v1::ARRIVAL_PROCESS_UNSPECIFIED
          ? workload.rate_per_s()
          : stats.rate_per_s *
                (workload.rate_scale() > 0 ? workload.rate_scale() : 1);
  return demand;
}

}  // namespace fleetsim::planner
