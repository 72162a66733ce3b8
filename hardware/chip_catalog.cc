#include "hardware/chip_catalog.h"

#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hardware/operator_options.h"
#include "hardware/reference_machine.h"
#include "util/field_checks.h"
#include "util/status_macros.h"
#include "util/text_locator.h"

namespace fleetsim::hardware {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Collects every problem with one chip file, so a user fixes them in one go,
// each at the position of its field in the file. Field names may be dotted
// ("die_cost.die_area_mm2", "efficiency[1].compute"); a field not written is
// reported at its enclosing block.
class ChipProblems {
 public:
  ChipProblems(const std::string& path, const v1::Chip& chip)
      : locator_(path, chip) {}

  // A field the cost model cannot work without: must be present and > 0.
  void Required(const std::string& field, double value) {
    if (value > 0) return;
    if (value == 0 && !locator_.Written(field)) {
      Add(field, absl::StrCat("field '", field, "' is missing"));
    } else {
      Add(field,
          absl::StrCat("field '", field, "' must be > 0 (got ", value, ")"));
    }
  }

  void NonNegative(const std::string& field, double value) {
    if (value >= 0) return;
    Add(field,
        absl::StrCat("field '", field, "' must be >= 0 (got ", value, ")"));
  }

  // A problem at `field`'s position.
  void Add(const std::string& field, const std::string& message) {
    problems_.push_back(locator_.At(field, message));
  }

  absl::Status status() const {
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(problems_, "\n"));
  }

 private:
  TextLocator locator_;
  std::vector<std::string> problems_;
};

void CheckDieCost(const v1::Chip& chip, ChipProblems& problems) {
  if (!chip.has_die_cost()) return;
  const v1::DieCostModel& die = chip.die_cost();
  problems.Required("die_cost.die_area_mm2", die.die_area_mm2());
  problems.NonNegative("die_cost.wafer_cost_usd", die.wafer_cost_usd());
  problems.NonNegative("die_cost.wafer_diameter_mm", die.wafer_diameter_mm());
  problems.Required("die_cost.memory_usd_per_gb", die.memory_usd_per_gb());
  if (die.die_area_mm2() > 0 && die.wafer_diameter_mm() >= 0) {
    double diameter = die.wafer_diameter_mm() > 0 ? die.wafer_diameter_mm()
                                                  : kDefaultWaferDiameterMm;
    double dies = DiesPerWafer(die.die_area_mm2(), diameter);
    if (dies <= 0) {
      problems.Add(
          "die_cost.die_area_mm2",
          absl::StrCat("field 'die_cost.die_area_mm2' = ", die.die_area_mm2(),
                       " mm^2 does not fit a ", diameter,
                       " mm wafer (field 'die_cost.wafer_diameter_mm'; ", dies,
                       " dies per wafer)"));
    }
  }
}

// Every price present is finite, >= 0 and names its source; prices (not
// the platform's power) also carry the date they applied on.
void CheckPricing(const v1::Chip& chip, ChipProblems& problems) {
  const v1::ChipPricing& pricing = chip.pricing();
  const google::protobuf::Descriptor* descriptor = pricing.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (!pricing.GetReflection()->HasField(pricing, field)) continue;
    const auto& value = static_cast<const v1::SourcedValue&>(
        pricing.GetReflection()->GetMessage(pricing, field));
    const std::string name = absl::StrCat("pricing.", field->name());
    if (!std::isfinite(value.value()) || value.value() < 0) {
      problems.Add(
          name + ".value",
          absl::StrCat("field '", name, ".value' must be finite and >= 0 (got ",
                       value.value(), ")"));
    }
    if (value.source().empty()) {
      problems.Add(name, absl::StrCat("field '", name, ".source' is missing"));
    }
    const bool is_price = field->name() != "machine_platform_power_w";
    if (is_price && value.as_of().empty()) {
      problems.Add(name, absl::StrCat("field '", name,
                                      ".as_of' is missing (the price's date)"));
    }
  }
}

// A tile holds at least one row; 0 (or unset) turns the tiles off. A tile
// of a fraction of a row would multiply the tile loop's steps.
void CheckTileRows(const v1::OperatorEfficiency& entry,
                   const std::string& prefix, ChipProblems& problems) {
  for (const auto& [name, rows] :
       {std::pair<const char*, double>{"tile_q_rows", entry.tile_q_rows()},
        std::pair<const char*, double>{"tile_kv_rows", entry.tile_kv_rows()}}) {
    if (!(rows > 0 && rows < 1)) continue;
    const std::string field = absl::StrCat(prefix, ".", name);
    const std::string message =
        absl::StrCat("field '", field,
                     "' must be 0 (no tiles) or >= 1 row (got ", rows, ")");
    problems.Add(field, message);
  }
}

// An entry's dtype must be one the cost model prices tensor work in
// (TensorDtype: BF16, FP8, INT8, FP4), with a peak on this chip.
void CheckEntryDtype(const v1::Chip& chip, const v1::OperatorEfficiency& entry,
                     const std::string& prefix, ChipProblems& problems) {
  double peak = 0;
  const char* peak_field = "";
  switch (entry.dtype()) {
    case v1::DTYPE_UNSPECIFIED:
      return;
    case v1::DTYPE_BF16:
      peak = chip.bf16_tflops();
      peak_field = "bf16_tflops";
      break;
    case v1::DTYPE_FP8:
      peak = chip.fp8_tflops();
      peak_field = "fp8_tflops";
      break;
    case v1::DTYPE_INT8:
      peak = chip.int8_tops();
      peak_field = "int8_tops";
      break;
    case v1::DTYPE_FP4:
      peak = chip.fp4_tflops();
      peak_field = "fp4_tflops";
      break;
    default:
      break;
  }
  const std::string field = prefix + ".dtype";
  if (peak_field[0] == '\0') {
    problems.Add(field, absl::StrCat("field '", field,
                                     "': ", v1::Dtype_Name(entry.dtype()),
                                     " is not a precision the cost model "
                                     "prices (DTYPE_BF16, DTYPE_FP8, "
                                     "DTYPE_INT8, DTYPE_FP4)"));
  } else if (!(peak > 0)) {
    problems.Add(field, absl::StrCat("field '", field,
                                     "': ", v1::Dtype_Name(entry.dtype()),
                                     " but the chip has no ", peak_field));
  }
}

// A kernel name is a lower-case identifier on an entry of one class or
// operator: a chip-wide entry has no single kernel to replace.
void CheckKernelName(const v1::OperatorEfficiency& entry,
                     const std::string& prefix, ChipProblems& problems) {
  if (entry.kernel().empty()) return;
  const std::string field = prefix + ".kernel";
  const bool identifier = absl::c_all_of(entry.kernel(), [](char ch) {
    return absl::ascii_islower(ch) || absl::ascii_isdigit(ch) || ch == '_';
  });
  if (!identifier) {
    problems.Add(field, absl::StrCat("field '", field, "': '", entry.kernel(),
                                     "' is not a lower-case name [a-z0-9_]"));
  } else if (entry.op() == v1::OPERATOR_CLASS_UNSPECIFIED &&
             entry.op_name().empty()) {
    problems.Add(field, absl::StrCat("field '", field,
                                     "': a chip-wide entry (no op) cannot "
                                     "name a kernel"));
  }
}

void CheckEfficiencies(const v1::Chip& chip, ChipProblems& problems) {
  // One entry per class, serving framework, dtype and kernel (empty /
  // unspecified: any).
  std::set<std::tuple<int, std::string, int, std::string>> seen_ops;
  for (int i = 0; i < chip.efficiency_size(); ++i) {
    const v1::OperatorEfficiency& entry = chip.efficiency(i);
    const std::string prefix = absl::StrCat("efficiency[", i, "]");
    if (!seen_ops
             .insert(
                 {entry.op(), entry.framework(), entry.dtype(), entry.kernel()})
             .second) {
      problems.Add(
          prefix + ".op",
          absl::StrCat(
              "field '", prefix, ".op': ", v1::OperatorClass_Name(entry.op()),
              entry.framework().empty()
                  ? ""
                  : absl::StrCat(" (framework ", entry.framework(), ")"),
              entry.dtype() == v1::DTYPE_UNSPECIFIED
                  ? ""
                  : absl::StrCat(" (", v1::Dtype_Name(entry.dtype()), ")"),
              entry.kernel().empty()
                  ? ""
                  : absl::StrCat(" (kernel ", entry.kernel(), ")"),
              " already has an efficiency entry"));
    }
    CheckKernelName(entry, prefix, problems);
    // One operator entry per operator and kernel: a second would be
    // ignored or shadow the first, depending on the order they apply in.
    std::set<std::pair<std::string, std::string>> seen_operators;
    for (int j = 0; j < entry.operators_size(); ++j) {
      const v1::OperatorEfficiency& op = entry.operators(j);
      const std::string op_prefix = absl::StrCat(prefix, ".operators[", j, "]");
      CheckKernelName(op, op_prefix, problems);
      if (!seen_operators.insert({op.op_name(), op.kernel()}).second) {
        problems.Add(
            op_prefix + ".op_name",
            absl::StrCat("field '", op_prefix, ".op_name': '", op.op_name(),
                         "'",
                         op.kernel().empty()
                             ? ""
                             : absl::StrCat(" (kernel ", op.kernel(), ")"),
                         " already has an efficiency entry"));
      }
    }
    CheckEntryDtype(chip, entry, prefix, problems);
    if (!entry.framework().empty() && !IsServingFramework(entry.framework())) {
      problems.Add(
          prefix + ".framework",
          absl::StrCat("field '", prefix, ".framework': '", entry.framework(),
                       "' is not a serving framework (trtllm, vllm, sglang)"));
    }
    struct Fraction {
      const char* name;
      bool has;
      double value;
    };
    for (const Fraction& f :
         {Fraction{"compute", entry.has_compute(), entry.compute()},
          Fraction{"memory", entry.has_memory(), entry.memory()},
          Fraction{"vector", entry.has_vector(), entry.vector()}}) {
      if (!f.has || (f.value > 0 && f.value <= 1)) continue;
      problems.Add(absl::StrCat(prefix, ".", f.name),
                   absl::StrCat("field '", prefix, ".", f.name,
                                "' must be in (0, 1] (got ", f.value, ")"));
    }
    CheckTileRows(entry, prefix, problems);
    for (int j = 0; j < entry.operators_size(); ++j) {
      CheckTileRows(entry.operators(j),
                    absl::StrCat(prefix, ".operators[", j, "]"), problems);
    }
    if (entry.has_floor_us() && entry.floor_us() < 0) {
      problems.Add(
          prefix + ".floor_us",
          absl::StrCat("field '", prefix, ".floor_us' must be >= 0 (got ",
                       entry.floor_us(), ")"));
    }
  }
}

}  // namespace

// Sanity bounds, not data: each spans orders of magnitude beyond any real
// part (the largest, Cerebras WSE-3: 46,225 mm^2, 44 GB of SRAM at 21 PB/s,
// 23 kW; cerebras.ai product brief, March 2024), so they only refuse values
// that would make the cost model produce absurd or infinite times.
const FieldRanges& ChipFieldRanges() {
  static const auto* ranges = new FieldRanges{
      {"fleetsim.v1.Chip.bf16_tflops", 1e-3, 1e6, "TFLOP/s"},
      {"fleetsim.v1.Chip.fp8_tflops", 0, 1e6, "TFLOP/s"},
      {"fleetsim.v1.Chip.fp4_tflops", 0, 1e6, "TFLOP/s"},
      {"fleetsim.v1.Chip.int8_tops", 0, 1e6, "TOPS"},
      {"fleetsim.v1.Chip.vector_tflops", 1e-3, 1e6, "TFLOP/s"},
      {"fleetsim.v1.Chip.sram_mb", 0, 1e6, "MB"},
      {"fleetsim.v1.Chip.memory_gib", 1e-3, 1e6, "GiB"},
      {"fleetsim.v1.Chip.memory_bandwidth_tbps", 1e-3, 1e6, "TB/s"},
      {"fleetsim.v1.Chip.tdp_w", 1e-3, 1e6, "W"},
      {"fleetsim.v1.Chip.idle_power_w", 0, 1e6, "W"},
      {"fleetsim.v1.Chip.manufacturing_cost_usd", 0, 1e9, "USD"},
      {"fleetsim.v1.Chip.scale_up_gbytes_per_s", 1e-3, 1e6, "GB/s"},
      {"fleetsim.v1.Chip.scale_out_gbytes_per_s", 1e-3, 1e6, "GB/s"},
      {"fleetsim.v1.Chip.compute_units", 1, 1e7},
      {"fleetsim.v1.Chip.scale_up_domain_chips", 0, 1e4},
      {"fleetsim.v1.OperatorEfficiency.compute", 1e-6, 1, "a fraction of peak"},
      {"fleetsim.v1.OperatorEfficiency.memory", 1e-6, 1, "a fraction of peak"},
      {"fleetsim.v1.OperatorEfficiency.vector", 1e-6, 1, "a fraction of peak"},
      {"fleetsim.v1.OperatorEfficiency.floor_us", 0, 1e6, "microseconds"},
      {"fleetsim.v1.OperatorEfficiency.memory_ramp_mb", 0, 1e6, "MB"},
      {"fleetsim.v1.OperatorEfficiency.parallel_columns", 0, 1e9},
      {"fleetsim.v1.OperatorEfficiency.overlap_exponent", 1, 1e3},
      {"fleetsim.v1.OperatorEfficiency.step_latency_us", 0, 1e6,
       "microseconds"},
      {"fleetsim.v1.OperatorEfficiency.compute_ramp_tokens", 0, 1e9},
      {"fleetsim.v1.OperatorEfficiency.compute_latency_us", 0, 1e6,
       "microseconds"},
      {"fleetsim.v1.OperatorEfficiency.tile_overhead_rows", 0, 1e6},
      {"fleetsim.v1.OperatorEfficiency.cache_speedup", 1, 1e3},
      {"fleetsim.v1.OperatorEfficiency.cache_fraction", 0, 1e3},
      {"fleetsim.v1.OperatorEfficiency.rows_per_unit", 0, 1e9},
      {"fleetsim.v1.OperatorEfficiency.row_overhead_kb", 0, 1e9, "KB"},
      {"fleetsim.v1.OperatorEfficiency.latency_us", 0, 1e6, "microseconds"},
      {"fleetsim.v1.OperatorEfficiency.unit_latency_us", 0, 1e6,
       "microseconds"},
      {"fleetsim.v1.OperatorEfficiency.tile_q_rows", 0, 1e6, "rows"},
      {"fleetsim.v1.OperatorEfficiency.tile_kv_rows", 0, 1e6, "rows"},
      {"fleetsim.v1.OperatorEfficiency.local_pair_bytes", 0, 1e9, "bytes"},
      {"fleetsim.v1.OperatorEfficiency.layer_pair_bytes", 0, 1e9, "bytes"},
      {"fleetsim.v1.CollectiveFit.ranks", 1, 1e4},
      {"fleetsim.v1.CollectiveFit.latency_us", 0, 1e6, "microseconds"},
      {"fleetsim.v1.CollectiveFit.bus_efficiency", 1e-6, 1e3},
      {"fleetsim.v1.CollectiveFit.bulk_latency_us", 0, 1e6, "microseconds"},
      {"fleetsim.v1.CollectiveFit.bulk_bus_efficiency", 1e-6, 1e3},
      {"fleetsim.v1.SourcedValue.value", 0, 1e9, "USD or W"},
      {"fleetsim.v1.DieCostModel.die_area_mm2", 1e-3, 1e6, "mm^2"},
      {"fleetsim.v1.DieCostModel.wafer_cost_usd", 0, 1e9, "USD"},
      {"fleetsim.v1.DieCostModel.wafer_diameter_mm", 0, 1e4, "mm"},
      {"fleetsim.v1.DieCostModel.memory_usd_per_gb", 0, 1e6, "USD"},
  };
  return *ranges;
}

absl::Status ValidateChip(const v1::Chip& chip, const std::string& path) {
  ChipProblems problems(path, chip);
  problems.Required("bf16_tflops", chip.bf16_tflops());
  problems.Required("vector_tflops", chip.vector_tflops());
  problems.Required("memory_gib", chip.memory_gib());
  problems.Required("memory_bandwidth_tbps", chip.memory_bandwidth_tbps());
  problems.Required("tdp_w", chip.tdp_w());
  problems.Required("scale_up_gbytes_per_s", chip.scale_up_gbytes_per_s());
  problems.Required("scale_out_gbytes_per_s", chip.scale_out_gbytes_per_s());
  problems.NonNegative("fp8_tflops", chip.fp8_tflops());
  problems.NonNegative("fp4_tflops", chip.fp4_tflops());
  problems.NonNegative("int8_tops", chip.int8_tops());
  problems.NonNegative("sram_mb", chip.sram_mb());
  if (chip.has_idle_power_w()) {
    problems.NonNegative("idle_power_w", chip.idle_power_w());
    if (chip.tdp_w() > 0 && chip.idle_power_w() > chip.tdp_w()) {
      problems.Add("idle_power_w",
                   absl::StrCat("field 'idle_power_w' must be <= tdp_w (got ",
                                chip.idle_power_w(), " > ", chip.tdp_w(), ")"));
    }
  }
  if (chip.has_manufacturing_cost_usd()) {
    problems.NonNegative("manufacturing_cost_usd",
                         chip.manufacturing_cost_usd());
  }
  CheckPricing(chip, problems);
  CheckDieCost(chip, problems);
  CheckEfficiencies(chip, problems);
  FLEETSIM_RETURN_IF_ERROR(problems.status());
  return CheckFields(chip, path, ChipFieldRanges());
}

absl::StatusOr<ChipCatalog> LoadChipCatalog(
    const std::string& data_dir, const std::vector<std::string>& extra_dirs) {
  ChipCatalog catalog;
  absl::Status status = catalog.AddDirectory(data_dir + "/chips", ValidateChip);
  if (!status.ok()) return status;
  for (const std::string& dir : extra_dirs) {
    status = catalog.AddDirectory(dir, ValidateChip);
    if (!status.ok()) return status;
  }
  return catalog;
}

double DiesPerWafer(double die_area_mm2, double wafer_diameter_mm) {
  const double radius_mm = wafer_diameter_mm / 2;
  return kPi * radius_mm * radius_mm / die_area_mm2 -
         kPi * wafer_diameter_mm / std::sqrt(2 * die_area_mm2);
}

double ManufacturingCostUsd(const v1::Chip& chip) {
  if (chip.has_manufacturing_cost_usd()) return chip.manufacturing_cost_usd();
  const v1::DieCostModel& die = chip.die_cost();
  if (!chip.has_die_cost() || die.die_area_mm2() <= 0) return 0;
  const double wafer_cost_usd =
      die.wafer_cost_usd() > 0 ? die.wafer_cost_usd() : kDefaultWaferCostUsd;
  const double diameter_mm = die.wafer_diameter_mm() > 0
                                 ? die.wafer_diameter_mm()
                                 : kDefaultWaferDiameterMm;
  const double dies = DiesPerWafer(die.die_area_mm2(), diameter_mm);
  if (dies <= 0) return 0;
  return wafer_cost_usd / dies + chip.memory_gib() * die.memory_usd_per_gb();
}

double IdlePowerW(const v1::Chip& chip) {
  if (chip.has_idle_power_w()) return chip.idle_power_w();
  return kIdlePowerFractionOfTdp * chip.tdp_w();
}

int MachineChips(const v1::Chip& chip) {
  return chip.scale_up_domain_chips() > 0 ? chip.scale_up_domain_chips()
                                          : kDefaultChipsPerMachine;
}

v1::OperatorEfficiency EffectiveEfficiency(const v1::Chip& chip,
                                           v1::OperatorClass op) {
  const v1::OperatorEfficiency* specific = nullptr;
  const v1::OperatorEfficiency* chip_wide = nullptr;
  for (const v1::OperatorEfficiency& entry : chip.efficiency()) {
    // One framework's, one precision's or one alternative kernel's.
    if (!entry.framework().empty() || entry.dtype() != v1::DTYPE_UNSPECIFIED ||
        !entry.kernel().empty())
      continue;
    if (entry.op() == op) specific = &entry;
    if (entry.op() == v1::OPERATOR_CLASS_UNSPECIFIED) chip_wide = &entry;
  }
  v1::OperatorEfficiency result;
  std::vector<std::string> sources;
  // The specific entry first, so its fields win; then fill from chip-wide.
  for (const v1::OperatorEfficiency* entry : {specific, chip_wide}) {
    if (entry == nullptr) continue;
    bool used = false;
    if (entry->has_compute() && !result.has_compute()) {
      result.set_compute(entry->compute());
      used = true;
    }
    if (entry->has_memory() && !result.has_memory()) {
      result.set_memory(entry->memory());
      used = true;
    }
    if (entry->has_vector() && !result.has_vector()) {
      result.set_vector(entry->vector());
      used = true;
    }
    if (entry->has_floor_us() && !result.has_floor_us()) {
      result.set_floor_us(entry->floor_us());
      used = true;
    }
    if (used && !entry->source().empty()) sources.push_back(entry->source());
    if (entry == chip_wide) break;  // specific may equal chip_wide for op 0
  }
  result.set_op(op);
  result.set_source(absl::StrJoin(sources, "; "));
  return result;
}

}  // namespace fleetsim::hardware
