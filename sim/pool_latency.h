// File: sim/pool_latency.h
//
// Which predictor times a pool's iterations: the operator cost model with
// the fleet's and the pool's settings (framework, kernels, precision, expert
// parallelism), SplitwiseSim's table predictor when the fleet has an
// iteration table, and a speculating pool's draft and verify steps
// (sim/speculative_latency.h). Pools, the SLO reference, `estimate` and the
// planner's capacity bounds all take their predictor from here.
#ifndef FLEETSIM_SIM_POOL_LATENCY_H_
#define FLEETSIM_SIM_POOL_LATENCY_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "hardware/latency_model.h"
#include "sim/fleet.h"

namespace fleetsim::sim {

// The execution-time predictor of `fleet.model` on `chip` at `tp` x `pp`:
// the operator cost model with the fleet's settings, or SplitwiseSim's
// table predictor when the fleet has an iteration table (which has no
// pipeline stages: InvalidArgument for pp > 1). Pools, the SLO reference and
// the planner's capacity bounds all come from here, so they agree.
// `framework` (a pool's serving framework) replaces the fleet's; empty = the
// fleet's. These time the served model alone, never speculatively.
absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> CreateLatencyModel(
    const FleetSpec& fleet, const v1::Chip& chip, int tp, int pp,
    std::string_view framework = {});
// The predictor of one pool: the fleet's model in the pool's precision
// (ServedModel) on the pool's chip, TP, PP and serving framework; with
// speculative decoding, its draft steps and verify step
// (sim/speculative_latency.h).
absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> CreateLatencyModel(
    const FleetSpec& fleet, const PoolSpec& pool);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_POOL_LATENCY_H_
