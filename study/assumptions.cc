#include "study/assumptions.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "economics/price_changes.h"
#include "economics/pricing.h"
#include "economics/site_assumptions.h"
#include "hardware/chip_catalog.h"
#include "hardware/reference_machine.h"
#include "study/study_spec.h"
#include "util/status_macros.h"

namespace fleetsim::study {
namespace {

const char* UnitOf(const std::string& field) {
  if (field == "purchase_usd") return "$ per chip";
  if (field == "machine_platform_usd") return "$ per machine";
  if (field == "machine_platform_power_w") return "W per machine";
  if (field == "usd_per_kwh") return "$/kWh";
  if (field == "amortization_years") return "years";
  if (field == "maintenance_fraction_per_year") return "of capex per year";
  if (field == "pue") return "facility / IT power";
  return "$ per chip-hour";  // the rental rates
}

bool Same(const v1::SourcedValue& a, const v1::SourcedValue& b) {
  return a.value() == b.value() && a.source() == b.source() &&
         a.as_of() == b.as_of() && a.estimate() == b.estimate();
}

// Every SourcedValue field set in `message` (ChipPricing, SiteAssumptions),
// by field name, in field order.
std::vector<std::pair<std::string, v1::SourcedValue>> SourcedFields(
    const google::protobuf::Message& message) {
  std::vector<std::pair<std::string, v1::SourcedValue>> fields;
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (!reflection->HasField(message, field)) continue;
    fields.emplace_back(field->name(),
                        static_cast<const v1::SourcedValue&>(
                            reflection->GetMessage(message, field)));
  }
  return fields;
}

class Table {
 public:
  void Add(const std::string& item, const std::string& field,
           const std::string& scope, const v1::SourcedValue& value) {
    v1::Assumption row;
    row.set_item(item);
    row.set_scope(scope);
    *row.mutable_value() = value;
    row.set_unit(UnitOf(field));
    rows_.push_back(std::move(row));
  }
  // Rows for the die-basis cost of `chip`.
  void AddDieCost(const v1::Chip& chip, const std::string& scope) {
    v1::SourcedValue value;
    value.set_value(hardware::ManufacturingCostUsd(chip));
    value.set_source(
        chip.has_manufacturing_cost_usd()
            ? "chip catalog manufacturing_cost_usd"
            : "SPAD die-cost model (arXiv 2510.08544 section 6.1): dies per "
              "300 mm wafer at the wafer cost, plus memory $/GB");
    value.set_estimate(true);
    v1::Assumption row;
    row.set_item(absl::StrCat(chip.name(), " die + memory cost"));
    row.set_scope(scope);
    *row.mutable_value() = value;
    row.set_unit("$ per chip (die basis)");
    rows_.push_back(std::move(row));
  }
  std::vector<v1::Assumption>& rows() { return rows_; }

 private:
  std::vector<v1::Assumption> rows_;
};

// Rows for each chip whose prices `changes` alter against `catalog`.
absl::Status AddChanges(
    const google::protobuf::RepeatedPtrField<v1::ChipPriceChange>& changes,
    const hardware::ChipCatalog& catalog, bool die_basis,
    const std::string& scope, Table* table) {
  if (changes.empty()) return absl::OkStatus();
  hardware::ChipCatalog changed = catalog;
  FLEETSIM_RETURN_IF_ERROR(
      economics::ApplyPriceChanges(changes, scope, &changed));
  std::set<std::string> chips;
  for (const v1::ChipPriceChange& change : changes) chips.insert(change.chip());
  for (const std::string& name : chips) {
    const v1::Chip* before = *catalog.Find(name);
    const v1::Chip* after = *changed.Find(name);
    for (const auto& [field, value] : SourcedFields(after->pricing())) {
      bool same = false;
      for (const auto& [old_field, old_value] :
           SourcedFields(before->pricing()))
        same |= old_field == field && Same(old_value, value);
      if (!same)
        table->Add(absl::StrCat(name, " ", field), field, scope, value);
    }
    if (die_basis && hardware::ManufacturingCostUsd(*after) !=
                         hardware::ManufacturingCostUsd(*before)) {
      table->AddDieCost(*after, scope);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::Assumption>> CollectAssumptions(
    const v1::StudySpec& spec, const std::vector<v1::PlanRequest>& requests,
    const hardware::ChipCatalog& catalog, const std::string& data_dir) {
  Table table;
  FLEETSIM_ASSIGN_OR_RETURN(v1::SiteAssumptions defaults,
                            economics::LoadSiteAssumptions(data_dir));
  for (const auto& [field, value] : SourcedFields(defaults))
    table.Add(field, field, "site default", value);
  const v1::PlanRequest base = VariantRequest(spec, v1::StudyVariant());
  for (const auto& [field, value] : SourcedFields(base.site()))
    table.Add(field, field, "study base", value);
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string scope =
        absl::StrCat("variant '", spec.variants(i).name(), "'");
    // The variant's own overrides, as merged (with their sources named).
    const google::protobuf::Descriptor* site =
        v1::SiteAssumptions::descriptor();
    for (const auto& [field, value] : SourcedFields(requests[i].site())) {
      const v1::SiteAssumptions& own = spec.variants(i).site();
      if (own.GetReflection()->HasField(own, site->FindFieldByName(field)))
        table.Add(field, field, scope, value);
    }
  }

  std::set<std::string> chips;
  bool die_basis = false;
  for (const v1::PlanRequest& request : requests) {
    for (const std::string& chip : request.chips()) chips.insert(chip);
    if (request.chips().empty()) chips.insert(hardware::kReferenceChip);
    die_basis |=
        economics::Resolved(request.cost_basis()) == v1::COST_BASIS_DIE;
  }
  for (const std::string& name : chips) {
    FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* chip, catalog.Find(name));
    for (const auto& [field, value] : SourcedFields(chip->pricing()))
      table.Add(absl::StrCat(name, " ", field), field, "chip catalog", value);
    if (die_basis && hardware::ManufacturingCostUsd(*chip) > 0)
      table.AddDieCost(*chip, "chip catalog");
  }
  FLEETSIM_RETURN_IF_ERROR(
      AddChanges(base.chip_prices(), catalog, die_basis, "study base", &table));
  hardware::ChipCatalog base_catalog = catalog;
  FLEETSIM_RETURN_IF_ERROR(economics::ApplyPriceChanges(
      base.chip_prices(), "study base", &base_catalog));
  for (int i = 0; i < spec.variants_size(); ++i) {
    FLEETSIM_RETURN_IF_ERROR(AddChanges(
        spec.variants(i).chip_prices(), base_catalog, die_basis,
        absl::StrCat("variant '", spec.variants(i).name(), "'"), &table));
  }
  return std::move(table.rows());
}

}  // namespace fleetsim::study
