#include "study/study_spec.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "economics/price_changes.h"
#include "economics/pricing.h"
#include "planner/candidate.h"
#include "util/status_macros.h"
#include "util/text_locator.h"
#include "util/textproto.h"

namespace fleetsim::study {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool IsValidName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Errors at the position of their field when `origin` is the study file.
class Problems {
 public:
  Problems(const std::string& origin, const v1::StudySpec& spec)
      : locator_(origin, spec) {}
  absl::Status At(const std::string& field, const std::string& message) {
    return absl::InvalidArgumentError(locator_.At(field, message));
  }
  absl::Status Field(const std::string& field, const std::string& message) {
    return At(field, absl::StrCat("field '", field, "' ", message));
  }
  // A problem with variant `index`, at its `field` ("" for the whole entry).
  absl::Status Variant(int index, const std::string& name,
                       const std::string& field, const std::string& message) {
    const std::string entry = absl::StrCat("variants[", index, "]");
    return At(
        field.empty() ? entry : absl::StrCat(entry, ".", field),
        absl::StrCat(entry, name.empty() ? "" : absl::StrCat(" ('", name, "')"),
                     ": ", message));
  }

 private:
  TextLocator locator_;
};

absl::Status CheckMultiplier(
    double value, const char* field,
    const std::function<absl::Status(std::string, std::string)>& fail) {
  if (!std::isfinite(value) || value < 0) {
    return fail(
        field, absl::StrCat("field '", field, "' must be finite and >= 0 (got ",
                            value, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateStudySpec(const v1::StudySpec& spec,
                               const std::string& origin) {
  Problems problems(origin, spec);
  if (!IsValidName(spec.name()))
    return problems.Field("name", "must be a non-empty [A-Za-z0-9_.-] name");
  const v1::PlanRequest& base = spec.base();
  if (base.model().empty())
    return problems.Field("base", "needs a model (base.model)");
  if (base.workload().trace_path().empty())
    return problems.Field("base", "needs a trace (base.workload.trace_path)");
  if (base.slo().targets().empty() && base.slo_preset().empty())
    return problems.Field("base", "needs an SLO (base.slo_preset or base.slo)");
  if (base.has_fixed_fleet()) {
    return absl::UnimplementedError(AtLocation(
        origin, 0,
        "base.fixed_fleet: the re-allocation what-if is not a study variant "
        "(use `fleetsim plan --fixed-fleet`); to extend machines already "
        "owned, give them as existing_pools"));
  }
  for (int i = 0; i < base.chip_prices_size(); ++i) {
    FLEETSIM_RETURN_IF_ERROR(economics::ValidatePriceChange(
        base.chip_prices(i),
        absl::StrCat(origin, ": base.chip_prices[", i, "]")));
  }
  if (spec.variants().empty())
    return problems.Field("variants", "is empty: a study needs a variant");
  std::set<std::string> names;
  for (int i = 0; i < spec.variants_size(); ++i) {
    const v1::StudyVariant& v = spec.variants(i);
    auto fail = [&](std::string field, std::string message) {
      return problems.Variant(i, v.name(), field, message);
    };
    if (!IsValidName(v.name()))
      return fail("name",
                  "field 'name' must be a non-empty [A-Za-z0-9_.-] name");
    if (!names.insert(v.name()).second)
      return fail("name", "field 'name' repeats an earlier variant's");
    FLEETSIM_RETURN_IF_ERROR(
        CheckMultiplier(v.traffic_multiplier(), "traffic_multiplier", fail));
    if (!v.slo_preset().empty() && !v.slo().targets().empty())
      return fail("slo_preset", "set slo_preset or slo, not both");
    if (v.budget_machines() < 0)
      return fail("budget_machines", "field 'budget_machines' must be >= 0");
    for (int j = 0; j < v.chip_prices_size(); ++j) {
      absl::Status status = economics::ValidatePriceChange(
          v.chip_prices(j), absl::StrCat("chip_prices[", j, "]"));
      if (!status.ok()) {
        return fail(absl::StrCat("chip_prices[", j, "]"),
                    std::string(status.message()));
      }
    }
  }
  if (!spec.baseline().empty() && !names.count(spec.baseline())) {
    return problems.Field(
        "baseline", absl::StrCat("names no variant ('", spec.baseline(), "')"));
  }
  const v1::Sensitivity& s = spec.sensitivity();
  for (auto [field, value] : {std::pair{"sensitivity.traffic", s.traffic()},
                              {"sensitivity.chip_price", s.chip_price()},
                              {"sensitivity.energy_price", s.energy_price()}}) {
    if (!std::isfinite(value) || value < 0 || value >= 1) {
      return problems.Field(
          field, absl::StrCat("must be in [0, 1) (got ", value, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::StudySpec> LoadStudySpec(const std::string& path) {
  v1::StudySpec spec;
  FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(path, &spec));
  FLEETSIM_RETURN_IF_ERROR(ValidateStudySpec(spec, path));
  std::filesystem::path trace(spec.base().workload().trace_path());
  if (trace.is_relative()) {
    std::filesystem::path folder = std::filesystem::path(path).parent_path();
    spec.mutable_base()->mutable_workload()->set_trace_path(
        (folder / trace).lexically_normal().string());
  }
  return spec;
}

namespace {

// Site overrides without a source say where they came from, so the
// assumptions table never shows a figure without one.
void NameSources(const std::string& where, v1::SiteAssumptions* site) {
  for (v1::SourcedValue* value :
       {site->has_usd_per_kwh() ? site->mutable_usd_per_kwh() : nullptr,
        site->has_pue() ? site->mutable_pue() : nullptr,
        site->has_amortization_years() ? site->mutable_amortization_years()
                                       : nullptr,
        site->has_maintenance_fraction_per_year()
            ? site->mutable_maintenance_fraction_per_year()
            : nullptr}) {
    if (value != nullptr && value->source().empty())
      value->set_source(absl::StrCat("study assumption (", where, ")"));
  }
}

}  // namespace

v1::PlanRequest VariantRequest(const v1::StudySpec& spec,
                               const v1::StudyVariant& variant) {
  v1::PlanRequest request = spec.base();
  NameSources("base", request.mutable_site());
  v1::SiteAssumptions variant_site = variant.site();
  NameSources(absl::StrCat("variant '", variant.name(), "'"), &variant_site);
  request.clear_trace_bytes();
  request.clear_jobs();
  if (request.objective() == v1::PLAN_OBJECTIVE_UNSPECIFIED)
    request.set_objective(v1::PLAN_OBJECTIVE_TCO);
  if (variant.traffic_multiplier() > 0)
    ScaleTraffic(variant.traffic_multiplier(), request.mutable_workload());
  if (!variant.model().empty()) request.set_model(variant.model());
  if (!variant.slo_preset().empty()) {
    request.clear_slo();
    request.set_slo_preset(variant.slo_preset());
  } else if (!variant.slo().targets().empty()) {
    request.clear_slo_preset();
    *request.mutable_slo() = variant.slo();
  }
  if (!variant.chips().empty()) *request.mutable_chips() = variant.chips();
  if (!variant.modes().empty()) *request.mutable_modes() = variant.modes();
  if (variant.cost_basis() != v1::COST_BASIS_UNSPECIFIED)
    request.set_cost_basis(variant.cost_basis());
  request.mutable_site()->MergeFrom(variant_site);
  for (const v1::ChipPriceChange& change : variant.chip_prices())
    *request.add_chip_prices() = change;
  if (variant.budget_machines() > 0)
    request.set_budget_machines(variant.budget_machines());
  if (!variant.existing_pools().empty())
    *request.mutable_existing_pools() = variant.existing_pools();
  return request;
}

std::vector<std::string> DescribeChanges(const v1::StudyVariant& variant) {
  std::vector<std::string> changes;
  if (variant.traffic_multiplier() > 0 && variant.traffic_multiplier() != 1)
    changes.push_back(absl::StrCat("traffic x", variant.traffic_multiplier()));
  if (!variant.model().empty())
    changes.push_back(absl::StrCat("model ", variant.model()));
  if (!variant.slo_preset().empty())
    changes.push_back(absl::StrCat("SLO ", variant.slo_preset()));
  if (!variant.slo().targets().empty()) {
    changes.push_back(absl::StrCat("SLO ", variant.slo().name().empty()
                                               ? "(inline)"
                                               : variant.slo().name()));
  }
  if (!variant.chips().empty())
    changes.push_back(
        absl::StrCat("chips ", absl::StrJoin(variant.chips(), ",")));
  if (!variant.modes().empty()) {
    std::vector<std::string> modes;
    for (int mode : variant.modes()) {
      modes.push_back(mode == v1::SERVING_MODE_COLOCATED ? "colocated"
                                                         : "disaggregated");
    }
    changes.push_back(absl::StrCat("modes ", absl::StrJoin(modes, ",")));
  }
  if (variant.cost_basis() != v1::COST_BASIS_UNSPECIFIED) {
    changes.push_back(absl::StrCat(
        "cost basis ", economics::CostBasisName(variant.cost_basis())));
  }
  const v1::SiteAssumptions& site = variant.site();
  if (site.has_usd_per_kwh())
    changes.push_back(absl::StrCat("usd_per_kwh ", site.usd_per_kwh().value()));
  if (site.has_pue())
    changes.push_back(absl::StrCat("pue ", site.pue().value()));
  if (site.has_amortization_years()) {
    changes.push_back(
        absl::StrCat("amortization_years ", site.amortization_years().value()));
  }
  if (site.has_maintenance_fraction_per_year()) {
    changes.push_back(
        absl::StrCat("maintenance_fraction_per_year ",
                     site.maintenance_fraction_per_year().value()));
  }
  for (const v1::ChipPriceChange& change : variant.chip_prices()) {
    if (change.multiplier() > 0 && change.multiplier() != 1) {
      changes.push_back(
          absl::StrCat(change.chip(), " price x", change.multiplier()));
    }
    for (auto [name, has, value] :
         {std::tuple{"purchase_usd", change.has_purchase_usd(),
                     change.purchase_usd().value()},
          {"machine_platform_usd", change.has_machine_platform_usd(),
           change.machine_platform_usd().value()},
          {"rental_on_demand_usd_per_chip_hour",
           change.has_rental_on_demand_usd_per_chip_hour(),
           change.rental_on_demand_usd_per_chip_hour().value()},
          {"rental_reserved_usd_per_chip_hour",
           change.has_rental_reserved_usd_per_chip_hour(),
           change.rental_reserved_usd_per_chip_hour().value()}}) {
      if (has)
        changes.push_back(absl::StrCat(change.chip(), " ", name, " ", value));
    }
  }
  if (variant.budget_machines() > 0) {
    changes.push_back(
        absl::StrCat("budget ", variant.budget_machines(), " machines"));
  }
  if (!variant.existing_pools().empty()) {
    std::vector<std::string> pools;
    for (const v1::PlannedPool& pool : variant.existing_pools()) {
      pools.push_back(planner::PoolLayoutText(pool));
    }
    changes.push_back(
        absl::StrCat("extends owned ", absl::StrJoin(pools, " + ")));
  }
  if (changes.empty()) changes.push_back("as the base");
  return changes;
}

int BaselineIndex(const v1::StudySpec& spec) {
  for (int i = 0; i < spec.variants_size(); ++i) {
    if (spec.variants(i).name() == spec.baseline()) return i;
  }
  return 0;
}

void ScaleTraffic(double multiplier, v1::Workload* workload) {
  if (workload->arrival() != v1::ARRIVAL_PROCESS_UNSPECIFIED) {
    workload->set_rate_per_s(workload->rate_per_s() * multiplier);
  } else {
    double scale = workload->rate_scale() > 0 ? workload->rate_scale() : 1;
    workload->set_rate_scale(scale * multiplier);
  }
}

}  // namespace fleetsim::study
