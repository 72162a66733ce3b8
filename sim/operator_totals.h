// File: sim/operator_totals.h
//
// OperatorTotals: where one instance's busy time went, operator by operator
// of the cost model, and the tensor FLOPs it ran, summed over a run
// (SimulationInputs.operator_totals); FillOperatorUsage turns a pool's and
// the fleet's into PoolUsage.operators / SimulationResult.operators and MFU.
//
// Every single iteration is evaluated once more, exactly, through
// LatencyModel::AddOperatorTotals. A run of n identical decode iterations
// (sim/instance.h) is evaluated once, at its middle iteration's shape, and
// counted n times, its seconds scaled so that they add up to the run's
// simulated time (which the scheduler interpolates between exact
// evaluations, sim/batch_scheduler.h): each operator's share of a run is
// that of its middle iteration, and the FLOPs, linear in the context
// length, are exact for an odd n and off by half a token's per request
// for an even one.
//
// MFU (model FLOPs utilisation, PaLM's, Chowdhery et al. 2022,
// arXiv:2204.02311, App. B, applied to serving): the tensor FLOPs the
// iterations ran (GEMMs and attention matmuls, every chip; recomputed
// prefills of preempted requests count, padding to GEMM tiles does not)
// over the dense tensor peak at the pool's FFN weight precision (FP4 pools:
// the FP4 peak; hardware::TensorTflops) times the chip-seconds its instances
// were busy (tp x pp chips per instance, each busy for the whole iteration:
// pipeline stages waiting on each other lower it, as they lower throughput).
#ifndef FLEETSIM_SIM_OPERATOR_TOTALS_H_
#define FLEETSIM_SIM_OPERATOR_TOTALS_H_

#include <vector>

#include "fleetsim/v1/result.pb.h"
#include "hardware/latency_model.h"
#include "sim/fleet.h"

namespace fleetsim::sim {

class OperatorTotals final {
 public:
  // `latency` (the instance's; outlives this) names the operators; none
  // when it has no breakdown (empty()).
  explicit OperatorTotals(const hardware::LatencyModel* latency);

  bool empty() const { return labels_.empty(); }

  // One iteration of `batch`, evaluated exactly.
  void AddIteration(const hardware::BatchShape& batch);
  // `n` decode iterations that took `run_s` in all, `middle` the shape of
  // the run's middle iteration.
  void AddDecodeRun(const hardware::BatchShape& middle, int n, double run_s);

  const std::vector<hardware::OperatorLabel>& labels() const { return labels_; }
  // Per label: instance-seconds, and tensor FLOPs on one chip of each
  // tensor-parallel rank (all pipeline stages).
  const std::vector<double>& seconds() const { return seconds_; }
  const std::vector<double>& tensor_flops() const { return tensor_flops_; }

 private:
  const hardware::LatencyModel* latency_;
  std::vector<hardware::OperatorLabel> labels_;
  std::vector<double> seconds_;
  std::vector<double> tensor_flops_;
  // One evaluation's breakdown before it is scaled (no allocation per run).
  std::vector<double> scratch_seconds_;
  std::vector<double> scratch_flops_;
};

// PoolUsage.operators (merged by name, in first-seen order), model_flops,
// peak_flops_per_chip_s and mfu from the totals of `pool`'s instances (null
// entries, and empty totals, are skipped) and their busy seconds. Leaves
// `usage` untouched when no instance has totals.
void FillOperatorUsage(const FleetSpec& fleet, const PoolSpec& pool,
                       const std::vector<const OperatorTotals*>& instances,
                       double busy_s, v1::PoolUsage* usage);

// SimulationResult.operators (every pool's merged by name) and mfu (every
// pool's model FLOPs over the sum of their peak x busy chip-seconds), from
// the pools' usage (FillOperatorUsage).
void FillFleetOperatorUsage(v1::SimulationResult* result);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_OPERATOR_TOTALS_H_
