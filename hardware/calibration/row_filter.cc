#include "hardware/calibration/row_filter.h"

#include <cstdlib>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/row_query.h"

namespace fleetsim::hardware {
namespace {

using google::protobuf::FieldDescriptor;

bool IsNumeric(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_BOOL:
      return true;
    default:
      return false;
  }
}

double NumberOf(const v1::CalibrationRow& row, const FieldDescriptor* f) {
  const auto* r = row.GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(row, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(r->GetInt64(row, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return r->GetDouble(row, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(row, f) ? 1 : 0;
    default:
      return 0;
  }
}

// The comparable text of a field: enums by lower-case short name, strings
// lower-cased, numbers as numbers (compared numerically elsewhere).
std::string TextOf(const v1::CalibrationRow& row, const FieldDescriptor* f) {
  const auto* r = row.GetReflection();
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    const int v = r->GetEnumValue(row, f);
    if (f->enum_type() == v1::OperatorClass_descriptor()) {
      return v == 0 ? ""
                    : OperatorClassShortName(static_cast<v1::OperatorClass>(v));
    }
    if (f->enum_type() == v1::Dtype_descriptor()) {
      return v == 0 ? "" : DTypeShortName(static_cast<v1::Dtype>(v));
    }
    return absl::StrCat(v);
  }
  return absl::AsciiStrToLower(r->GetString(row, f));
}

bool Equal(const v1::CalibrationRow& row, const FieldDescriptor* f,
           const std::string& value) {
  if (IsNumeric(f)) {
    double want = 0;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      bool b = false;
      if (!absl::SimpleAtob(value, &b)) return false;
      want = b ? 1 : 0;
    } else if (!absl::SimpleAtod(value, &want)) {
      return false;
    }
    return NumberOf(row, f) == want;
  }
  std::string v = value;
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    // Accept the full enum name too ("DTYPE_BF16").
    absl::string_view s = v;
    const std::string zero = f->enum_type()->value(0)->name();
    const std::string prefix =
        absl::AsciiStrToLower(absl::StripSuffix(zero, "UNSPECIFIED"));
    absl::ConsumePrefix(&s, prefix);
    v = std::string(s);
  }
  return TextOf(row, f) == v;
}

// "head_dim=128" at the first operator character.
struct Split {
  std::string field, op, value;
};

bool SplitCondition(absl::string_view text, Split* out) {
  const size_t at = text.find_first_of("=!<>");
  if (at == absl::string_view::npos || at == 0) return false;
  out->field = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
  size_t value_at = at + 1;
  if (at + 1 < text.size() && text[at + 1] == '=') value_at = at + 2;
  out->op = std::string(text.substr(at, value_at - at));
  if (out->op == "!") return false;
  out->value =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(value_at)));
  return true;
}

}  // namespace

absl::StatusOr<RowFilter> RowFilter::Parse(absl::string_view text) {
  RowFilter filter;
  const auto* d = v1::CalibrationRow::descriptor();
  for (absl::string_view part :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    Split s;
    if (!SplitCondition(part, &s)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--where '", part,
          "': expected field=value, field!=value, field<value, ..."));
    }
    const FieldDescriptor* f = d->FindFieldByName(s.field);
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--where '", part, "': '", s.field,
                       "' is not a CalibrationRow field "
                       "(proto/fleetsim/v1/calibration.proto)"));
    }
    Condition c;
    c.field_number = f->number();
    if (s.op == "=" || s.op == "==") {
      c.op = Condition::Op::kEq;
    } else if (s.op == "!=") {
      c.op = Condition::Op::kNe;
    } else {
      c.op = s.op == "<"    ? Condition::Op::kLt
             : s.op == ">"  ? Condition::Op::kGt
             : s.op == "<=" ? Condition::Op::kLe
                            : Condition::Op::kGe;
      if (!IsNumeric(f) || !absl::SimpleAtod(s.value, &c.number)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--where '", part, "': ", s.op,
                         " needs a numeric field and a number"));
      }
    }
    c.values = absl::StrSplit(s.value, '|');
    filter.conditions_.push_back(std::move(c));
  }
  return filter;
}

bool RowFilter::Matches(const v1::CalibrationRow& row) const {
  const auto* d = v1::CalibrationRow::descriptor();
  for (const Condition& c : conditions_) {
    const FieldDescriptor* f = d->FindFieldByNumber(c.field_number);
    switch (c.op) {
      case Condition::Op::kEq:
      case Condition::Op::kNe: {
        bool any = false;
        for (const std::string& v : c.values) any |= Equal(row, f, v);
        if (any != (c.op == Condition::Op::kEq)) return false;
        break;
      }
      case Condition::Op::kLt:
        if (!(NumberOf(row, f) < c.number)) return false;
        break;
      case Condition::Op::kGt:
        if (!(NumberOf(row, f) > c.number)) return false;
        break;
      case Condition::Op::kLe:
        if (!(NumberOf(row, f) <= c.number)) return false;
        break;
      case Condition::Op::kGe:
        if (!(NumberOf(row, f) >= c.number)) return false;
        break;
    }
  }
  return true;
}

PriceableSplit SplitPriceable(const std::vector<v1::CalibrationRow>& rows) {
  PriceableSplit split;
  std::map<std::string, int64_t> counts;
  for (const v1::CalibrationRow& row : rows) {
    absl::StatusOr<OperatorQuery> q = QueryFromRow(row);
    if (q.ok()) {
      split.rows.push_back(row);
      continue;
    }
    const std::string reason(q.status().message());
    if (counts[reason]++ == 0) split.skipped.push_back({reason, 0});
  }
  for (SkippedRows& s : split.skipped) s.rows = counts[s.reason];
  return split;
}

}  // namespace fleetsim::hardware
