// File: hardware/chip_catalog.h
//
// The chip catalog: every accelerator fleetsim can plan with (data/chips/,
// one fleetsim.v1.Chip per .txtpb file; users add their own by dropping a file
// into that folder or into an extra folder), its validation, and the derived
// quantities the planner needs from a Chip (manufacturing cost from SPAD's
// die model, idle power, per-operator efficiency with chip-wide defaults).
//
// Use LoadChipCatalog() once at start-up; look chips up with Find("h100").
// The catalog is read-only after loading and safe to share across threads.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(ChipCatalog chips, LoadChipCatalog(data_dir));
//   FLEETSIM_ASSIGN_OR_RETURN(const Chip* h100, chips.Find("h100"));
//   double cost_usd = ManufacturingCostUsd(*h100);  // 1035.06
#ifndef FLEETSIM_HARDWARE_CHIP_CATALOG_H_
#define FLEETSIM_HARDWARE_CHIP_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "util/catalog.h"
#include "util/field_checks.h"

namespace fleetsim::hardware {

using ChipCatalog = Catalog<v1::Chip>;

// SPAD's cost-model defaults (arXiv:2510.08544 §6.1), used when a
// DieCostModel leaves the field at 0: $20,000 per TSMC 4 nm wafer, 300 mm.
inline constexpr double kDefaultWaferCostUsd = 20000.0;
inline constexpr double kDefaultWaferDiameterMm = 300.0;

// ASSUMPTION: idle power, when a chip file leaves idle_power_w unset, is this
// fraction of TDP. No primary source publishes accelerator idle power; H100
// SXM boards commonly read 60-75 W idle in nvidia-smi (about 10% of 700 W,
// unverified). Energy figures that matter should set idle_power_w per chip.
inline constexpr double kIdlePowerFractionOfTdp = 0.10;

// Checks one parsed Chip. Returns OK or InvalidArgument listing every
// problem, one per line, each as "path:LINE: field 'NAME' ..." (or
// "path: field 'NAME' is missing" when the field is absent from the file):
//   - required and > 0: bf16_tflops, vector_tflops, memory_gib,
//     memory_bandwidth_tbps, tdp_w, scale_up_gbytes_per_s,
//     scale_out_gbytes_per_s;
//   - >= 0: fp8_tflops, fp4_tflops, sram_mb, idle_power_w (also <= tdp_w),
//     manufacturing_cost_usd, floor_us;
//   - pricing entries, when present: value finite and >= 0, a source, and
//     (prices) the date they applied on;
//   - die_cost, when present: die_area_mm2 and memory_usd_per_gb > 0, and
//     the die must fit the wafer (DiesPerWafer > 0);
//   - efficiency entries: compute/memory/vector in (0, 1], one entry per op;
//   - then, when all of that holds, every number finite, every enum
//     defined and every field within its sanity range (util/field_checks.h;
//     the bounds are in chip_catalog.cc).
// `path` is the file the chip came from; lines are looked up in it.
absl::Status ValidateChip(const v1::Chip& chip, const std::string& path);

// The sanity range of each numeric chip field ValidateChip applies.
const FieldRanges& ChipFieldRanges();

// Loads and validates data_dir + "/chips", then each folder in `extra_dirs`
// in order (a later folder replaces an earlier chip of the same name, so a
// user folder can override a shipped chip). Errors: NotFound when a folder
// is missing; InvalidArgument naming file, line and field for a bad file,
// an unknown field, or a name defined twice in one folder.
absl::StatusOr<ChipCatalog> LoadChipCatalog(
    const std::string& data_dir,
    const std::vector<std::string>& extra_dirs = {});

// Dies per wafer in SPAD's model (no yield term):
//   pi r^2 / A - pi d / sqrt(2 A),  r = d / 2.
// Returns <= 0 when the die does not fit. REQUIRES: die_area_mm2 > 0.
double DiesPerWafer(double die_area_mm2, double wafer_diameter_mm);

// Manufacturing cost of one chip, USD: manufacturing_cost_usd when set;
// otherwise SPAD's model from die_cost (wafer cost / dies per wafer +
// memory_gib x memory_usd_per_gb); 0 when neither is given (unknown).
// H100 derives to $1035.06, SPAD Prefill to $493.39, Decode to $907.43.
double ManufacturingCostUsd(const v1::Chip& chip);

// Idle power, W: idle_power_w when set, else kIdlePowerFractionOfTdp x tdp_w.
double IdlePowerW(const v1::Chip& chip);

// Chips in one machine of `chip` when a config does not say: its scale-up
// domain (Chip.scale_up_domain_chips), else kDefaultChipsPerMachine (8).
int MachineChips(const v1::Chip& chip);

// The efficiency entry the cost model should apply to `op` on `chip`
// without a serving framework: the chip's framework-free entry for `op`
// with any unset field filled from the chip-wide entry (op
// OPERATOR_CLASS_UNSPECIFIED, the convention for "every operator"). A
// framework's entries (`framework` set) are ResolveEfficiency's
// (operator_options.h), with OperatorModelOptions::framework.
// Fields set in neither stay unset, for the cost model's own defaults. The
// result's `op` is `op`; its `source` joins the sources used.
v1::OperatorEfficiency EffectiveEfficiency(const v1::Chip& chip,
                                           v1::OperatorClass op);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CHIP_CATALOG_H_
