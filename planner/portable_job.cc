#include "planner/portable_job.h"

#include "sim/fleet.h"

namespace fleetsim::planner {

v1::SimulationContext ContextOf(const sim::SimulationInputs& inputs) {
  v1::SimulationContext context;
  *context.mutable_model() = inputs.fleet.model;
  *context.mutable_workload() = inputs.workload;
  *context.mutable_slo() = inputs.slo;
  *context.mutable_slo_reference_chip() = inputs.slo_reference_chip;
  *context.mutable_h100() = inputs.h100;
  for (const std::string& option : inputs.simgrid_config)
    context.add_simgrid_config(option);
  context.set_max_decode_run(inputs.max_decode_run);
  context.set_decode_stride(inputs.decode_stride);
  context.set_stop_when_slo_missed(inputs.stop_when_slo_missed);
  return context;
}

absl::StatusOr<v1::SimulationTask> TaskOf(const SimulationJob& job) {
  if (job.cluster == nullptr) {
    return absl::InvalidArgumentError(
        "a simulation without its cluster cannot run on another rank");
  }
  v1::SimulationTask task;
  *task.mutable_cluster() = *job.cluster;
  task.set_fleet_name(job.inputs->fleet.name);
  for (const sim::PoolSpec& pool : job.inputs->fleet.pools) {
    bool listed = false;
    for (const v1::Chip& chip : task.chips())
      listed = listed || chip.name() == pool.chip.name();
    if (!listed) *task.add_chips() = pool.chip;
  }
  return task;
}

absl::StatusOr<sim::SimulationInputs> InputsOf(
    const v1::SimulationContext& context, const v1::SimulationTask& task) {
  std::vector<const v1::Chip*> chips;
  for (const v1::Chip& chip : task.chips()) chips.push_back(&chip);
  sim::SimulationInputs inputs;
  absl::StatusOr<sim::FleetSpec> fleet = sim::ResolveFleet(
      task.cluster(), task.fleet_name(), context.model(), chips, {});
  if (!fleet.ok()) return fleet.status();
  inputs.fleet = *std::move(fleet);
  inputs.workload = context.workload();
  inputs.slo = context.slo();
  inputs.slo_reference_chip = context.slo_reference_chip();
  inputs.h100 = context.h100();
  inputs.simgrid_config.assign(context.simgrid_config().begin(),
                               context.simgrid_config().end());
  inputs.max_decode_run = context.max_decode_run();
  inputs.decode_stride = context.decode_stride();
  inputs.stop_when_slo_missed = context.stop_when_slo_missed();
  return inputs;
}

}  // namespace fleetsim::planner
