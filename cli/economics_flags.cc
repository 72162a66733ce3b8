#include "cli/economics_flags.h"

#include <optional>

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "economics/pricing.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, cost_basis, "list",
          "What fleet cost means: list (purchase prices), die (SPAD's die + "
          "memory cost), rental (on-demand $/chip-hour) or reserved");
ABSL_FLAG(std::optional<double>, usd_per_kwh, std::nullopt,
          "Electricity price, $/kWh (default: data/economics/default.txtpb)");
ABSL_FLAG(std::optional<double>, pue, std::nullopt,
          "Power usage effectiveness, facility / IT power (default: "
          "data/economics/default.txtpb)");
ABSL_FLAG(std::optional<double>, amortization_years, std::nullopt,
          "Years the hardware is paid off over (default: "
          "data/economics/default.txtpb)");
ABSL_FLAG(std::optional<double>, maintenance_fraction, std::nullopt,
          "Yearly maintenance as a fraction of capex (default: "
          "data/economics/default.txtpb)");

namespace fleetsim::cli {

FlagNames EconomicsFlagNames() {
  return {"cost_basis", "usd_per_kwh", "pue", "amortization_years",
          "maintenance_fraction"};
}
namespace {

// A value read from the command line, its flag as the source.
v1::SourcedValue FromFlag(double value, const char* name) {
  v1::SourcedValue sourced;
  sourced.set_value(value);
  sourced.set_source(std::string("command line --") + name);
  return sourced;
}

}  // namespace

absl::StatusOr<v1::CostBasis> CostBasisFromFlags() {
  absl::StatusOr<v1::CostBasis> basis =
      economics::ParseCostBasis(absl::GetFlag(FLAGS_cost_basis));
  if (!basis.ok()) {
    return absl::InvalidArgumentError(std::string("--cost-basis: ") +
                                      std::string(basis.status().message()));
  }
  return basis;
}

v1::SiteAssumptions SiteOverridesFromFlags() {
  v1::SiteAssumptions site;
  if (auto v = absl::GetFlag(FLAGS_usd_per_kwh))
    *site.mutable_usd_per_kwh() = FromFlag(*v, "usd-per-kwh");
  if (auto v = absl::GetFlag(FLAGS_pue))
    *site.mutable_pue() = FromFlag(*v, "pue");
  if (auto v = absl::GetFlag(FLAGS_amortization_years))
    *site.mutable_amortization_years() = FromFlag(*v, "amortization-years");
  if (auto v = absl::GetFlag(FLAGS_maintenance_fraction)) {
    *site.mutable_maintenance_fraction_per_year() =
        FromFlag(*v, "maintenance-fraction");
  }
  return site;
}

absl::StatusOr<economics::TcoSettings> TcoSettingsFromFlags() {
  FLEETSIM_ASSIGN_OR_RETURN(v1::CostBasis basis, CostBasisFromFlags());
  return economics::LoadTcoSettings(DataDir(), basis, SiteOverridesFromFlags(),
                                    "command line");
}

}  // namespace fleetsim::cli
