// File: util/csv.h
//
// Splitting one CSV record into cells (and quoting one for writing), for the
// table readers that load whole files of modest size: calibration tables
// (hardware/calibration/calibration_table.h), header-indexed files
// (util/header_csv.h, through which the calibration importers read their
// sources) and SplitwiseSim's perf_model.csv
// (hardware/splitwise_perf_model.h). The streaming trace readers in
// workloads/ split rows into views instead (workloads/trace_parsing.h).
#ifndef FLEETSIM_UTIL_CSV_H_
#define FLEETSIM_UTIL_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fleetsim {

// Splits one CSV record into cells. Handles double-quoted cells with ""
// escapes; strips a trailing '\r'. An empty line is one empty cell.
std::vector<std::string> SplitCsvLine(absl::string_view line);

// `text` as one RFC 4180 cell: double-quoted, inner quotes doubled (for
// free text that may hold commas, quotes or newlines).
std::string CsvQuoted(absl::string_view text);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_CSV_H_
