// File: sim/simulation.h
//
// RunSimulation: one self-contained replay — a resolved fleet, a workload
// and an optional SLO in, a SimulationResult out, per-request records
// streamed to a sink. It creates and runs one SimGrid engine, and SimGrid
// allows one engine per process: run one simulation per process (the CLI
// does; the planner forks a worker per simulation).
//
// Data flow inside: RequestSource -> arrivals actor, which asks the Router
// (sim/router.h) for an instance -> Instance actors (sim/instance.h:
// BatchScheduler iterations timed by the LatencyModel) -> KvTransfers
// (sim/kv_transfers.h: SimGrid flows over the scale-out links of the
// platform, sim/platform.h; disaggregated) -> MetricsCollector and
// SloEvaluator -> BuildResult (sim/result_builder.h).
#ifndef FLEETSIM_SIM_SIMULATION_H_
#define FLEETSIM_SIM_SIMULATION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/slo.pb.h"
#include "fleetsim/v1/workload.pb.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "sim/run_observer.h"
#include "workloads/recorded_arrivals.h"

namespace fleetsim::sim {

struct SimulationInputs {
  FleetSpec fleet;
  // The cluster `fleet` was resolved from, as LoadScenario read it (with
  // the scenario's iteration table and context limit applied; --pool
  // counts are applied to `fleet` only). For the record (inputs.json);
  // the run reads `fleet`.
  v1::Cluster cluster;
  v1::Workload workload;
  // Optional SLO (targets empty = none). Slowdown bounds compare against
  // `slo_reference_chip` at Slo.reference_tp.
  v1::Slo slo;
  v1::Chip slo_reference_chip;
  // H100 entry for normalising fleet cost to H100 machines.
  v1::Chip h100;
  // Extra SimGrid options ("network/model:CM02"); logging is silenced.
  std::vector<std::string> simgrid_config;
  // Longest run of identical decode iterations (same requests, one more
  // context token each) simulated with a single SimGrid wait; any event
  // that changes the batch cuts a run short, so this bounds only work
  // wasted on runs cut short, never accuracy.
  int max_decode_run = 256;
  // Within such a run, the cost model is evaluated exactly every this many
  // iterations and interpolated linearly between (1 = every iteration).
  // Decode time is smooth in context length; bench/replay_benchmark.sh
  // compares stride 16 with exact (p99 TTFT and TBT within 0.3 % on the
  // 42k-request BLOOM scenario, at half the CPU time).
  int decode_stride = 16;
  // Stop the run as soon as its SLO verdict is a certain miss (a request
  // rejected, or SloEvaluator::MissDecided) instead of simulating the rest
  // of the window; the result then carries early_stop and covers only the
  // run until then. For the planner, which needs only the verdict of a
  // miss: a run that meets its SLO is never stopped, so it is unchanged.
  bool stop_when_slo_missed = false;
  // Sum every iteration's per-operator times and FLOPs into the result's
  // operators and MFU (sim/operator_totals.h): one more cost-model
  // evaluation per iteration or decode run. `replay` and the Simulate rpc
  // set it; the planner, which needs verdicts, does not.
  bool operator_totals = false;
  // Told of every iteration, idle moment and KV transfer as the run goes
  // (sim/run_observer.h); outlives the run. Null: none.
  RunObserver* observer = nullptr;
  // Optional: `workload`'s stream recorded once
  // (workloads/recorded_arrivals.h) for many runs of it, such as the
  // planner's candidates: the run replays it instead of reading the trace
  // (twice, with stop_when_slo_missed) itself. Null: the run reads it.
  // REQUIRES: RecordedArrivals::Record(workload)'s.
  std::shared_ptr<const workloads::RecordedArrivals> arrivals;
};

// Errors: anything wrong with the inputs (InvalidArgument/NotFound from the
// workload or latency models; InvalidArgument for a router policy that
// cannot run the fleet's mixed pool, which ResolveFleet refuses first),
// checked before the engine runs; during the run, a trace error, a limit of
// util/run_limits.h reached or a non-finite time (sim/run_guard.h:
// FailedPrecondition, ResourceExhausted); Internal when the engine ended
// with a request neither completed nor rejected.
// Simulated outcomes (overload, preemption, rejected requests, SLO misses)
// are results, not errors.
absl::StatusOr<v1::SimulationResult> RunSimulation(
    const SimulationInputs& inputs, const RequestSink& sink = nullptr);

// InvalidArgument, naming the trace, when `result` simulated no request (an
// empty trace, or a window past its end): such a run has no verdict, so
// replay and the service's Simulate refuse it instead of reporting "SLO
// met". The planner's rate probes may draw none and do not use it.
absl::Status RequireRequests(const v1::SimulationResult& result,
                             const v1::Workload& workload);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SIMULATION_H_
