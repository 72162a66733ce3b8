#include "economics/tco.h"

#include "economics/pricing.h"
#include "economics/site_assumptions.h"
#include "hardware/chip_catalog.h"
#include "hardware/reference_machine.h"
#include "util/status_macros.h"

namespace fleetsim::economics {

absl::Status CheckTcoInputs(const std::vector<MachineGroup>& groups,
                            const TcoSettings& settings) {
  for (const MachineGroup& group : groups) {
    FLEETSIM_RETURN_IF_ERROR(CheckPriced(*group.chip, settings.basis));
    FLEETSIM_RETURN_IF_ERROR(MachinePlatformPowerW(*group.chip).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Tco> ComputeTco(const std::vector<MachineGroup>& groups,
                                   double simulated_s,
                                   double output_tokens_per_s,
                                   const TcoSettings& settings) {
  const v1::CostBasis basis = Resolved(settings.basis);
  const v1::SiteAssumptions& site = settings.site;
  const bool rented = IsRental(basis);
  // Every machine's price (rent per hour on the rental bases), and that of
  // the machines still to buy.
  double price = 0, bought_price = 0;
  double it_power_w = 0;
  for (const MachineGroup& group : groups) {
    FLEETSIM_ASSIGN_OR_RETURN(PriceOnBasis unit,
                              ChipPriceOnBasis(*group.chip, basis));
    FLEETSIM_ASSIGN_OR_RETURN(double platform_w,
                              MachinePlatformPowerW(*group.chip));
    price += MachinesPrice(unit, group.machines, group.chips_per_machine);
    bought_price += MachinesPrice(unit, group.machines - group.owned_machines,
                                  group.chips_per_machine);
    const double accelerator_w =
        simulated_s > 0 ? group.accelerator_energy_j / simulated_s
                        : group.machines * group.chips_per_machine *
                              hardware::IdlePowerW(*group.chip);
    it_power_w += accelerator_w + group.machines * platform_w;
  }
  const double years = site.amortization_years().value();
  v1::Tco tco;
  tco.set_cost_basis(basis);
  tco.set_capex_usd(rented ? 0 : bought_price);
  tco.set_owned_capex_usd(rented ? 0 : price - bought_price);
  tco.set_it_power_w(it_power_w);
  tco.set_facility_power_w(it_power_w * site.pue().value());
  tco.set_energy_kwh_per_year(tco.facility_power_w() * kHoursPerYear / 1000);
  // A rental rate already pays for power and the facility.
  tco.set_energy_usd_per_year(
      rented ? 0 : tco.energy_kwh_per_year() * site.usd_per_kwh().value());
  tco.set_maintenance_usd_per_year(
      (tco.capex_usd() + tco.owned_capex_usd()) *
      site.maintenance_fraction_per_year().value());
  tco.set_rental_usd_per_year(rented ? price * kHoursPerYear : 0);
  tco.set_opex_usd_per_year(tco.energy_usd_per_year() +
                            tco.maintenance_usd_per_year() +
                            tco.rental_usd_per_year());
  tco.set_amortization_years(years);
  tco.set_tco_usd(tco.capex_usd() + tco.opex_usd_per_year() * years);
  tco.set_usd_per_hour(tco.tco_usd() / (years * kHoursPerYear));
  if (output_tokens_per_s > 0) {
    tco.set_usd_per_million_output_tokens(tco.usd_per_hour() /
                                          (output_tokens_per_s * 3600) * 1e6);
  }
  *tco.mutable_site() = site;
  return tco;
}

std::vector<MachineGroup> MachineGroupsOf(const sim::FleetSpec& fleet,
                                          const v1::SimulationResult* result) {
  std::vector<MachineGroup> groups;
  for (size_t i = 0; i < fleet.pools.size(); ++i) {
    const sim::PoolSpec& pool = fleet.pools[i];
    MachineGroup group;
    group.chip = &pool.chip;
    group.machines = pool.machines;
    group.owned_machines = pool.owned_machines;
    group.chips_per_machine = pool.chips_per_machine;
    // The result lists pools in the fleet's order.
    if (result != nullptr && static_cast<int>(i) < result->pools_size())
      group.accelerator_energy_j = result->pools(i).energy_j();
    groups.push_back(group);
  }
  return groups;
}

absl::StatusOr<double> NormalizedFleetCost(
    const std::vector<MachineGroup>& groups, const v1::Chip& reference,
    v1::CostBasis basis) {
  FLEETSIM_ASSIGN_OR_RETURN(PriceOnBasis reference_price,
                            ChipPriceOnBasis(reference, basis));
  double total = 0;
  for (const MachineGroup& group : groups) {
    FLEETSIM_ASSIGN_OR_RETURN(PriceOnBasis unit,
                              ChipPriceOnBasis(*group.chip, basis));
    const int to_pay = IsRental(Resolved(basis))
                           ? group.machines
                           : group.machines - group.owned_machines;
    total += MachinesPrice(unit, to_pay, group.chips_per_machine);
  }
  return total /
         MachinesPrice(reference_price, 1, hardware::kDefaultChipsPerMachine);
}

absl::StatusOr<TcoSettings> LoadTcoSettings(
    const std::string& data_dir, v1::CostBasis basis,
    const v1::SiteAssumptions& overrides, const std::string& origin) {
  FLEETSIM_ASSIGN_OR_RETURN(v1::SiteAssumptions defaults,
                            LoadSiteAssumptions(data_dir));
  TcoSettings settings;
  settings.basis = Resolved(basis);
  FLEETSIM_ASSIGN_OR_RETURN(settings.site,
                            WithOverrides(defaults, overrides, origin));
  return settings;
}

absl::Status CheckPriceable(const sim::FleetSpec& fleet,
                            const v1::Chip& reference,
                            const TcoSettings& settings) {
  FLEETSIM_RETURN_IF_ERROR(CheckPriced(reference, settings.basis));
  return CheckTcoInputs(MachineGroupsOf(fleet, nullptr), settings);
}

absl::Status PriceSimulation(const sim::FleetSpec& fleet,
                             const v1::Chip& reference,
                             const TcoSettings& settings,
                             v1::SimulationResult* result) {
  const std::vector<MachineGroup> groups = MachineGroupsOf(fleet, result);
  FLEETSIM_ASSIGN_OR_RETURN(
      double cost, NormalizedFleetCost(groups, reference, settings.basis));
  FLEETSIM_ASSIGN_OR_RETURN(
      v1::Tco tco, ComputeTco(groups, result->simulated_s(),
                              result->output_tokens_per_s(), settings));
  result->set_fleet_cost(cost);
  *result->mutable_tco() = std::move(tco);
  return absl::OkStatus();
}

}  // namespace fleetsim::economics
