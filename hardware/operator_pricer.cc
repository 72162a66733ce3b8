#include "hardware/operator_pricer.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hardware/ops/op_query.h"
#include "hardware/ops/priced_op.h"

namespace fleetsim::hardware {

OperatorPricer::OperatorPricer(const v1::Chip& chip,
                               const OperatorModelOptions& options)
    : chip_(chip), options_(options) {
  for (int p = 0; p < kNumTensorPrecisions; ++p) {
    const v1::Dtype dtype = TensorDtype(chip_, static_cast<TensorPrecision>(p));
    for (int c = 0; c < kNumOperatorClasses; ++c) {
      eff_[p][c] = ResolveEfficiency(options_, chip_,
                                     static_cast<v1::OperatorClass>(c), dtype);
    }
    for (int i = 0; i < kNumNamedOperators; ++i) {
      op_eff_[p][i] = ResolveEfficiency(options_, chip_, NamedOperatorClass(i),
                                        NamedOperatorName(i), dtype);
    }
  }
}

absl::StatusOr<OperatorPricer> OperatorPricer::Create(
    const v1::Chip& chip, const OperatorModelOptions& options) {
  std::vector<std::string> problems;
  CheckChipAndOptions(chip, options, &problems);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot price on ", chip.name(), ": ", absl::StrJoin(problems, "; ")));
  }
  return OperatorPricer(chip, options);
}

double OperatorPricer::Seconds(const OperatorQuery& q,
                               OperatorQuery* filled) const {
  double x[kNumFeatures];
  const OpCost cost = CostOfQuery(q, options_, x);
  const int cls = q.op_class >= 0 && q.op_class < kNumOperatorClasses
                      ? static_cast<int>(q.op_class)
                      : 0;
  const int named = NamedOperatorIndexIn(q.op_class, q.name);
  const int p = static_cast<int>(cost.precision);
  const ClassEfficiency& e = named >= 0 ? op_eff_[p][named] : eff_[p][cls];
  const PricedOp op = BindOp(cost, e, chip_, options_);
  OpWork work;
  Bound bound;
  const double seconds = op.Seconds(x, &work, &bound);
  if (filled != nullptr) {
    *filled = q;
    filled->flops = work.flops;
    filled->vector_flops = work.vector_flops;
    filled->bytes = work.bytes;
    filled->analytic_s = seconds;
  }
  return seconds;
}

}  // namespace fleetsim::hardware
