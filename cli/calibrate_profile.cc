// Loading the measured tables `fleetsim calibrate eval` and `fit` read
// (--profile, --format, --where): fleetsim calibration tables as they are,
// Vidur and aiconfigurator tables through their importers (every row, no
// thinning), then the --where selection. What an importer drops is logged
// to stderr with its reason.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/calibrate_subcommands.h"
#include "cli/common_flags.h"
#include "hardware/calibration/aiconfigurator_import.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/row_filter.h"
#include "hardware/calibration/vidur_import.h"
#include "util/csv.h"
#include "util/gzip_file.h"
#include "util/status_macros.h"

ABSL_FLAG(
    std::string, where, "",
    "calibrate import/eval/fit: keep only rows matching these conditions on "
    "CalibrationRow fields, e.g. "
    "'head_dim=128,dtype=bf16,framework=vllm|sglang,median_s>=1e-5'");

namespace fleetsim::cli {
namespace {

// True when the first non-comment line of `text` is an aiconfigurator
// header (it names both `framework` and `latency`).
bool LooksLikeAiconfigurator(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    bool framework = false, latency = false;
    for (const std::string& cell : SplitCsvLine(line)) {
      framework |= cell == "framework";
      latency |= cell == "latency";
    }
    return framework && latency;
  }
  return false;
}

absl::StatusOr<v1::CalibrationTable> ImportAiconfigurator(
    const std::string& path, const std::string& text, const std::string& chip) {
  FLEETSIM_ASSIGN_OR_RETURN(v1::Chip c, ChipFromCatalog(chip));
  FLEETSIM_ASSIGN_OR_RETURN(hardware::AiconfiguratorImportResult imported,
                            hardware::ImportAiconfiguratorCsv(text, path, c));
  for (const hardware::DroppedRows& d : imported.dropped) {
    std::fprintf(stderr, "fleetsim: %s: dropped %lld rows: %s\n", path.c_str(),
                 static_cast<long long>(d.rows), d.reason.c_str());
  }
  return std::move(imported.table);
}

}  // namespace

absl::StatusOr<v1::CalibrationTable> LoadProfile(const std::string& path,
                                                 const std::string& format,
                                                 const std::string& chip) {
  v1::CalibrationTable table;
  if (format == "aiconfigurator") {
    FLEETSIM_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzippedFile(path));
    FLEETSIM_ASSIGN_OR_RETURN(table, ImportAiconfigurator(path, text, chip));
  } else if (format.empty() || format == "fleetsim") {
    const bool csv =
        absl::EndsWith(path, ".csv") || absl::EndsWith(path, ".csv.gz");
    std::string text;
    if (csv) {
      FLEETSIM_ASSIGN_OR_RETURN(text, ReadMaybeGzippedFile(path));
    }
    if (format.empty() && csv && LooksLikeAiconfigurator(text)) {
      FLEETSIM_ASSIGN_OR_RETURN(table, ImportAiconfigurator(path, text, chip));
    } else if (csv) {
      FLEETSIM_ASSIGN_OR_RETURN(table,
                                hardware::ParseCalibrationCsv(text, path));
    } else {
      FLEETSIM_ASSIGN_OR_RETURN(table, hardware::ReadCalibrationTable(path));
    }
  } else {
    absl::StatusOr<hardware::VidurFormat> vidur =
        hardware::ParseVidurFormat(format);
    if (!vidur.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--format: ", vidur.status().message(),
                       ", aiconfigurator or fleetsim"));
    }
    hardware::VidurImportOptions options;
    options.chip = chip;
    FLEETSIM_ASSIGN_OR_RETURN(hardware::VidurImportResult imported,
                              hardware::ImportVidurFile(*vidur, path, options));
    table = std::move(imported.table);
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      hardware::RowFilter where,
      hardware::RowFilter::Parse(absl::GetFlag(FLAGS_where)));
  if (where.empty()) return table;
  v1::CalibrationTable kept;
  *kept.mutable_provenance() = table.provenance();
  for (const v1::CalibrationRow& row : table.rows()) {
    if (where.Matches(row)) *kept.add_rows() = row;
  }
  return kept;
}

}  // namespace fleetsim::cli
