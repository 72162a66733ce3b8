#include "hardware/calibration/collective_fit.h"

#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/calibration/nelder_mead.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_pricer.h"
#include "util/status_macros.h"

namespace fleetsim::hardware {
namespace {

// The two alpha-beta lines of one rank count's all-reduce rows
// (ClassEfficiency::CollectiveFit), by Nelder-Mead on the same Huber loss,
// priced through the cost model with that one entry in force.
absl::StatusOr<v1::CollectiveFit> FitAllReduceLines(
    const v1::Chip& chip, int ranks,
    const std::vector<v1::CalibrationRow>& rows,
    const std::vector<OperatorQuery>& queries,
    const OperatorModelOptions& base) {
  auto entry_for = [ranks](const std::vector<double>& x) {
    v1::CollectiveFit f;
    f.set_ranks(ranks);
    f.set_latency_us(std::exp(x[0]));
    f.set_bus_efficiency(std::exp(x[1]));
    f.set_bulk_latency_us(std::exp(x[2]));
    f.set_bulk_bus_efficiency(std::exp(x[3]));
    return f;
  };
  auto chip_with = [&chip](const v1::CollectiveFit& f) {
    v1::OperatorEfficiency e;
    e.set_op(v1::OPERATOR_CLASS_COLLECTIVE);
    *e.add_collective_fits() = f;
    return WithEfficiency(chip, e);
  };
  auto loss = [&](const std::vector<double>& x) {
    return MeanLoss(chip_with(entry_for(x)), base, queries, rows);
  };
  // Start: a ~10 us low-latency line at a third of the bus, a ~30 us bulk
  // line at 80 %.
  std::vector<double> x = {std::log(10.0), std::log(0.3), std::log(30.0),
                           std::log(0.8)};
  x = NelderMead(loss, x, 0.5, 800);
  x = NelderMead(loss, x, 0.1, 400);
  v1::CollectiveFit f = entry_for(x);
  f.set_latency_us(RoundTo3Digits(f.latency_us()));
  f.set_bus_efficiency(RoundTo3Digits(f.bus_efficiency()));
  f.set_bulk_latency_us(RoundTo3Digits(f.bulk_latency_us()));
  f.set_bulk_bus_efficiency(RoundTo3Digits(f.bulk_bus_efficiency()));
  return f;
}

}  // namespace

absl::StatusOr<ClassFit> FitCollective(
    const v1::Chip& chip, const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base) {
  std::map<int, std::vector<v1::CalibrationRow>> by_ranks;
  for (const v1::CalibrationRow& r : rows) {
    if (r.op_class() != v1::OPERATOR_CLASS_COLLECTIVE ||
        r.op() != "all_reduce" || r.ranks() < 2 ||
        r.ranks() > base.chips_per_machine) {
      continue;
    }
    by_ranks[r.ranks()].push_back(r);
  }
  if (by_ranks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no all_reduce rows within one machine (2-", base.chips_per_machine,
        " ranks) to fit collectives on ", chip.name()));
  }
  ClassFit fit;
  fit.op_class = v1::OPERATOR_CLASS_COLLECTIVE;
  // NCCL's lines are the same whatever framework calls it.
  fit.efficiency.set_op(v1::OPERATOR_CLASS_COLLECTIVE);
  std::vector<v1::CalibrationRow> used;
  for (const auto& [ranks, own] : by_ranks) {
    FLEETSIM_ASSIGN_OR_RETURN(const std::vector<OperatorQuery> queries,
                              QueriesFromRows(own));
    absl::StatusOr<v1::CollectiveFit> lines =
        FitAllReduceLines(chip, ranks, own, queries, base);
    if (!lines.ok()) return lines.status();
    *fit.efficiency.add_collective_fits() = *lines;
    used.insert(used.end(), own.begin(), own.end());
  }
  fit.rows = static_cast<int64_t>(used.size());
  fit.efficiency.set_source(absl::StrCat(
      "fleetsim calibrate fit: ", used.size(), " rows of all_reduce (",
      by_ranks.size(), " rank counts) on ", chip.name()));
  absl::StatusOr<OperatorPricer> pricer =
      OperatorPricer::Create(WithEfficiency(chip, fit.efficiency), base);
  if (!pricer.ok()) return pricer.status();
  absl::StatusOr<std::vector<double>> errors = RowErrors(*pricer, used);
  if (!errors.ok()) return errors.status();
  double loss = 0;
  for (double e : *errors) loss += HuberLog(1 + e, 1);
  fit.loss = loss / static_cast<double>(used.size());
  fit.in_sample = SummariseErrors(*errors);
  return fit;
}

}  // namespace fleetsim::hardware
