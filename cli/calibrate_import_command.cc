// `fleetsim calibrate import`: converts a measured table from another tool's
// layout into fleetsim's calibration schema
// (proto/fleetsim/v1/calibration.proto).
//
//   fleetsim calibrate import --format vidur-mlp --chip h100
//       --in .../compute/h100/meta-llama/Llama-2-7b-hf/mlp.csv
//       --out data/calibration/h100/vidur_mlp_llama-2-7b.csv
//       [--points_per_octave 4] [--model ORG/NAME] [--source_commit SHA]
//
//   fleetsim calibrate import --format aiconfigurator --chip h100
//       --in .../h100_sxm/attention/vllm/0.24.0/context_attention_perf.csv.gz
//       --out /tmp/vllm_prefill.csv.gz [--source_commit SHA]
//       [--source_path P] [--source_blob SHA1]
//
// Formats: vidur-mlp, vidur-attention, vidur-allreduce (network all_reduce /
// send_recv files), aiconfigurator (any of NVIDIA aiconfigurator's operator
// tables, kind told by its columns; rows it drops are listed with their
// reasons), and fleetsim (re-write a .csv/.csv.gz/.txtpb table in the form
// --out's extension selects). Prints a JSON summary on stdout.
// docs/calibration.md describes the schema and the import rules.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "cli/calibrate_subcommands.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "hardware/calibration/aiconfigurator_import.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/row_filter.h"
#include "hardware/calibration/vidur_import.h"
#include "util/json_writer.h"

ABSL_DECLARE_FLAG(std::string, where);
ABSL_FLAG(std::string, in, "", "calibrate import: input table file");
ABSL_FLAG(int32_t, points_per_octave, 0,
          "calibrate import: keep about N points per octave of each swept "
          "axis (0 = every row)");
ABSL_FLAG(std::string, source_commit, "",
          "calibrate import: commit of the source repository, for provenance");
ABSL_FLAG(std::string, source_path, "",
          "calibrate import: path of the input inside its source repository, "
          "for provenance (default: --in)");
ABSL_FLAG(std::string, source_blob, "",
          "calibrate import --format aiconfigurator: git blob SHA-1 of the "
          "source file, for provenance");

namespace fleetsim::cli {
namespace {

int RunCalibrateImport(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("calibrate import", args)) return code;
  const std::string in = absl::GetFlag(FLAGS_in);
  const std::string out = absl::GetFlag(FLAGS_out);
  const std::string format_name = absl::GetFlag(FLAGS_format);
  if (in.empty() || out.empty() || format_name.empty()) {
    return UsageError(
        "calibrate import needs --format, --in FILE and --out FILE");
  }
  hardware::VidurImportResult result;
  std::vector<hardware::DroppedRows> dropped;
  std::string table_kind;
  if (format_name == "aiconfigurator") {
    const std::string chip_name = absl::GetFlag(FLAGS_chip);
    if (chip_name.empty()) return UsageError("calibrate import needs --chip");
    absl::StatusOr<v1::Chip> chip = ChipFromCatalog(chip_name);
    if (!chip.ok()) return Fail(chip.status());
    hardware::AiconfiguratorImportOptions options;
    options.source_commit = absl::GetFlag(FLAGS_source_commit);
    options.source_path = absl::GetFlag(FLAGS_source_path);
    options.source_blob = absl::GetFlag(FLAGS_source_blob);
    absl::StatusOr<hardware::AiconfiguratorImportResult> imported =
        hardware::ImportAiconfiguratorFile(in, *chip, options);
    if (!imported.ok()) return Fail(imported.status());
    result.table = std::move(imported->table);
    result.input_rows = imported->input_rows;
    dropped = std::move(imported->dropped);
    table_kind = hardware::AiconfiguratorTableName(imported->kind);
    result.table.mutable_provenance()->set_command(absl::StrJoin(
        {std::string("fleetsim calibrate import --format aiconfigurator"),
         std::string("--chip"), chip_name},
        " "));
    for (const hardware::DroppedRows& d : dropped) {
      std::fprintf(stderr, "fleetsim: %s: dropped %lld rows: %s\n", in.c_str(),
                   static_cast<long long>(d.rows), d.reason.c_str());
    }
  } else if (format_name == "fleetsim") {
    absl::StatusOr<v1::CalibrationTable> table =
        hardware::ReadCalibrationTable(in);
    if (!table.ok()) return Fail(table.status());
    result.table = *std::move(table);
    result.input_rows = result.table.rows_size();
  } else {
    absl::StatusOr<hardware::VidurFormat> format =
        hardware::ParseVidurFormat(format_name);
    if (!format.ok()) return Fail(format.status());
    hardware::VidurImportOptions options;
    options.chip = absl::GetFlag(FLAGS_chip);
    if (options.chip.empty())
      return UsageError("calibrate import needs --chip");
    options.model = absl::GetFlag(FLAGS_model);
    options.points_per_octave = absl::GetFlag(FLAGS_points_per_octave);
    options.source_commit = absl::GetFlag(FLAGS_source_commit);
    options.source_path = absl::GetFlag(FLAGS_source_path);
    absl::StatusOr<hardware::VidurImportResult> imported =
        hardware::ImportVidurFile(*format, in, options);
    if (!imported.ok()) return Fail(imported.status());
    result = *std::move(imported);
    std::vector<std::string> command = {"fleetsim calibrate import", "--format",
                                        format_name, "--chip", options.chip};
    if (!options.model.empty()) {
      command.insert(command.end(), {"--model", options.model});
    }
    if (options.points_per_octave > 0) {
      command.insert(
          command.end(),
          {"--points_per_octave", std::to_string(options.points_per_octave)});
    }
    result.table.mutable_provenance()->set_command(absl::StrJoin(command, " "));
  }
  absl::StatusOr<hardware::RowFilter> where =
      hardware::RowFilter::Parse(absl::GetFlag(FLAGS_where));
  if (!where.ok()) return Fail(where.status());
  if (!where->empty()) {
    v1::CalibrationTable kept;
    *kept.mutable_provenance() = result.table.provenance();
    for (const v1::CalibrationRow& row : result.table.rows()) {
      if (where->Matches(row)) *kept.add_rows() = row;
    }
    kept.mutable_provenance()->set_command(
        absl::StrCat(kept.provenance().command(), " --where '",
                     absl::GetFlag(FLAGS_where), "'"));
    result.table = std::move(kept);
  }
  absl::Status status = hardware::WriteCalibrationTable(result.table, out);
  if (!status.ok()) return Fail(status);

  JsonWriter json;
  json.BeginObject();
  json.Field("in", in);
  json.Field("out", out);
  json.Field("input_rows", result.input_rows);
  json.Field("rows_written", static_cast<int64_t>(result.table.rows_size()));
  json.Field("duplicate_rows", result.duplicate_rows);
  json.Field("thinned_rows", result.thinned_rows);
  json.Field("skipped_cells", result.skipped_cells);
  if (!table_kind.empty()) {
    json.Field("table_kind", table_kind);
    json.Key("dropped");
    json.BeginArray();
    for (const hardware::DroppedRows& d : dropped) {
      json.BeginObject();
      json.Field("reason", d.reason);
      json.Field("rows", d.rows);
      json.EndObject();
    }
    json.EndArray();
  }
  json.EndObject();
  std::cout << json.str();
  return 0;
}

}  // namespace

FLEETSIM_REGISTER_COMMAND(
    "calibrate import",
    {"calibrate import --format vidur-mlp|vidur-attention|vidur-allreduce|"
     "aiconfigurator|fleetsim --chip CHIP --in FILE --out "
     "FILE.csv|.csv.gz|.txtpb [flags]",
     "Converts a measured kernel table (Vidur, aiconfigurator) into a "
     "fleetsim calibration table (docs/calibration.md).",
     {"format", "chip", "in", "out", "points_per_octave", "model",
      "source_commit", "source_path", "source_blob", "where", "data_dir"},
     RunCalibrateImport});

}  // namespace fleetsim::cli
