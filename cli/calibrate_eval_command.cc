// `fleetsim calibrate eval`: how well the cost model predicts a measured
// table. Every row is priced from its own shape
// (hardware/calibration/row_query.h QueryFromRow: GEMM m/n/k, attention
// batch/tokens/context/heads, elements, message bytes), so the model the rows
// came from need not be in the catalog; the chip must be (its peaks and
// efficiency entries are used).
//
//   fleetsim calibrate eval --chip h100
//       --profile data/calibration/h100/vidur_mlp_llama-2-70b-hf.csv
//   fleetsim calibrate eval --chip a100 --format vidur-attention
//       --profile .../attention.csv --json
//   fleetsim calibrate eval --chip h100 --where head_dim=128,dtype=bf16
//       --profile .../context_attention_perf.csv.gz   (aiconfigurator)
//
// Prints, per op, per class and overall, the median and p90 absolute
// percentage error and the row count, with rows faster than 10 us apart;
// for tables of several serving frameworks also per class and framework.
// Rows the cost model cannot price (no shape model for their op) are left
// out and counted per reason.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/calibrate_subcommands.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/row_filter.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_options.h"
#include "hardware/operator_pricer.h"
#include "util/gzip_file.h"
#include "util/json_writer.h"

ABSL_FLAG(std::string, profile, "",
          "calibrate eval/fit: measured table(s); fit takes a comma-separated "
          "list");
ABSL_FLAG(std::string, rows_out, "",
          "calibrate eval: also write every priced row's shape, measured and "
          "predicted seconds as CSV to this file");

namespace fleetsim::cli {
namespace {

void WriteStats(JsonWriter& json, const std::string& key,
                const hardware::ErrorStats& s) {
  json.Key(key);
  json.BeginObject();
  json.Field("rows", s.rows);
  json.Field("median_ape_pct", 100 * s.median_ape);
  json.Field("p90_ape_pct", 100 * s.p90_ape);
  json.Field("median_signed_pct", 100 * s.median_signed);
  json.EndObject();
}

// Rows, median and p90 APE, median signed error (the bias).
std::string StatsCells(const hardware::ErrorStats& s) {
  if (s.rows == 0)
    return absl::StrFormat("%6s %7s %7s %7s", "0", "-", "-", "-");
  return absl::StrFormat("%6d %6.1f%% %6.1f%% %+6.1f%%", s.rows,
                         100 * s.median_ape, 100 * s.p90_ape,
                         100 * s.median_signed);
}

int RunCalibrateEval(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("calibrate eval", args)) return code;
  const std::string chip_name = absl::GetFlag(FLAGS_chip);
  const std::string profile = absl::GetFlag(FLAGS_profile);
  if (chip_name.empty() || profile.empty()) {
    return UsageError("calibrate eval needs --chip CHIP and --profile FILE");
  }
  absl::StatusOr<v1::Chip> chip = ChipFromCatalog(chip_name);
  if (!chip.ok()) return Fail(chip.status());
  absl::StatusOr<v1::CalibrationTable> table =
      LoadProfile(profile, absl::GetFlag(FLAGS_format), chip_name);
  if (!table.ok()) return Fail(table.status());
  if (table->rows_size() == 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(profile, ": the table has no rows")));
  }
  hardware::OperatorModelOptions options;
  options.framework = absl::GetFlag(FLAGS_framework);
  absl::StatusOr<hardware::OperatorPricer> pricer =
      hardware::OperatorPricer::Create(*chip, options);
  if (!pricer.ok()) return Fail(pricer.status());
  const hardware::PriceableSplit split =
      hardware::SplitPriceable(std::vector<v1::CalibrationRow>(
          table->rows().begin(), table->rows().end()));
  for (const hardware::SkippedRows& s : split.skipped) {
    std::fprintf(stderr, "fleetsim: %s: %lld rows not priced: %s\n",
                 profile.c_str(), static_cast<long long>(s.rows),
                 s.reason.c_str());
  }
  if (split.rows.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(profile, ": no row the cost model can price")));
  }
  const std::vector<v1::CalibrationRow>& rows = split.rows;
  absl::StatusOr<hardware::EvalReport> report =
      hardware::EvaluateRows(*pricer, rows);
  if (!report.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(profile, ": ", report.status().message())));
  }
  if (const std::string out = absl::GetFlag(FLAGS_rows_out); !out.empty()) {
    // The priced rows as a calibration CSV (no provenance lines) with one
    // more column, the prediction.
    v1::CalibrationTable priced;
    for (const v1::CalibrationRow& r : rows) *priced.add_rows() = r;
    absl::StatusOr<std::vector<double>> errors =
        hardware::RowErrors(*pricer, rows);
    if (!errors.ok()) return Fail(errors.status());
    std::vector<std::string> lines =
        absl::StrSplit(hardware::CalibrationTableToCsv(priced), '\n');
    std::string text;
    size_t row = 0;
    for (const std::string& line : lines) {
      if (line.empty() || line[0] == '#') continue;
      if (row == 0) {
        absl::StrAppend(&text, line, ",predicted_s\n");
      } else {
        absl::StrAppend(&text, line, ",",
                        absl::StrFormat("%.6g", rows[row - 1].median_s() *
                                                    (1 + (*errors)[row - 1])),
                        "\n");
      }
      ++row;
    }
    if (absl::Status s = WriteMaybeGzippedFile(out, text); !s.ok())
      return Fail(s);
  }
  // Per class and framework, when the rows name frameworks.
  std::vector<hardware::EvalLine> by_framework;
  std::vector<std::string> frameworks;
  for (const v1::CalibrationRow& r : rows) {
    if (!r.framework().empty() &&
        std::find(frameworks.begin(), frameworks.end(), r.framework()) ==
            frameworks.end()) {
      frameworks.push_back(r.framework());
    }
  }
  for (const std::string& f : frameworks) {
    std::vector<v1::CalibrationRow> subset;
    for (const v1::CalibrationRow& r : rows) {
      if (r.framework() == f) subset.push_back(r);
    }
    absl::StatusOr<hardware::EvalReport> part =
        hardware::EvaluateRows(*pricer, subset);
    if (!part.ok()) return Fail(part.status());
    for (hardware::EvalLine l : part->by_class) {
      l.name = absl::StrCat(l.name, " ", f);
      by_framework.push_back(std::move(l));
    }
  }

  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter json;
    json.BeginObject();
    json.Field("chip", chip_name);
    json.Field("profile", profile);
    json.Field("fast_row_threshold_s", hardware::kFastRowSeconds);
    auto lines = [&json](const std::string& key,
                         const std::vector<hardware::EvalLine>& list) {
      json.Key(key);
      json.BeginArray();
      for (const hardware::EvalLine& l : list) {
        json.BeginObject();
        json.Field("name", l.name);
        WriteStats(json, "rows", l.rows);
        WriteStats(json, "fast_rows", l.fast);
        json.EndObject();
      }
      json.EndArray();
    };
    lines("ops", report->by_op);
    lines("classes", report->by_class);
    lines("class_frameworks", by_framework);
    json.Key("skipped");
    json.BeginArray();
    for (const hardware::SkippedRows& s : split.skipped) {
      json.BeginObject();
      json.Field("reason", s.reason);
      json.Field("rows", s.rows);
      json.EndObject();
    }
    json.EndArray();
    json.Key("overall");
    json.BeginObject();
    WriteStats(json, "rows", report->overall.rows);
    WriteStats(json, "fast_rows", report->overall.fast);
    json.EndObject();
    json.EndObject();
    std::cout << json.str() << "\n";
    return 0;
  }
  std::printf("calibrate eval: chip %s, %s (%zu rows priced of %d)\n",
              chip_name.c_str(), profile.c_str(), rows.size(),
              table->rows_size());
  std::printf("%-34s %6s %7s %7s %7s | %6s %7s %7s %7s\n", "", ">=10us",
              "median", "p90", "signed", "<10us", "median", "p90", "signed");
  auto print = [](const std::string& name, const hardware::EvalLine& l) {
    std::printf("%-34s %s | %s\n", name.c_str(), StatsCells(l.rows).c_str(),
                StatsCells(l.fast).c_str());
  };
  for (const hardware::EvalLine& l : report->by_op) print("op " + l.name, l);
  for (const hardware::EvalLine& l : report->by_class)
    print("class " + l.name, l);
  for (const hardware::EvalLine& l : by_framework) print("class " + l.name, l);
  print("overall", report->overall);
  return 0;
}

}  // namespace

FLEETSIM_REGISTER_COMMAND(
    "calibrate eval",
    {"calibrate eval --chip CHIP --profile FILE [flags]",
     "The cost model's prediction error on a measured kernel table, per "
     "operator class (docs/calibration.md).",
     {"chip", "profile", "format", "where", "framework", "rows_out", "json",
      "data_dir"},
     RunCalibrateEval});

}  // namespace fleetsim::cli
