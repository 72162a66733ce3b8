#include "economics/price_changes.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace fleetsim::economics {
namespace {

struct Replacement {
  const char* field;
  bool (v1::ChipPriceChange::*has)() const;
  const v1::SourcedValue& (v1::ChipPriceChange::*get)() const;
  v1::SourcedValue* (v1::ChipPricing::*target)();
};

constexpr Replacement kReplacements[] = {
    {"purchase_usd", &v1::ChipPriceChange::has_purchase_usd,
     &v1::ChipPriceChange::purchase_usd,
     &v1::ChipPricing::mutable_purchase_usd},
    {"machine_platform_usd", &v1::ChipPriceChange::has_machine_platform_usd,
     &v1::ChipPriceChange::machine_platform_usd,
     &v1::ChipPricing::mutable_machine_platform_usd},
    {"rental_on_demand_usd_per_chip_hour",
     &v1::ChipPriceChange::has_rental_on_demand_usd_per_chip_hour,
     &v1::ChipPriceChange::rental_on_demand_usd_per_chip_hour,
     &v1::ChipPricing::mutable_rental_on_demand_usd_per_chip_hour},
    {"rental_reserved_usd_per_chip_hour",
     &v1::ChipPriceChange::has_rental_reserved_usd_per_chip_hour,
     &v1::ChipPriceChange::rental_reserved_usd_per_chip_hour,
     &v1::ChipPricing::mutable_rental_reserved_usd_per_chip_hour},
};

// `value` scaled, its source saying so.
void Scale(double multiplier, v1::SourcedValue* value) {
  value->set_value(value->value() * multiplier);
  value->set_source(
      absl::StrCat(value->source(), " (what-if: x", multiplier, ")"));
}

}  // namespace

absl::Status ValidatePriceChange(const v1::ChipPriceChange& change,
                                 const std::string& origin) {
  auto bad = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", message));
  };
  if (change.chip().empty()) return bad("field 'chip' is missing");
  if (!std::isfinite(change.multiplier()) || change.multiplier() < 0) {
    return bad(absl::StrCat("field 'multiplier' must be finite and >= 0 (got ",
                            change.multiplier(), ")"));
  }
  for (const Replacement& r : kReplacements) {
    if (!(change.*r.has)()) continue;
    const v1::SourcedValue& value = (change.*r.get)();
    if (!std::isfinite(value.value()) || value.value() < 0) {
      return bad(absl::StrCat("field '", r.field,
                              ".value' must be finite and >= 0 (got ",
                              value.value(), ")"));
    }
    if (value.source().empty())
      return bad(absl::StrCat("field '", r.field, ".source' is missing"));
    if (value.as_of().empty()) {
      return bad(absl::StrCat("field '", r.field,
                              ".as_of' is missing (the price's date)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyPriceChanges(
    const google::protobuf::RepeatedPtrField<v1::ChipPriceChange>& changes,
    const std::string& origin, hardware::ChipCatalog* catalog) {
  for (int i = 0; i < changes.size(); ++i) {
    const v1::ChipPriceChange& change = changes[i];
    const std::string where = absl::StrCat(origin, ": chip_prices[", i, "]");
    FLEETSIM_RETURN_IF_ERROR(ValidatePriceChange(change, where));
    absl::StatusOr<const v1::Chip*> found = catalog->Find(change.chip());
    if (!found.ok()) {
      return absl::NotFoundError(
          absl::StrCat(where, ".chip: ", found.status().message()));
    }
    v1::Chip chip = **found;
    v1::ChipPricing* pricing = chip.mutable_pricing();
    for (const Replacement& r : kReplacements) {
      if ((change.*r.has)()) *(pricing->*r.target)() = (change.*r.get)();
    }
    const double m = change.multiplier();
    if (m > 0 && m != 1) {
      if (pricing->has_purchase_usd())
        Scale(m, pricing->mutable_purchase_usd());
      if (pricing->has_rental_on_demand_usd_per_chip_hour())
        Scale(m, pricing->mutable_rental_on_demand_usd_per_chip_hour());
      if (pricing->has_rental_reserved_usd_per_chip_hour())
        Scale(m, pricing->mutable_rental_reserved_usd_per_chip_hour());
      // The die basis: the derived manufacturing cost, fixed at its
      // scaled value.
      double die_usd = hardware::ManufacturingCostUsd(chip);
      if (die_usd > 0) chip.set_manufacturing_cost_usd(die_usd * m);
    }
    catalog->Add(std::move(chip));
  }
  return absl::OkStatus();
}

}  // namespace fleetsim::economics
