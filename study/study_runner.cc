#include "study/study_runner.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "economics/pricing.h"
#include "economics/tco.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "planner/planner.h"
#include "planner/simulation_cache.h"
#include "study/assumptions.h"
#include "study/provenance.h"
#include "study/seeded_plan.h"
#include "study/study_spec.h"
#include "util/status_macros.h"

namespace fleetsim::study {
namespace {

// One plan of the study: a variant or a sensitivity swing.
struct PlanJob {
  std::string label;
  v1::PlanRequest request;
};

// The baseline re-planned with one input swung low and high.
struct Swing {
  std::string input;
  double multiplier;
};

absl::StatusOr<v1::PlanRequest> SwungRequest(const v1::PlanRequest& baseline,
                                             const Swing& swing,
                                             const std::string& data_dir) {
  v1::PlanRequest request = baseline;
  const std::string what =
      absl::StrCat("sensitivity: x", swing.multiplier, " ", swing.input);
  if (swing.input == "traffic") {
    ScaleTraffic(swing.multiplier, request.mutable_workload());
  } else if (swing.input == "chip_price") {
    std::vector<std::string> chips(request.chips().begin(),
                                   request.chips().end());
    if (chips.empty()) chips.push_back(hardware::kReferenceChip);
    for (const std::string& chip : chips) {
      v1::ChipPriceChange* change = request.add_chip_prices();
      change->set_chip(chip);
      change->set_multiplier(swing.multiplier);
    }
  } else {
    FLEETSIM_ASSIGN_OR_RETURN(
        economics::TcoSettings settings,
        economics::LoadTcoSettings(data_dir, request.cost_basis(),
                                   request.site(), "study"));
    v1::SourcedValue* kwh = request.mutable_site()->mutable_usd_per_kwh();
    *kwh = settings.site.usd_per_kwh();
    kwh->set_value(kwh->value() * swing.multiplier);
    kwh->set_source(absl::StrCat(what, " of: ", kwh->source()));
    kwh->set_estimate(true);
  }
  return request;
}

v1::Saving SavingAgainst(const v1::StudyVariantResult& baseline,
                         const v1::StudyVariantResult& variant) {
  v1::Saving saving;
  if (!baseline.feasible() || !variant.feasible()) {
    saving.set_reason(!baseline.feasible()
                          ? "the baseline has no fleet meeting the SLOs"
                          : "no fleet meets the SLOs");
    return saving;
  }
  const v1::Tco& base = baseline.recommended().tco();
  const v1::Tco& mine = variant.recommended().tco();
  if (base.cost_basis() != mine.cost_basis()) {
    saving.set_reason(absl::StrCat(
        "priced on the ", economics::CostBasisName(mine.cost_basis()),
        " basis, the baseline on ",
        economics::CostBasisName(base.cost_basis())));
    return saving;
  }
  if (base.amortization_years() != mine.amortization_years()) {
    saving.set_reason(absl::StrCat("TCO over ", mine.amortization_years(),
                                   " years, the baseline's over ",
                                   base.amortization_years()));
    return saving;
  }
  const double base_tco = baseline.recommended().tco_usd().median();
  const double tco = variant.recommended().tco_usd().median();
  saving.set_comparable(true);
  saving.set_tco_usd(base_tco - tco);
  saving.set_fraction(base_tco > 0 ? (base_tco - tco) / base_tco : 0);
  saving.set_facility_power_kw(
      baseline.recommended().facility_power_kw().median() -
      variant.recommended().facility_power_kw().median());
  return saving;
}

// options.catalogs, or those of options.data_dir when it has none.
absl::StatusOr<std::shared_ptr<const sim::Catalogs>> CatalogsOf(
    const StudyOptions& options) {
  if (options.catalogs != nullptr) return options.catalogs;
  return sim::Catalogs::Load(options.data_dir);
}

}  // namespace

std::string FleetText(const v1::StudyFleet& fleet) {
  std::vector<std::string> pools;
  for (const v1::PlannedPool& p : fleet.pools())
    pools.push_back(planner::PoolText(p));
  return absl::StrJoin(pools, " + ");
}

absl::StatusOr<v1::StudyResult> RunStudy(const v1::StudySpec& spec,
                                         const StudyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  FLEETSIM_RETURN_IF_ERROR(ValidateStudySpec(spec, "study"));
  if (options.seeds < 1 || options.seeds > kMaxStudySeeds) {
    return absl::InvalidArgumentError(absl::StrCat("seeds must be in [1, ",
                                                   kMaxStudySeeds, "] (got ",
                                                   options.seeds, ")"));
  }
  const uint64_t first_seed =
      spec.base().workload().seed() > 0 ? spec.base().workload().seed() : 1;
  std::vector<uint64_t> seeds;
  for (int i = 0; i < options.seeds; ++i) seeds.push_back(first_seed + i);
  if (seeds.size() > 1 &&
      spec.base().workload().arrival() == v1::ARRIVAL_PROCESS_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "seeds = ", seeds.size(),
        ": the base workload replays the trace's own timestamps, which are "
        "the same on every seed; set base.workload.arrival (POISSON or "
        "GAMMA) and rate_per_s to plan over arrival seeds"));
  }

  FLEETSIM_ASSIGN_OR_RETURN(const std::shared_ptr<const sim::Catalogs> catalogs,
                            CatalogsOf(options));

  // Every plan the study makes, checked before anything is simulated.
  const int baseline = BaselineIndex(spec);
  std::vector<PlanJob> jobs;
  for (const v1::StudyVariant& variant : spec.variants()) {
    v1::PlanRequest request = VariantRequest(spec, variant);
    request.set_jobs(options.jobs);
    absl::Status valid = planner::BuildPlanContext(request, *catalogs).status();
    if (!valid.ok()) {
      return absl::Status(
          valid.code(),
          absl::StrCat("variant '", variant.name(), "': ", valid.message()));
    }
    jobs.push_back({variant.name(), std::move(request)});
  }
  std::vector<Swing> swings;
  const v1::Sensitivity& s = spec.sensitivity();
  for (auto [input, swing] : {std::pair{"traffic", s.traffic()},
                              {"chip_price", s.chip_price()},
                              {"energy_price", s.energy_price()}}) {
    if (swing <= 0) continue;
    for (double m : {1 - swing, 1 + swing}) {
      swings.push_back({input, m});
      FLEETSIM_ASSIGN_OR_RETURN(v1::PlanRequest request,
                                SwungRequest(jobs[baseline].request,
                                             swings.back(), options.data_dir));
      jobs.push_back(
          {absl::StrCat("sensitivity ", input, " x", m), std::move(request)});
    }
  }

  planner::SimulationCache cache;
  planner::PlannerOptions planner_options;
  planner_options.data_dir = options.data_dir;
  planner_options.catalogs = catalogs;
  planner_options.cancelled = options.cancelled;
  planner_options.cache = &cache;
  planner_options.pool = options.pool;
  std::vector<v1::StudyVariantResult> outcomes;
  for (size_t i = 0; i < jobs.size(); ++i) {
    v1::StudyProgress progress;
    progress.set_variant(jobs[i].label);
    progress.set_variant_index(static_cast<int>(i));
    progress.set_variants(static_cast<int>(jobs.size()));
    SeedProgress on_seed = [&](uint64_t seed, const v1::PlanProgress& plan) {
      if (!options.progress) return;
      progress.set_seed(seed);
      *progress.mutable_plan() = plan;
      progress.set_elapsed_s(std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
      options.progress(progress);
    };
    FLEETSIM_ASSIGN_OR_RETURN(
        v1::StudyVariantResult outcome,
        PlanOverSeeds(jobs[i].request, seeds, planner_options, on_seed));
    outcomes.push_back(std::move(outcome));
  }

  v1::StudyResult result;
  *result.mutable_spec() = spec;
  result.set_baseline(spec.variants(baseline).name());
  for (int i = 0; i < spec.variants_size(); ++i) {
    v1::StudyVariantResult& v = outcomes[i];
    const v1::StudyVariant& variant = spec.variants(i);
    v.set_name(variant.name());
    const std::vector<std::string> changes = DescribeChanges(variant);
    for (const std::string& change : changes) v.add_changes(change);
    v.set_description(variant.description().empty()
                          ? absl::StrJoin(changes, ", ")
                          : variant.description());
    v.set_baseline(i == baseline);
    *v.mutable_saving() = SavingAgainst(outcomes[baseline], v);
  }
  for (int i = 0; i < spec.variants_size(); ++i)
    *result.add_variants() = outcomes[i];
  const v1::StudyVariantResult& base = outcomes[baseline];
  for (size_t k = 0; k + 1 < swings.size(); k += 2) {
    const v1::StudyVariantResult& low = outcomes[spec.variants_size() + k];
    const v1::StudyVariantResult& high = outcomes[spec.variants_size() + k + 1];
    v1::SensitivityBar* bar = result.add_sensitivity();
    bar->set_input(swings[k].input);
    bar->set_label(absl::StrCat(swings[k].input, " x", swings[k].multiplier,
                                " / x", swings[k + 1].multiplier));
    bar->set_low_multiplier(swings[k].multiplier);
    bar->set_high_multiplier(swings[k + 1].multiplier);
    const double base_tco = base.recommended().tco_usd().median();
    bar->set_base_tco_usd(base_tco);
    bar->set_low_feasible(low.feasible() && base.feasible());
    bar->set_high_feasible(high.feasible() && base.feasible());
    if (bar->low_feasible()) {
      bar->set_low_tco_usd(low.recommended().tco_usd().median());
      bar->set_low_delta_usd(bar->low_tco_usd() - base_tco);
      bar->set_low_fleet(FleetText(low.recommended()));
    }
    if (bar->high_feasible()) {
      bar->set_high_tco_usd(high.recommended().tco_usd().median());
      bar->set_high_delta_usd(bar->high_tco_usd() - base_tco);
      bar->set_high_fleet(FleetText(high.recommended()));
    }
  }
  int run = 0, reused = 0;
  for (const v1::StudyVariantResult& outcome : outcomes) {
    run += outcome.simulations_run();
    reused += outcome.simulations_reused();
  }
  result.set_simulations_run(run);
  result.set_simulations_reused(reused);
  std::vector<v1::PlanRequest> requests;
  for (int i = 0; i < spec.variants_size(); ++i)
    requests.push_back(jobs[i].request);
  FLEETSIM_ASSIGN_OR_RETURN(
      std::vector<v1::Assumption> assumptions,
      CollectAssumptions(spec, requests, catalogs->chips(), options.data_dir));
  for (v1::Assumption& row : assumptions)
    *result.add_assumptions() = std::move(row);
  FLEETSIM_ASSIGN_OR_RETURN(
      *result.mutable_provenance(),
      MakeProvenance(spec, requests, seeds, options.data_dir, options.spec_path,
                     options.command_line));
  result.set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return result;
}

}  // namespace fleetsim::study
