// File: util/csv.h
//
// The one CSV splitter (and quoting one cell for writing). SplitCsvRow
// gives views into the line, for the streaming trace readers in workloads/
// that split millions of rows; SplitCsvLine gives unescaped copies built on
// it, for the table readers that load whole files of modest size:
// calibration tables (hardware/calibration/calibration_table.h),
// header-indexed files (util/header_csv.h) and SplitwiseSim's perf_model.csv
// (hardware/splitwise_perf_model.h). Hand-written rather than a CSV library:
// RFC 4180 for one record is a few lines, and the trace readers need
// allocation-free views (none of the Debian CSV libraries gives them).
#ifndef FLEETSIM_UTIL_CSV_H_
#define FLEETSIM_UTIL_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fleetsim {

// Splits one CSV record at commas into views of `line`. A cell that starts
// with a double quote may hold commas; its view excludes the quotes and
// keeps "" escapes as written; text between its closing quote and the next
// comma is dropped. An empty line is one empty cell.
void SplitCsvRow(absl::string_view line, std::vector<absl::string_view>* cells);

// SplitCsvRow's cells as strings with "" unescaped to "; a trailing '\r'
// is stripped first.
std::vector<std::string> SplitCsvLine(absl::string_view line);

// `text` as one RFC 4180 cell: double-quoted, inner quotes doubled (for
// free text that may hold commas, quotes or newlines).
std::string CsvQuoted(absl::string_view text);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_CSV_H_
