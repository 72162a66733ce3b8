// File: hardware/calibration/row_filter.h
//
// Selecting calibration rows: `--where` conditions on CalibrationRow fields
// (what `fleetsim calibrate eval` and `fit` take to evaluate or fit one
// slice of a large measured table: one head dim, one dtype, some frameworks)
// and the split of a table into rows the cost model can price and rows it
// cannot, with the reason for each kind of row left out.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(RowFilter where,
//       RowFilter::Parse("head_dim=128,dtype=bf16,framework!=trtllm"));
//   if (where.Matches(row)) ...
#ifndef FLEETSIM_HARDWARE_CALIBRATION_ROW_FILTER_H_
#define FLEETSIM_HARDWARE_CALIBRATION_ROW_FILTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/calibration.pb.h"

namespace fleetsim::hardware {

// A conjunction of conditions "field=value", "field!=value",
// "field=a|b|c" (any of), and "field<value" / "field>value" / "field<=value"
// / "field>=value" (numeric fields), separated by commas. Values compare as
// the CSV layout writes them (enums by short name, case-insensitive: "bf16",
// "attention_prefill"; an unset field is "" / 0). Immutable after Parse().
class RowFilter {
 public:
  // The empty filter: matches every row.
  RowFilter() = default;

  // InvalidArgument naming the condition for an unknown field, a missing
  // operator, or an ordering operator on a non-numeric field.
  static absl::StatusOr<RowFilter> Parse(absl::string_view text);

  bool Matches(const v1::CalibrationRow& row) const;
  bool empty() const { return conditions_.empty(); }

 private:
  struct Condition {
    int field_number = 0;
    enum class Op { kEq, kNe, kLt, kGt, kLe, kGe } op = Op::kEq;
    std::vector<std::string> values;  // alternatives for kEq / kNe
    double number = 0;                // for the ordering operators
  };
  std::vector<Condition> conditions_;
};

// Rows left out of a priced set, by reason.
struct SkippedRows {
  std::string reason;
  int64_t rows = 0;
};

struct PriceableSplit {
  std::vector<v1::CalibrationRow> rows;  // priceable, input order
  std::vector<SkippedRows> skipped;      // first-seen order
};

// Splits `rows` into those QueryFromRow (row_query.h) accepts and the
// rest, counted per rejection message (row numbers taken out, so one reason
// is one line).
PriceableSplit SplitPriceable(const std::vector<v1::CalibrationRow>& rows);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_ROW_FILTER_H_
