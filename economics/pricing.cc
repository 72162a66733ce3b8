#include "economics/pricing.h"

#include "absl/strings/str_cat.h"
#include "hardware/chip_catalog.h"

namespace fleetsim::economics {
namespace {

absl::Status Missing(const v1::Chip& chip, v1::CostBasis basis,
                     absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat("chip '", chip.name(), "' has no price for cost basis '",
                   CostBasisName(basis), "': field '", field,
                   "' is unset (add it to the chip's file, or choose another "
                   "--cost-basis: list, die, rental, reserved)"));
}

}  // namespace

const char* CostBasisName(v1::CostBasis basis) {
  switch (basis) {
    case v1::COST_BASIS_DIE:
      return "die";
    case v1::COST_BASIS_RENTAL:
      return "rental";
    case v1::COST_BASIS_RESERVED:
      return "reserved";
    default:
      return "list";
  }
}

absl::StatusOr<v1::CostBasis> ParseCostBasis(absl::string_view name) {
  for (v1::CostBasis basis : {v1::COST_BASIS_LIST, v1::COST_BASIS_DIE,
                              v1::COST_BASIS_RENTAL, v1::COST_BASIS_RESERVED}) {
    if (name == CostBasisName(basis)) return basis;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown cost basis '", name,
                   "' (expected list, die, rental or reserved)"));
}

v1::CostBasis Resolved(v1::CostBasis basis) {
  return basis == v1::COST_BASIS_UNSPECIFIED ? v1::COST_BASIS_LIST : basis;
}

bool IsRental(v1::CostBasis basis) {
  return basis == v1::COST_BASIS_RENTAL || basis == v1::COST_BASIS_RESERVED;
}

absl::Status CheckPriced(const v1::Chip& chip, v1::CostBasis basis) {
  return ChipPriceOnBasis(chip, basis).status();
}

absl::StatusOr<PriceOnBasis> ChipPriceOnBasis(const v1::Chip& chip,
                                              v1::CostBasis basis) {
  basis = Resolved(basis);
  const v1::ChipPricing& pricing = chip.pricing();
  PriceOnBasis price;
  switch (basis) {
    case v1::COST_BASIS_LIST:
      if (!pricing.has_purchase_usd())
        return Missing(chip, basis, "pricing.purchase_usd");
      if (!pricing.has_machine_platform_usd())
        return Missing(chip, basis, "pricing.machine_platform_usd");
      price.per_chip = pricing.purchase_usd().value();
      price.per_machine = pricing.machine_platform_usd().value();
      return price;
    case v1::COST_BASIS_DIE:
      // ManufacturingCostUsd is 0 exactly when the chip gives neither a
      // cost nor a die model.
      price.per_chip = hardware::ManufacturingCostUsd(chip);
      if (price.per_chip <= 0)
        return Missing(chip, basis, "manufacturing_cost_usd or die_cost");
      return price;
    case v1::COST_BASIS_RENTAL:
      if (!pricing.has_rental_on_demand_usd_per_chip_hour())
        return Missing(chip, basis,
                       "pricing.rental_on_demand_usd_per_chip_hour");
      price.per_chip = pricing.rental_on_demand_usd_per_chip_hour().value();
      return price;
    default:
      if (!pricing.has_rental_reserved_usd_per_chip_hour())
        return Missing(chip, basis,
                       "pricing.rental_reserved_usd_per_chip_hour");
      price.per_chip = pricing.rental_reserved_usd_per_chip_hour().value();
      return price;
  }
}

double MachinesPrice(const PriceOnBasis& price, int machines,
                     int chips_per_machine) {
  // Same operation order as the SPAD validation's die-cost sums, so the
  // die basis reproduces them to the last bit.
  return machines * chips_per_machine * price.per_chip +
         machines * price.per_machine;
}

absl::StatusOr<double> MachinePlatformPowerW(const v1::Chip& chip) {
  if (!chip.pricing().has_machine_platform_power_w()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chip '", chip.name(),
        "' has no machine platform power: field "
        "'pricing.machine_platform_power_w' is unset (needed for the "
        "energy cost)"));
  }
  return chip.pricing().machine_platform_power_w().value();
}

}  // namespace fleetsim::economics
