// File: economics/price_changes.h
//
// What-if price changes (proto/fleetsim/v1/economics.proto's ChipPriceChange):
// a study variant or a plan request that asks "what if the H200 cost 20 % less"
// gets a chip catalog with those prices changed, and every change keeps a
// source so the report's assumptions table can show it.
#ifndef FLEETSIM_ECONOMICS_PRICE_CHANGES_H_
#define FLEETSIM_ECONOMICS_PRICE_CHANGES_H_

#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/economics.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "hardware/chip_catalog.h"

namespace fleetsim::economics {

// Checks one change: a chip name, a finite multiplier >= 0 (0 = 1), and
// replacements that are finite, >= 0, with a source and a date.
// InvalidArgument naming `origin` and the field ("variant 'cheap_h200':
// chip_prices[0].purchase_usd.as_of is missing").
absl::Status ValidatePriceChange(const v1::ChipPriceChange& change,
                                 const std::string& origin);

// Applies `changes` in order to the chips of `catalog`. Errors: as
// ValidatePriceChange; NotFound for a chip not in the catalog.
absl::Status ApplyPriceChanges(
    const google::protobuf::RepeatedPtrField<v1::ChipPriceChange>& changes,
    const std::string& origin, hardware::ChipCatalog* catalog);

}  // namespace fleetsim::economics

#endif  // FLEETSIM_ECONOMICS_PRICE_CHANGES_H_
