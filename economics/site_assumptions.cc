#include "economics/site_assumptions.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "util/text_locator.h"
#include "util/textproto.h"

namespace fleetsim::economics {
namespace {

struct Range {
  const char* field;
  const v1::SourcedValue& (v1::SiteAssumptions::*get)() const;
  bool (v1::SiteAssumptions::*has)() const;
  double min;
  double max;
  bool min_inclusive;
};

constexpr Range kRanges[] = {
    {"usd_per_kwh", &v1::SiteAssumptions::usd_per_kwh,
     &v1::SiteAssumptions::has_usd_per_kwh, 0, 10, true},
    {"pue", &v1::SiteAssumptions::pue, &v1::SiteAssumptions::has_pue, 1, 5,
     true},
    {"amortization_years", &v1::SiteAssumptions::amortization_years,
     &v1::SiteAssumptions::has_amortization_years, 0, 30, false},
    {"maintenance_fraction_per_year",
     &v1::SiteAssumptions::maintenance_fraction_per_year,
     &v1::SiteAssumptions::has_maintenance_fraction_per_year, 0, 1, true},
};

}  // namespace

absl::Status ValidateSiteAssumptions(const v1::SiteAssumptions& site,
                                     const std::string& origin) {
  for (const Range& range : kRanges) {
    if (!(site.*range.has)()) {
      return absl::InvalidArgumentError(AtLocation(
          origin, 0, absl::StrCat("field '", range.field, "' is missing")));
    }
    const double value = (site.*range.get)().value();
    const bool above_min =
        range.min_inclusive ? value >= range.min : value > range.min;
    if (!std::isfinite(value) || !above_min || value > range.max) {
      return absl::InvalidArgumentError(
          TextLocator(origin, site)
              .At(absl::StrCat(range.field, ".value"),
                  absl::StrCat("field '", range.field, ".value' must be in ",
                               range.min_inclusive ? "[" : "(", range.min, ", ",
                               range.max, "] (got ", value, ")")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SiteAssumptions> LoadSiteAssumptions(
    const std::string& data_dir) {
  const std::string path = data_dir + "/" + kDefaultSiteAssumptions;
  v1::SiteAssumptions site;
  if (absl::Status status = ReadTextProtoFile(path, &site); !status.ok())
    return status;
  if (absl::Status status = ValidateSiteAssumptions(site, path); !status.ok())
    return status;
  return site;
}

absl::StatusOr<v1::SiteAssumptions> WithOverrides(
    const v1::SiteAssumptions& base, const v1::SiteAssumptions& overrides,
    const std::string& origin) {
  v1::SiteAssumptions site = base;
  // A field `overrides` sets replaces the base's whole: its value with the
  // override's own source and date.
  for (const Range& range : kRanges) {
    if ((overrides.*range.has)()) {
      const google::protobuf::FieldDescriptor* field =
          v1::SiteAssumptions::descriptor()->FindFieldByName(range.field);
      site.GetReflection()
          ->MutableMessage(&site, field)
          ->CopyFrom((overrides.*range.get)());
    }
  }
  if (absl::Status status = ValidateSiteAssumptions(site, origin); !status.ok())
    return status;
  return site;
}

}  // namespace fleetsim::economics
