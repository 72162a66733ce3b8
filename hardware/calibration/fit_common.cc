#include "hardware/calibration/fit_common.h"

#include <cmath>

#include "hardware/operator_pricer.h"

namespace fleetsim::hardware {

double HuberLog(double predicted, double measured) {
  constexpr double kDelta = 0.3;
  const double e = std::fabs(std::log(predicted / measured));
  return e < kDelta ? e * e : 2 * kDelta * e - kDelta * kDelta;
}

double MeanLoss(const Chip& chip, const OperatorModelOptions& base,
                const std::vector<OperatorQuery>& queries,
                const std::vector<CalibrationRow>& rows) {
  const OperatorPricer pricer(*OperatorPricer::Create(chip, base));
  double sum = 0;
  for (size_t i = 0; i < queries.size(); ++i)
    sum += HuberLog(pricer.Seconds(queries[i]), rows[i].median_s());
  return sum / static_cast<double>(queries.size());
}

double RoundTo3Digits(double v) {
  const double digits = std::pow(10.0, 2 - std::floor(std::log10(v)));
  return std::round(v * digits) / digits;
}

std::vector<CalibrationRow> RowsOfClass(const std::vector<CalibrationRow>& rows,
                                        OperatorClass c) {
  std::vector<CalibrationRow> out;
  for (const CalibrationRow& r : rows)
    if (r.op_class() == c) out.push_back(r);
  return out;
}

Chip WithEfficiency(const Chip& chip, const OperatorEfficiency& fit) {
  Chip out = chip;
  OperatorEfficiency* cls = nullptr;
  for (OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == fit.op() && e.framework() == fit.framework()) {
      cls = &e;
      break;
    }
  }
  if (fit.op_name().empty()) {
    if (cls != nullptr) {
      // Measured collective lines replace the entry's, not add to them.
      if (fit.collective_fits_size() > 0) cls->clear_collective_fits();
      cls->MergeFrom(fit);
    } else {
      *out.add_efficiency() = fit;
    }
    return out;
  }
  // An operator entry goes inside its class entry.
  if (cls == nullptr) {
    cls = out.add_efficiency();
    cls->set_op(fit.op());
    cls->set_framework(fit.framework());
  }
  for (OperatorEfficiency& sub : *cls->mutable_operators()) {
    if (sub.op_name() == fit.op_name()) {
      sub.MergeFrom(fit);
      return out;
    }
  }
  *cls->add_operators() = fit;
  return out;
}

Chip WithoutOperatorEntries(const Chip& chip, OperatorClass c) {
  Chip out = chip;
  for (OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == c) e.clear_operators();
  }
  return out;
}

}  // namespace fleetsim::hardware
