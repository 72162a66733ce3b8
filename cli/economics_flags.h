// File: cli/economics_flags.h
//
// The money flags shared by `replay` and `plan`: the cost basis and
// overrides of the site assumptions (data/economics/default.txtpb).
#ifndef FLEETSIM_CLI_ECONOMICS_FLAGS_H_
#define FLEETSIM_CLI_ECONOMICS_FLAGS_H_

#include "absl/status/statusor.h"
#include "cli/command_registry.h"
#include "economics/tco.h"
#include "fleetsim/v1/economics.pb.h"

namespace fleetsim::cli {

// The flags below read: --cost-basis, --usd-per-kwh, --pue,
// --amortization-years, --maintenance-fraction.
FlagNames EconomicsFlagNames();

// --cost-basis. InvalidArgument for an unknown name.
absl::StatusOr<v1::CostBasis> CostBasisFromFlags();

// The site assumptions the flags set (--usd-per-kwh, --pue,
// --amortization-years, --maintenance-fraction); unset flags stay unset.
v1::SiteAssumptions SiteOverridesFromFlags();

// Both, applied to the shipped defaults in DataDir().
absl::StatusOr<economics::TcoSettings> TcoSettingsFromFlags();

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_ECONOMICS_FLAGS_H_
