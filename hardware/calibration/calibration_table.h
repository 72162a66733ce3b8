// File: hardware/calibration/calibration_table.h
//
// Reading, writing and checking calibration tables
// (proto/fleetsim/v1/calibration.proto): measured per-operator kernel times
// with explicit per-chip shapes. This is the one loader every consumer uses
// (the efficiency fit, `fleetsim calibrate eval`, tests), whichever producer
// wrote the table: the Vidur importer (vidur_import.h), the CUDA harness
// (hardware/calibration/gpu_harness/) or the PyTorch attention script.
//
// Two on-disk forms, chosen by file extension:
//   *.csv    the compact column layout documented in
//   proto/fleetsim/v1/calibration.proto
//            (provenance as "# field: value" comment lines, a header line,
//            one row per line); what data/calibration/ ships, gzipped
//            (*.csv.gz) for the larger tables.
//   *.txtpb  a text-format CalibrationTable.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(CalibrationTable table, ReadCalibrationTable(
//       "data/calibration/h100/vidur_mlp_llama-2-7b-hf.csv"));
//
// docs/calibration.md explains the schema and the producers in prose.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_TABLE_H_
#define FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_TABLE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/calibration.pb.h"

namespace fleetsim::hardware {

// ReadCalibrationTable()
//
// Reads a table from `path`: CSV when the name ends in ".csv" or ".csv.gz"
// (gzip), text format when it ends in ".txtpb" or ".textproto". Every row is
// validated (ValidateCalibrationRow).
// Errors: NotFound if the file cannot be opened; DataLoss for a corrupt gzip
// stream; InvalidArgument for any other extension, and for malformed
// content, as
// "path:line: column 'name': problem" (CSV) or "path:line:col: problem"
// (text format).
absl::StatusOr<v1::CalibrationTable> ReadCalibrationTable(
    const std::string& path);

// ParseCalibrationCsv()
//
// Parses CSV text in the layout above. `origin` names the source in error
// messages (usually the path). Same errors as ReadCalibrationTable.
absl::StatusOr<v1::CalibrationTable> ParseCalibrationCsv(
    absl::string_view text, const std::string& origin);

// WriteCalibrationTable()
//
// Writes `table` to `path` in the form its extension selects (as above),
// creating parent folders. InvalidArgument for an unknown extension;
// FailedPrecondition naming the path when it cannot be written.
absl::Status WriteCalibrationTable(const v1::CalibrationTable& table,
                                   const std::string& path);

// CalibrationTableToCsv()
//
// The CSV text WriteCalibrationTable writes: provenance comment lines (set
// fields only), the header (op, op_class, median_s and every other
// CalibrationRow field that some row sets, in field-number order), then one
// line per row. Doubles use the shortest form that reads
// back to the same value (%.17g trimmed), so CSV round trips are exact.
std::string CalibrationTableToCsv(const v1::CalibrationTable& table);

// Every CalibrationRow field name in field-number order, comma-separated
// (no newline): the widest header a table can have. The CUDA harness writes
// a header of some of these, in this order, without linking protobuf; a test
// checks that its columns are fields in this order.
std::string CalibrationCsvHeader();

// ValidateCalibrationRow()
//
// Checks one row: op non-empty, op_class set, median_s finite and > 0,
// optional statistics finite and >= 0, shape fields >= 0 and the ones its
// op_class needs (see proto/fleetsim/v1/calibration.proto) > 0. Returns
// InvalidArgument with a message naming the field ("median_s must be > 0, got
// 0"); the caller adds the location.
absl::Status ValidateCalibrationRow(const v1::CalibrationRow& row);

// Milliseconds (what Vidur and aiconfigurator record) to seconds, rounded to
// 6 significant digits: every measured digit survives (both sources resolve
// about a microsecond) and the shipped tables stay small.
double MillisecondsToSeconds(double ms);

// Short lower-case names used in CSV cells: "gemm", "attention_prefill",
// "bf16". Parse*() accept these or the full enum value name
// ("OPERATOR_CLASS_GEMM"), case-insensitive; InvalidArgument otherwise.
std::string OperatorClassShortName(v1::OperatorClass op_class);
absl::StatusOr<v1::OperatorClass> ParseOperatorClass(absl::string_view text);
std::string DTypeShortName(v1::Dtype dtype);
absl::StatusOr<v1::Dtype> ParseDType(absl::string_view text);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_CALIBRATION_TABLE_H_
