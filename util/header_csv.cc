#include "util/header_csv.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "util/csv.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim {

absl::StatusOr<HeaderCsv> HeaderCsv::Parse(absl::string_view text,
                                           const std::string& origin) {
  HeaderCsv csv;
  csv.origin_ = origin;
  int number = 0;
  bool have_header = false;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(raw).empty()) continue;
    std::vector<std::string> cells = SplitCsvLine(raw);
    if (!have_header) {
      for (size_t i = 0; i < cells.size(); ++i) {
        std::string name(absl::StripAsciiWhitespace(cells[i]));
        csv.header_.push_back(name);
        if (!name.empty()) csv.columns_[name] = static_cast<int>(i);
      }
      csv.width_ = cells.size();
      csv.header_line_ = number;
      have_header = true;
      continue;
    }
    if (cells.size() != csv.width_) {
      return absl::InvalidArgumentError(AtLocation(
          origin, number,
          absl::StrCat("expected ", csv.width_, " cells as in the header, got ",
                       cells.size())));
    }
    csv.lines_.push_back(Line{number, std::move(cells)});
  }
  if (!have_header) {
    return absl::InvalidArgumentError(AtLocation(origin, 0, "empty file"));
  }
  if (csv.lines_.empty()) {
    return absl::InvalidArgumentError(AtLocation(origin, 0, "no data rows"));
  }
  return csv;
}

absl::StatusOr<int> HeaderCsv::Require(const std::string& column) const {
  auto it = columns_.find(column);
  if (it == columns_.end()) {
    return absl::InvalidArgumentError(AtLocation(
        origin_, header_line_, absl::StrCat("column '", column, "': missing")));
  }
  return it->second;
}

absl::Status HeaderCsv::CellError(const Line& line, const std::string& column,
                                  absl::string_view problem) const {
  return absl::InvalidArgumentError(AtLocation(
      origin_, line.number, absl::StrCat("column '", column, "': ", problem)));
}

absl::StatusOr<int64_t> HeaderCsv::Int(const Line& line,
                                       const std::string& column) const {
  FLEETSIM_ASSIGN_OR_RETURN(int index, Require(column));
  absl::string_view cell = absl::StripAsciiWhitespace(line.cells[index]);
  int64_t value;
  if (absl::SimpleAtoi(cell, &value)) return value;
  double d;
  if (absl::SimpleAtod(cell, &d) && std::isfinite(d) && d == std::floor(d)) {
    return static_cast<int64_t>(d);
  }
  return CellError(line, column,
                   absl::StrCat("'", cell, "' is not an integer"));
}

absl::StatusOr<double> HeaderCsv::Double(const Line& line,
                                         const std::string& column) const {
  FLEETSIM_ASSIGN_OR_RETURN(std::optional<double> value,
                            OptionalDouble(line, column));
  if (!value.has_value()) {
    return CellError(line, column, "empty cell, expected a number");
  }
  return *value;
}

absl::StatusOr<std::optional<double>> HeaderCsv::OptionalDouble(
    const Line& line, const std::string& column) const {
  FLEETSIM_ASSIGN_OR_RETURN(int index, Require(column));
  absl::string_view cell = absl::StripAsciiWhitespace(line.cells[index]);
  if (cell.empty()) return std::optional<double>();
  double value;
  if (!absl::SimpleAtod(cell, &value) || !std::isfinite(value)) {
    return CellError(line, column,
                     absl::StrCat("'", cell, "' is not a finite number"));
  }
  return std::optional<double>(value);
}

absl::StatusOr<bool> HeaderCsv::Bool(const Line& line,
                                     const std::string& column) const {
  FLEETSIM_ASSIGN_OR_RETURN(int index, Require(column));
  std::string cell =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.cells[index]));
  if (cell == "true" || cell == "1") return true;
  if (cell == "false" || cell == "0") return false;
  return CellError(line, column, absl::StrCat("'", cell, "' is not a boolean"));
}

absl::StatusOr<std::string> HeaderCsv::String(const Line& line,
                                              const std::string& column) const {
  FLEETSIM_ASSIGN_OR_RETURN(int index, Require(column));
  return std::string(absl::StripAsciiWhitespace(line.cells[index]));
}

std::string HeaderCsv::StringOr(const Line& line, const std::string& column,
                                const std::string& fallback) const {
  auto it = columns_.find(column);
  if (it == columns_.end()) return fallback;
  return std::string(absl::StripAsciiWhitespace(line.cells[it->second]));
}

}  // namespace fleetsim
