#include "sim/operator_totals.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "hardware/model_footprint.h"
#include "hardware/ops/priced_op.h"

namespace fleetsim::sim {
namespace {

// Adds `total` into `out`, merging with an entry of the same name.
void MergeInto(const v1::OperatorTotal& total,
               absl::flat_hash_map<std::string, int>* index,
               google::protobuf::RepeatedPtrField<v1::OperatorTotal>* out) {
  auto [it, added] = index->try_emplace(total.name(), out->size());
  if (added) {
    v1::OperatorTotal* entry = out->Add();
    entry->set_name(total.name());
    entry->set_op_class(total.op_class());
  }
  v1::OperatorTotal& entry = (*out)[it->second];
  entry.set_busy_s(entry.busy_s() + total.busy_s());
  entry.set_tensor_flops(entry.tensor_flops() + total.tensor_flops());
}

void SetFractions(google::protobuf::RepeatedPtrField<v1::OperatorTotal>* ops) {
  double busy = 0;
  for (const v1::OperatorTotal& op : *ops) busy += op.busy_s();
  for (v1::OperatorTotal& op : *ops)
    op.set_busy_fraction(busy > 0 ? op.busy_s() / busy : 0);
}

}  // namespace

OperatorTotals::OperatorTotals(const hardware::LatencyModel* latency)
    : latency_(latency), labels_(latency->OperatorLabels()) {
  seconds_.assign(labels_.size(), 0);
  tensor_flops_.assign(labels_.size(), 0);
  scratch_seconds_.assign(labels_.size(), 0);
  scratch_flops_.assign(labels_.size(), 0);
}

void OperatorTotals::AddIteration(const hardware::BatchShape& batch) {
  latency_->AddOperatorTotals(batch, seconds_.data(), tensor_flops_.data());
}

void OperatorTotals::AddDecodeRun(const hardware::BatchShape& middle, int n,
                                  double run_s) {
  std::fill(scratch_seconds_.begin(), scratch_seconds_.end(), 0.0);
  std::fill(scratch_flops_.begin(), scratch_flops_.end(), 0.0);
  const double middle_s = latency_->AddOperatorTotals(
      middle, scratch_seconds_.data(), scratch_flops_.data());
  const double scale = middle_s > 0 ? run_s / middle_s : 0;
  for (size_t i = 0; i < labels_.size(); ++i) {
    seconds_[i] += scratch_seconds_[i] * scale;
    tensor_flops_[i] += scratch_flops_[i] * n;
  }
}

void FillOperatorUsage(const FleetSpec& fleet, const PoolSpec& pool,
                       const std::vector<const OperatorTotals*>& instances,
                       double busy_s, v1::PoolUsage* usage) {
  absl::flat_hash_map<std::string, int> index;
  double flops = 0;
  for (const OperatorTotals* totals : instances) {
    if (totals == nullptr) continue;
    for (size_t i = 0; i < totals->labels().size(); ++i) {
      v1::OperatorTotal total;
      total.set_name(totals->labels()[i].name);
      total.set_op_class(totals->labels()[i].op_class);
      total.set_busy_s(totals->seconds()[i]);
      // One rank's FLOPs, times the ranks that split the operator (a
      // stage's tp chips, or its ep chips: ep / tp attention groups of tp,
      // and the routed experts' mean rank).
      total.set_tensor_flops(totals->tensor_flops()[i] *
                             pool.chips_per_stage());
      flops += total.tensor_flops();
      MergeInto(total, &index, usage->mutable_operators());
    }
  }
  if (usage->operators().empty()) return;
  SetFractions(usage->mutable_operators());
  // The FFNs' precision: FP4 pools run only their FFN GEMMs at FP4's peak.
  const double peak =
      hardware::TensorTflops(
          pool.chip,
          hardware::PrecisionOfWeights(hardware::FfnWeightBytesPerElement(
              ServedModel(fleet.model, pool)))) *
      1e12;
  const double chip_s = busy_s * pool.chips_per_instance();
  usage->set_model_flops(flops);
  usage->set_peak_flops_per_chip_s(peak);
  usage->set_mfu(chip_s > 0 ? flops / (peak * chip_s) : 0);
}

void FillFleetOperatorUsage(v1::SimulationResult* result) {
  absl::flat_hash_map<std::string, int> index;
  double flops = 0, peak_chip_flops = 0;
  for (const v1::PoolUsage& pool : result->pools()) {
    for (const v1::OperatorTotal& op : pool.operators())
      MergeInto(op, &index, result->mutable_operators());
    // The pool's peak x busy chip-seconds, as its mfu's denominator.
    if (pool.mfu() > 0) {
      flops += pool.model_flops();
      peak_chip_flops += pool.model_flops() / pool.mfu();
    }
  }
  SetFractions(result->mutable_operators());
  result->set_mfu(peak_chip_flops > 0 ? flops / peak_chip_flops : 0);
}

}  // namespace fleetsim::sim
