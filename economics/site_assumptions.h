// File: economics/site_assumptions.h
//
// The site and finance assumptions behind a TCO (electricity price, PUE,
// amortisation period, maintenance): the shipped defaults in
// data/economics/default.txtpb, each with its source, and the overrides a
// user gives on the command line, in a plan request or in a study.
#ifndef FLEETSIM_ECONOMICS_SITE_ASSUMPTIONS_H_
#define FLEETSIM_ECONOMICS_SITE_ASSUMPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/economics.pb.h"

namespace fleetsim::economics {

// The shipped defaults, relative to the data folder.
inline constexpr char kDefaultSiteAssumptions[] = "economics/default.txtpb";

// Checks that every field is present with a finite value in range:
// usd_per_kwh >= 0, pue in [1, 5], amortization_years in (0, 30],
// maintenance_fraction_per_year in [0, 1]. InvalidArgument naming `origin`
// (and the line, when `origin` is a file) and the field.
absl::Status ValidateSiteAssumptions(const v1::SiteAssumptions& site,
                                     const std::string& origin);

// Reads and validates data_dir + "/" + kDefaultSiteAssumptions.
absl::StatusOr<v1::SiteAssumptions> LoadSiteAssumptions(
    const std::string& data_dir);

// `base` with every field that `overrides` sets replaced, then validated
// (errors name `origin`, e.g. "--pue" or "PlanRequest.site").
absl::StatusOr<v1::SiteAssumptions> WithOverrides(
    const v1::SiteAssumptions& base, const v1::SiteAssumptions& overrides,
    const std::string& origin);

}  // namespace fleetsim::economics

#endif  // FLEETSIM_ECONOMICS_SITE_ASSUMPTIONS_H_
