// File: economics/pricing.h
//
// What a chip and its machine cost on a cost basis
// (proto/fleetsim/v1/economics.proto's CostBasis): purchase price with the
// machine platform, SPAD's die cost, or rental per chip-hour. An unknown price
// is an error naming the chip and the missing field, never zero, so a chip
// without a price can never be planned as free.
#ifndef FLEETSIM_ECONOMICS_PRICING_H_
#define FLEETSIM_ECONOMICS_PRICING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/economics.pb.h"

namespace fleetsim::economics {

// "list", "die", "rental", "reserved" (UNSPECIFIED reads as "list").
const char* CostBasisName(v1::CostBasis basis);
// Inverse of CostBasisName. InvalidArgument for any other name.
absl::StatusOr<v1::CostBasis> ParseCostBasis(absl::string_view name);
// UNSPECIFIED -> LIST; any other value unchanged.
v1::CostBasis Resolved(v1::CostBasis basis);
bool IsRental(v1::CostBasis basis);

// OK when `chip` has every figure `basis` needs: list -> purchase_usd and
// machine_platform_usd; die -> a manufacturing cost (set or from die_cost);
// rental/reserved -> that rental rate. InvalidArgument otherwise, e.g.
// "chip 'ascend_910c' has no price for cost basis 'list': field
// 'pricing.purchase_usd' is unset".
absl::Status CheckPriced(const v1::Chip& chip, v1::CostBasis basis);

// A chip's price on a cost basis, split into what scales with chips and
// what each machine adds: USD on the purchase bases, USD per hour on the
// rental bases.
struct PriceOnBasis {
  double per_chip = 0;     // purchase, die cost, or rent per chip-hour
  double per_machine = 0;  // list basis: the machine platform; else 0
};

// `chip`'s price on `basis`. Errors as CheckPriced.
absl::StatusOr<PriceOnBasis> ChipPriceOnBasis(const v1::Chip& chip,
                                              v1::CostBasis basis);

// Price of `machines` machines of `chips_per_machine` chips each.
double MachinesPrice(const PriceOnBasis& price, int machines,
                     int chips_per_machine);

// A machine's draw besides its accelerators, W. InvalidArgument naming the
// chip when pricing.machine_platform_power_w is unset.
absl::StatusOr<double> MachinePlatformPowerW(const v1::Chip& chip);

}  // namespace fleetsim::economics

#endif  // FLEETSIM_ECONOMICS_PRICING_H_
