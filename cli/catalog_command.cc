// `fleetsim catalog chips|models [--json] [--data_dir DIR]`: lists the chip
// or model catalog (DIR/chips, DIR/models) as an aligned table or a JSON
// array. Loading validates every file, so a bad one exits 1 with
// "file:line: field ..." on stderr.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "hardware/chip_catalog.h"
#include "hardware/model_footprint.h"
#include "util/json_writer.h"
#include "workloads/model_catalog.h"

namespace fleetsim::cli {
namespace {

// Writes `key: value`, or `key: null` when the value is unknown.
void OptionalField(JsonWriter& json, const std::string& key, bool known,
                   double value) {
  json.Key(key);
  if (known) {
    json.Double(value);
  } else {
    json.Null();
  }
}

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string ShortEnumName(const std::string& name, const std::string& prefix) {
  return name.compare(0, prefix.size(), prefix) == 0
             ? name.substr(prefix.size())
             : name;
}

// Prints rows as columns separated by two spaces; column 0 and those in
// `left` are left-aligned, the rest (numbers) right-aligned.
void PrintTable(const std::vector<std::vector<std::string>>& rows,
                const std::vector<bool>& left) {
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - row[c].size(), ' ');
      if (c > 0) line += "  ";
      line += left[c] ? row[c] + (c + 1 < row.size() ? pad : "") : pad + row[c];
    }
    std::cout << line << "\n";
  }
}

int ListChips() {
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  const hardware::ChipCatalog* catalog = &(*catalogs)->chips();
  // Costs and TDPs are normalised to one H100, as in SPAD's tables.
  double h100_cost = 0;
  double h100_tdp = 0;
  if (absl::StatusOr<const v1::Chip*> h100 = (*catalogs)->ReferenceChip();
      h100.ok()) {
    h100_cost = hardware::ManufacturingCostUsd(**h100);
    h100_tdp = (*h100)->tdp_w();
  }
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter json;
    json.BeginArray();
    for (const v1::Chip* chip : catalog->entries()) {
      const double cost = hardware::ManufacturingCostUsd(*chip);
      json.BeginObject();
      json.Field("name", chip->name());
      json.Field("display_name", chip->display_name());
      json.Field("bf16_tflops", chip->bf16_tflops());
      json.Field("fp8_tflops", chip->fp8_tflops());
      json.Field("fp4_tflops", chip->fp4_tflops());
      json.Field("vector_tflops", chip->vector_tflops());
      json.Field("sram_mb", chip->sram_mb());
      json.Field("memory_gib", chip->memory_gib());
      json.Field("memory_bandwidth_tbps", chip->memory_bandwidth_tbps());
      json.Field("tdp_w", chip->tdp_w());
      OptionalField(json, "tdp_vs_h100", h100_tdp > 0,
                    chip->tdp_w() / h100_tdp);
      json.Field("idle_power_w", hardware::IdlePowerW(*chip));
      OptionalField(json, "manufacturing_cost_usd", cost > 0, cost);
      OptionalField(json, "cost_vs_h100", cost > 0 && h100_cost > 0,
                    cost / h100_cost);
      const v1::ChipPricing& pricing = chip->pricing();
      OptionalField(json, "purchase_usd", pricing.has_purchase_usd(),
                    pricing.purchase_usd().value());
      OptionalField(json, "machine_platform_usd",
                    pricing.has_machine_platform_usd(),
                    pricing.machine_platform_usd().value());
      OptionalField(json, "rental_on_demand_usd_per_chip_hour",
                    pricing.has_rental_on_demand_usd_per_chip_hour(),
                    pricing.rental_on_demand_usd_per_chip_hour().value());
      OptionalField(json, "rental_reserved_usd_per_chip_hour",
                    pricing.has_rental_reserved_usd_per_chip_hour(),
                    pricing.rental_reserved_usd_per_chip_hour().value());
      json.Field("int8_tops", chip->int8_tops());
      json.Field("machine_chips", hardware::MachineChips(*chip));
      json.Field("scale_up_gbytes_per_s", chip->scale_up_gbytes_per_s());
      json.Field("scale_out_gbytes_per_s", chip->scale_out_gbytes_per_s());
      json.EndObject();
    }
    json.EndArray();
    std::cout << json.str();
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"name", "display name", "bf16 TFLOP/s", "vector TFLOP/s", "memory GB",
       "TB/s", "TDP W", "TDP/H100", "cost $", "cost/H100", "machine"}};
  for (const v1::Chip* chip : catalog->entries()) {
    const double cost = hardware::ManufacturingCostUsd(*chip);
    rows.push_back(
        {chip->name(), chip->display_name(), Fixed(chip->bf16_tflops(), 1),
         Fixed(chip->vector_tflops(), 1), Fixed(chip->memory_gib(), 0),
         Fixed(chip->memory_bandwidth_tbps(), 3), Fixed(chip->tdp_w(), 0),
         h100_tdp > 0 ? Fixed(chip->tdp_w() / h100_tdp, 3) : "-",
         cost > 0 ? Fixed(cost, 0) : "-",
         cost > 0 && h100_cost > 0 ? Fixed(cost / h100_cost, 2) : "-",
         absl::StrCat(hardware::MachineChips(*chip))});
  }
  PrintTable(rows, {true, true, false, false, false, false, false, false, false,
                    false, false});
  return 0;
}

int ListModels() {
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  const workloads::ModelCatalog* catalog = &(*catalogs)->models();
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter json;
    json.BeginArray();
    for (const v1::Model* model : catalog->entries()) {
      json.BeginObject();
      json.Field("name", model->name());
      json.Field("display_name", model->display_name());
      json.Field("num_layers", model->num_layers());
      json.Field("hidden_size", model->hidden_size());
      json.Field("num_heads", model->num_heads());
      json.Field("num_kv_heads", model->num_kv_heads());
      json.Field("head_dim", model->head_dim());
      json.Field("ffn_dim", model->ffn_dim());
      json.Field("vocab_size", model->vocab_size());
      json.Field("attention",
                 ShortEnumName(v1::AttentionKind_Name(model->attention()),
                               "ATTENTION_KIND_"));
      json.Field("dtype",
                 ShortEnumName(v1::Dtype_Name(model->dtype()), "DTYPE_"));
      json.Field("params_billion", hardware::ParameterCount(*model) / 1e9);
      json.Field("active_params_billion",
                 hardware::ActiveParameterCount(*model) / 1e9);
      json.Field("kv_bytes_per_token", hardware::KvBytesPerToken(*model));
      json.Field("state_bytes_per_sequence",
                 hardware::RecurrentStateBytesPerSequence(*model));
      json.EndObject();
    }
    json.EndArray();
    std::cout << json.str();
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"name", "layers", "hidden", "heads/kv", "attention", "dtype", "params B",
       "active B", "KV bytes/token", "state bytes/seq"}};
  for (const v1::Model* model : catalog->entries()) {
    rows.push_back(
        {model->name(), absl::StrCat(model->num_layers()),
         absl::StrCat(model->hidden_size()),
         absl::StrCat(model->num_heads(), "/", model->num_kv_heads()),
         ShortEnumName(v1::AttentionKind_Name(model->attention()),
                       "ATTENTION_KIND_"),
         ShortEnumName(v1::Dtype_Name(model->dtype()), "DTYPE_"),
         Fixed(hardware::ParameterCount(*model) / 1e9, 1),
         Fixed(hardware::ActiveParameterCount(*model) / 1e9, 1),
         absl::StrCat(hardware::KvBytesPerToken(*model)),
         absl::StrCat(hardware::RecurrentStateBytesPerSequence(*model))});
  }
  PrintTable(rows, {true, false, false, false, true, true, false, false, false,
                    false});
  return 0;
}

int RunCatalog(const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "chips" && args[0] != "models")) {
    return UsageError(
        "usage: fleetsim catalog chips|models [--json] [--data_dir DIR]");
  }
  return args[0] == "chips" ? ListChips() : ListModels();
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "catalog",
    {"catalog chips|models [--json]",
     "Lists the chip or model catalog of the data folder (data/chips, "
     "data/models; add yours there) with derived sizes and costs.",
     {"json", "data_dir"},
     fleetsim::cli::RunCatalog});
