// File: economics/tco.h
//
// Total cost of ownership of a simulated fleet: capex on a cost basis,
// energy from the simulated utilisation (idle plus busy-proportional
// accelerator draw, machine platforms, PUE), maintenance, rent, and the
// figures a buyer compares fleets by ($ over the amortisation period, $ per
// hour, $ per million output tokens at the simulated load).
// docs/economics.md gives the formulas.
#ifndef FLEETSIM_ECONOMICS_TCO_H_
#define FLEETSIM_ECONOMICS_TCO_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/economics.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "sim/fleet.h"

namespace fleetsim::economics {

inline constexpr double kHoursPerYear = 8760;  // 365 days

// What a TCO is computed on: the cost basis and the site assumptions
// (validated, every field set; LoadSiteAssumptions/WithOverrides).
struct TcoSettings {
  v1::CostBasis basis = v1::COST_BASIS_LIST;
  v1::SiteAssumptions site;
};

// One pool's machines and what its accelerators drew in the simulation.
struct MachineGroup {
  const v1::Chip* chip = nullptr;
  int machines = 0;
  // Of `machines`, already owned: no purchase on the purchase bases (sunk),
  // still maintained, powered and, on the rental bases, rented.
  int owned_machines = 0;
  int chips_per_machine = 0;
  // Accelerator energy over the simulated window, joules (PoolUsage).
  double accelerator_energy_j = 0;
};

// OK when every chip in `groups` has the prices and platform power that
// `settings.basis` needs; else the first chip's error (pricing.h).
absl::Status CheckTcoInputs(const std::vector<MachineGroup>& groups,
                            const TcoSettings& settings);

// The TCO of `groups` over a simulated window of `simulated_s` seconds in
// which the fleet produced `output_tokens_per_s`. A zero-length window
// (nothing served) charges idle draw. Errors as CheckTcoInputs.
absl::StatusOr<v1::Tco> ComputeTco(const std::vector<MachineGroup>& groups,
                                   double simulated_s,
                                   double output_tokens_per_s,
                                   const TcoSettings& settings);

// The machine groups of a resolved fleet, one per pool, with each pool's
// accelerator energy from `result` (nullptr: none simulated yet).
std::vector<MachineGroup> MachineGroupsOf(const sim::FleetSpec& fleet,
                                          const v1::SimulationResult* result);

// The fleet's price on `basis` in machines of 8 `reference` chips (SPAD's
// normalisation to one H100 machine): what is still to pay, so owned
// machines count on the rental bases only. Errors as CheckPriced, for the
// reference chip too.
absl::StatusOr<double> NormalizedFleetCost(
    const std::vector<MachineGroup>& groups, const v1::Chip& reference,
    v1::CostBasis basis);

// The settings a run prices with: the shipped site assumptions from
// `data_dir` with `overrides` applied (errors name `origin`).
absl::StatusOr<TcoSettings> LoadTcoSettings(
    const std::string& data_dir, v1::CostBasis basis,
    const v1::SiteAssumptions& overrides, const std::string& origin);

// OK when `fleet` and `reference` can be priced on `settings` (run before
// a simulation, so a missing price fails fast). Errors as CheckTcoInputs.
absl::Status CheckPriceable(const sim::FleetSpec& fleet,
                            const v1::Chip& reference,
                            const TcoSettings& settings);

// Prices a finished simulation of `fleet`: sets result->fleet_cost
// (NormalizedFleetCost) and result->tco (ComputeTco).
absl::Status PriceSimulation(const sim::FleetSpec& fleet,
                             const v1::Chip& reference,
                             const TcoSettings& settings,
                             v1::SimulationResult* result);

}  // namespace fleetsim::economics

#endif  // FLEETSIM_ECONOMICS_TCO_H_
