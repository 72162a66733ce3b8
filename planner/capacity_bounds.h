// File: planner/capacity_bounds.h
//
// What the planner knows before simulating: the offered load (Demand), each
// chip's parallel layouts (tensor, expert) and the least machines a pool of
// it needs from capacity alone (CapacityBounds), which start every system's
// search (planner.cc). docs/planner.md.
#ifndef FLEETSIM_PLANNER_CAPACITY_BOUNDS_H_
#define FLEETSIM_PLANNER_CAPACITY_BOUNDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/workload.pb.h"
#include "planner/candidate.h"

namespace fleetsim::planner {

// Offered load the planner sizes for.
struct Demand {
  double rate_per_s = 0;
  double mean_input = 0;
  double mean_output = 0;
};

// A pool's parallel layout: tp-way tensor parallelism and, when ep > 1,
// expert parallelism over ep chips in ep / tp data-parallel attention
// groups (sim::PoolSpec::ep).
struct Layout {
  int tp = 0;
  int ep = 1;
  // Whole machines one instance spans (ep / the machine's chips, pp = 1;
  // sim::PoolSpec::machines_per_instance); a pool of this layout has a
  // multiple of them.
  int machines = 1;
};

// Least machines a pool needs from capacity alone (no queueing, no SLO):
// prefill token throughput at a full token budget, decode token throughput
// at the largest batch the KV cache holds. Lower bounds for the search.
struct CapacityBounds {
  double prefill_machines = 1;  // machine-equivalents of prefill work
  double decode_machines = 1;
};

// Capacity bounds of `chip` in `layout` for `demand`: the KV capacity and
// cost-model settings per instance exactly as a simulated pool of this chip
// gets them (sim::ResolveFleet, with the template's precision and kernels),
// the SLO's reference checked on the way.
absl::StatusOr<CapacityBounds> EstimateCapacity(const PlanContext& context,
                                                const std::string& chip_name,
                                                Layout layout,
                                                const Demand& demand);

// One chip's pool layout and its capacity bounds in each role, for a family
// of systems: the same for every role under plain tensor parallelism; under
// expert parallelism each role's own choice (ChooseExpertParallel).
struct ChipLayouts {
  Layout colocated, prefill, decode;
  CapacityBounds colocated_bounds, prefill_bounds, decode_bounds;

  static ChipLayouts Uniform(Layout layout, CapacityBounds bounds) {
    return {layout, layout, layout, bounds, bounds, bounds};
  }
};

// The expert-parallel layouts the planner tries on `chip` for an MoE model,
// instances within one machine (`machines` 1) or spanning that many whole
// machines: ep = the most chips of one machine the routed experts divide
// over (their greatest common divisor: 8 on an 8-GPU machine or GB200 NVL72
// for 256 experts, 128 on CloudMatrix384), or all chips of `machines`
// machines when the experts divide over them; tp each power of two dividing
// ep up to the machine's chips and an HGX board's 8 (tensor parallelism
// stays in a machine). None for a dense model or where ep would be 1.
std::vector<Layout> ExpertParallelLayouts(const PlanContext& context,
                                          const v1::Chip& chip,
                                          int machines = 1);

// For each role, the layout among `layouts` with the fewest machines by
// capacity bound (colocated: prefill and decode work together; ties: the
// first, the smaller tp). Sizing the attention tp analytically keeps the
// simulated search to one expert-parallel system per chip (or chip pair).
// Errors: the last layout's, when none resolves.
absl::StatusOr<ChipLayouts> ChooseExpertParallel(
    const PlanContext& context, const std::string& chip,
    const std::vector<Layout>& layouts, const Demand& demand);

// The offered load of `workload`: its trace's mean lengths and its rate
// (the arrival process's, else the trace's scaled by rate_scale).
absl::StatusOr<Demand> MeasureDemand(const v1::Workload& workload);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_CAPACITY_BOUNDS_H_
