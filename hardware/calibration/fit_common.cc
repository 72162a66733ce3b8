#include "hardware/calibration/fit_common.h"

#include <cmath>

#include "hardware/operator_pricer.h"

namespace fleetsim::hardware {

double HuberLog(double predicted, double measured) {
  constexpr double kDelta = 0.3;
  const double e = std::fabs(std::log(predicted / measured));
  return e < kDelta ? e * e : 2 * kDelta * e - kDelta * kDelta;
}

double MeanLoss(const v1::Chip& chip, const OperatorModelOptions& base,
                const std::vector<OperatorQuery>& queries,
                const std::vector<v1::CalibrationRow>& rows) {
  const OperatorPricer pricer(*OperatorPricer::Create(chip, base));
  double sum = 0;
  for (size_t i = 0; i < queries.size(); ++i)
    sum += HuberLog(pricer.Seconds(queries[i]), rows[i].median_s());
  return sum / static_cast<double>(queries.size());
}

double RoundTo3Digits(double v) {
  if (v == 0) return 0;  // a term fitted off (log10 would give NaN)
  const double digits = std::pow(10.0, 2 - std::floor(std::log10(v)));
  return std::round(v * digits) / digits;
}

std::vector<v1::CalibrationRow> RowsOfClass(
    const std::vector<v1::CalibrationRow>& rows, v1::OperatorClass c) {
  std::vector<v1::CalibrationRow> out;
  for (const v1::CalibrationRow& r : rows)
    if (r.op_class() == c) out.push_back(r);
  return out;
}

v1::Chip WithEfficiency(const v1::Chip& chip,
                        const v1::OperatorEfficiency& fit) {
  v1::Chip out = chip;
  v1::OperatorEfficiency* cls = nullptr;
  for (v1::OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == fit.op() && e.framework() == fit.framework() &&
        e.dtype() == fit.dtype() && e.kernel() == fit.kernel()) {
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
    cls->set_dtype(fit.dtype());
  }
  for (v1::OperatorEfficiency& sub : *cls->mutable_operators()) {
    if (sub.op_name() == fit.op_name() && sub.kernel() == fit.kernel()) {
      sub.MergeFrom(fit);
      return out;
    }
  }
  *cls->add_operators() = fit;
  return out;
}

v1::Chip WithoutOperatorEntries(const v1::Chip& chip, v1::OperatorClass c) {
  v1::Chip out = chip;
  for (v1::OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == c) e.clear_operators();
  }
  return out;
}

}  // namespace fleetsim::hardware
