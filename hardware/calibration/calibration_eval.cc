#include "hardware/calibration/calibration_eval.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/row_query.h"
#include "util/distribution.h"
#include "util/status_macros.h"

namespace fleetsim::hardware {

ErrorStats SummariseErrors(std::vector<double> errors) {
  ErrorStats s;
  s.rows = static_cast<int64_t>(errors.size());
  if (errors.empty()) return s;
  std::vector<double> abs_errors(errors.size());
  for (size_t i = 0; i < errors.size(); ++i)
    abs_errors[i] = std::fabs(errors[i]);
  std::sort(abs_errors.begin(), abs_errors.end());
  std::sort(errors.begin(), errors.end());
  s.median_ape = PercentileOfSorted(abs_errors, 50);
  s.p90_ape = PercentileOfSorted(abs_errors, 90);
  s.median_signed = PercentileOfSorted(errors, 50);
  return s;
}

absl::StatusOr<std::vector<double>> RowErrors(
    const OperatorPricer& pricer, const std::vector<v1::CalibrationRow>& rows) {
  FLEETSIM_ASSIGN_OR_RETURN(std::vector<OperatorQuery> queries,
                            QueriesFromRows(rows));
  std::vector<double> errors;
  errors.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    errors.push_back(pricer.Seconds(queries[i]) / rows[i].median_s() - 1.0);
  return errors;
}

absl::StatusOr<EvalReport> EvaluateRows(
    const OperatorPricer& pricer, const std::vector<v1::CalibrationRow>& rows) {
  absl::StatusOr<std::vector<double>> errors = RowErrors(pricer, rows);
  if (!errors.ok()) return errors.status();
  struct Bucket {
    std::vector<double> slow;
    std::vector<double> fast;
  };
  std::vector<std::string> op_order;
  std::vector<std::string> class_order;
  std::map<std::string, Bucket> by_op;
  std::map<std::string, Bucket> by_class;
  Bucket all;
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool fast = rows[i].median_s() < kFastRowSeconds;
    const double e = (*errors)[i];
    const std::string cls = OperatorClassShortName(rows[i].op_class());
    if (!by_op.count(rows[i].op())) op_order.push_back(rows[i].op());
    if (!by_class.count(cls)) class_order.push_back(cls);
    for (Bucket* b : {&by_op[rows[i].op()], &by_class[cls], &all}) {
      (fast ? b->fast : b->slow).push_back(e);
    }
  }
  auto line = [](const std::string& name, const Bucket& b) {
    EvalLine l;
    l.name = name;
    l.rows = SummariseErrors(b.slow);
    l.fast = SummariseErrors(b.fast);
    return l;
  };
  EvalReport report;
  for (const std::string& op : op_order)
    report.by_op.push_back(line(op, by_op[op]));
  for (const std::string& c : class_order)
    report.by_class.push_back(line(c, by_class[c]));
  report.overall = line("overall", all);
  return report;
}

}  // namespace fleetsim::hardware
