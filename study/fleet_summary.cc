#include "study/fleet_summary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "planner/candidate.h"
#include "util/distribution.h"

namespace fleetsim::study {
namespace {

// Collects one value per seed for each figure, then spreads them.
struct SeedValues {
  std::vector<double> tco, capex, opex, facility_kw, usd_per_hour, usd_per_mtok;
  std::vector<double> ttft_p99, tbt_p99, e2e_p99;
};

}  // namespace

v1::Spread SpreadOf(std::vector<double> values) {
  v1::Spread spread;
  if (values.empty()) return spread;
  std::sort(values.begin(), values.end());
  spread.set_min(values.front());
  spread.set_median(PercentileOfSorted(values, 50));
  spread.set_max(values.back());
  return spread;
}

const v1::PlannedFleet& MedianSeedFleet(
    const std::vector<v1::PlannedFleet>& per_seed) {
  std::vector<const v1::PlannedFleet*> order;
  for (const v1::PlannedFleet& fleet : per_seed) {
    if (fleet.has_result()) order.push_back(&fleet);
  }
  if (order.empty()) return per_seed.front();
  std::stable_sort(order.begin(), order.end(),
                   [](const v1::PlannedFleet* a, const v1::PlannedFleet* b) {
                     return a->result().tco().tco_usd() <
                            b->result().tco().tco_usd();
                   });
  return *order[(order.size() - 1) / 2];
}

v1::StudyFleet SummarizeFleet(const std::vector<v1::PlannedFleet>& per_seed,
                              const std::vector<uint64_t>& seeds) {
  v1::StudyFleet out;
  const v1::PlannedFleet& first = per_seed.front();
  out.set_system(first.system());
  *out.mutable_pools() = first.pools();
  int machines = 0;
  for (const v1::PlannedPool& pool : first.pools()) machines += pool.machines();
  absl::StatusOr<planner::Candidate> candidate = planner::CandidateOf(first);
  if (candidate.ok()) out.set_key(planner::CandidateKey(*candidate));
  out.set_machines(machines);

  SeedValues v;
  // SLO targets and pools keep the first simulated seed's order.
  std::vector<std::vector<double>> slo_observed, slo_fraction;
  std::vector<bool> slo_met;
  std::vector<std::vector<double>> busy;
  int seeds_met = 0;
  double worst_miss_fraction = -1;
  for (size_t i = 0; i < per_seed.size(); ++i) {
    const v1::PlannedFleet& fleet = per_seed[i];
    if (fleet.feasible()) {
      ++seeds_met;
    } else if (!fleet.miss().empty()) {
      // The worst miss: the failing seed with the largest SLO overshoot.
      double fraction = 0;
      for (const v1::SloAttainment& a : fleet.result().slo()) {
        if (a.limit() > 0)
          fraction = std::max(fraction, a.observed() / a.limit());
      }
      if (fraction > worst_miss_fraction) {
        worst_miss_fraction = fraction;
        out.set_miss(absl::StrCat("seed ", seeds[i], ": ", fleet.miss()));
      }
    }
    if (!fleet.has_result()) continue;
    const v1::SimulationResult& r = fleet.result();
    const v1::Tco& t = r.tco();
    v.tco.push_back(t.tco_usd());
    v.capex.push_back(t.capex_usd());
    v.opex.push_back(t.opex_usd_per_year());
    v.facility_kw.push_back(t.facility_power_w() / 1000);
    v.usd_per_hour.push_back(t.usd_per_hour());
    v.usd_per_mtok.push_back(t.usd_per_million_output_tokens());
    v.ttft_p99.push_back(r.ttft_s().p99());
    v.tbt_p99.push_back(r.tbt_s().p99());
    v.e2e_p99.push_back(r.e2e_s().p99());
    if (slo_observed.empty()) {
      slo_observed.resize(r.slo_size());
      slo_fraction.resize(r.slo_size());
      slo_met.assign(r.slo_size(), true);
      for (const v1::SloAttainment& a : r.slo()) {
        v1::SloSpread* s = out.add_slo();
        s->set_metric(a.metric());
        s->set_percentile(a.percentile());
        s->set_limit(a.limit());
        s->set_slowdown(a.bound_s() == 0);
      }
      busy.resize(r.pools_size());
      for (const v1::PoolUsage& u : r.pools()) {
        v1::PoolSpread* p = out.add_utilisation();
        p->set_name(u.name());
        p->set_role(u.role());
        p->set_chip(u.chip());
        p->set_machines(u.machines());
      }
    }
    for (int j = 0;
         j < r.slo_size() && j < static_cast<int>(slo_observed.size()); ++j) {
      const v1::SloAttainment& a = r.slo(j);
      slo_observed[j].push_back(a.observed());
      slo_fraction[j].push_back(a.limit() > 0 ? a.observed() / a.limit() : 0);
      if (!a.met()) slo_met[j] = false;
    }
    for (int j = 0; j < r.pools_size() && j < static_cast<int>(busy.size());
         ++j)
      busy[j].push_back(r.pools(j).busy_fraction());
  }
  out.set_seeds_met(seeds_met);
  out.set_robust(seeds_met == static_cast<int>(per_seed.size()));
  *out.mutable_tco_usd() = SpreadOf(v.tco);
  *out.mutable_capex_usd() = SpreadOf(v.capex);
  *out.mutable_opex_usd_per_year() = SpreadOf(v.opex);
  *out.mutable_facility_power_kw() = SpreadOf(v.facility_kw);
  *out.mutable_usd_per_hour() = SpreadOf(v.usd_per_hour);
  *out.mutable_usd_per_million_output_tokens() = SpreadOf(v.usd_per_mtok);
  *out.mutable_ttft_p99_s() = SpreadOf(v.ttft_p99);
  *out.mutable_tbt_p99_s() = SpreadOf(v.tbt_p99);
  *out.mutable_e2e_p99_s() = SpreadOf(v.e2e_p99);
  for (int j = 0; j < out.slo_size(); ++j) {
    v1::SloSpread* s = out.mutable_slo(j);
    *s->mutable_observed() = SpreadOf(slo_observed[j]);
    *s->mutable_fraction_of_limit() = SpreadOf(slo_fraction[j]);
    s->set_met_every_seed(slo_met[j] &&
                          slo_observed[j].size() == per_seed.size());
  }
  for (int j = 0; j < out.utilisation_size(); ++j)
    *out.mutable_utilisation(j)->mutable_busy_fraction() = SpreadOf(busy[j]);
  const v1::PlannedFleet& median = MedianSeedFleet(per_seed);
  if (median.has_result()) *out.mutable_tco() = median.result().tco();
  return out;
}

void MarkFront(std::vector<v1::StudyFleet*> fleets) {
  for (v1::StudyFleet* a : fleets) {
    if (!a->robust()) continue;
    bool dominated = false;
    for (const v1::StudyFleet* b : fleets) {
      if (b == a || !b->robust()) continue;
      const double at = a->tco_usd().median(), bt = b->tco_usd().median();
      const double ak = a->facility_power_kw().median(),
                   bk = b->facility_power_kw().median();
      if (bt <= at && bk <= ak && (bt < at || bk < ak)) {
        dominated = true;
        break;
      }
    }
    a->set_on_front(!dominated);
  }
}

}  // namespace fleetsim::study
