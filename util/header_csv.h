// File: util/header_csv.h
//
// A whole CSV file whose first line names its columns, with cells read by
// column name and errors located as "origin:line: column 'name': problem".
// The calibration importers (Vidur's profiling CSVs, aiconfigurator's
// operator tables; hardware/calibration/) read their sources through it.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(HeaderCsv csv, HeaderCsv::Parse(text, path));
//   for (const HeaderCsv::Line& line : csv.lines()) {
//     FLEETSIM_ASSIGN_OR_RETURN(int64_t m, csv.Int(line, "m"));
//   }
#ifndef FLEETSIM_UTIL_HEADER_CSV_H_
#define FLEETSIM_UTIL_HEADER_CSV_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fleetsim {

class HeaderCsv final {
 public:
  // One data line with its 1-based line number in the file.
  struct Line {
    int number;
    std::vector<std::string> cells;
  };

  // Splits `text` (util/csv.h cells; blank lines skipped). InvalidArgument
  // naming `origin` and the line for a line whose cell count differs from
  // the header's, an empty file, or a file without data lines.
  static absl::StatusOr<HeaderCsv> Parse(absl::string_view text,
                                         const std::string& origin);

  const std::vector<Line>& lines() const { return lines_; }
  // Column names in header order.
  const std::vector<std::string>& header() const { return header_; }
  bool Has(const std::string& column) const {
    return columns_.count(column) > 0;
  }

  // Column index; InvalidArgument at the header line when absent.
  absl::StatusOr<int> Require(const std::string& column) const;

  // InvalidArgument "origin:line: column 'column': problem".
  absl::Status CellError(const Line& line, const std::string& column,
                         absl::string_view problem) const;

  // Cell readers (whitespace trimmed); a missing column or an unparsable
  // cell is InvalidArgument as above. Int accepts integral floats
  // ("4096.0", as pandas writes them); OptionalDouble returns nullopt for an
  // empty cell; Bool reads true/false/1/0.
  absl::StatusOr<int64_t> Int(const Line& line,
                              const std::string& column) const;
  absl::StatusOr<double> Double(const Line& line,
                                const std::string& column) const;
  absl::StatusOr<std::optional<double>> OptionalDouble(
      const Line& line, const std::string& column) const;
  absl::StatusOr<bool> Bool(const Line& line, const std::string& column) const;
  absl::StatusOr<std::string> String(const Line& line,
                                     const std::string& column) const;
  // The cell of an optional column: `fallback` when the column is absent.
  std::string StringOr(const Line& line, const std::string& column,
                       const std::string& fallback) const;

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::map<std::string, int> columns_;
  std::vector<std::string> header_;
  size_t width_ = 0;
  int header_line_ = 1;
  std::vector<Line> lines_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_HEADER_CSV_H_
