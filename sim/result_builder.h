// File: sim/result_builder.h
//
// BuildResult: a finished run's SimulationResult
// (proto/fleetsim/v1/result.proto) from what the run counted: latency
// distributions and counters (MetricsCollector), each instance's usage (busy
// time, batches, KV peak, preemptions), the SLO verdicts, and the fleet's cost
// and power. Energy assumes TDP while an instance is busy and
// hardware::IdlePowerW otherwise. Plain C++ (no SimGrid).
#ifndef FLEETSIM_SIM_RESULT_BUILDER_H_
#define FLEETSIM_SIM_RESULT_BUILDER_H_

#include <cstdint>
#include <vector>

#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "sim/batch_scheduler.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "sim/slo_evaluator.h"

namespace fleetsim::sim {

// Run-wide counts that only the simulation knows.
struct RunCounts {
  int64_t requests = 0;  // arrivals routed
  int64_t events = 0;    // SimGrid wake-ups (SimulationResult.events)
  double wall_s = 0;     // wall-clock seconds of the whole run
};

// `usage_by_pool[p]`: the usage of each instance of `fleet.pools[p]`, in
// instance order. `slo` may be null (no SLO). The fleet's cost and TCO are
// left to economics::PriceSimulation, which prices on the run's cost basis.
v1::SimulationResult BuildResult(
    const FleetSpec& fleet, const MetricsCollector& metrics,
    const SloEvaluator* slo,
    const std::vector<std::vector<InstanceUsage>>& usage_by_pool,
    const RunCounts& counts);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_RESULT_BUILDER_H_
