#include "study/seeded_plan.h"

#include <chrono>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "planner/candidate.h"
#include "planner/pareto.h"
#include "study/fleet_summary.h"
#include "util/status_macros.h"

namespace fleetsim::study {
namespace {

int Machines(const v1::PlannedFleet& fleet) {
  int machines = 0;
  for (const v1::PlannedPool& pool : fleet.pools()) machines += pool.machines();
  return machines;
}

// The fleets one seed's plan puts forward, without repeats.
class ComparedFleets {
 public:
  absl::Status Add(const v1::PlannedFleet& fleet) {
    if (!fleet.feasible() || fleet.pools().empty()) return absl::OkStatus();
    FLEETSIM_ASSIGN_OR_RETURN(planner::Candidate candidate,
                              planner::CandidateOf(fleet));
    if (keys_.insert(planner::CandidateKey(candidate)).second)
      fleets_.push_back(fleet);
    return absl::OkStatus();
  }
  const std::vector<v1::PlannedFleet>& fleets() const { return fleets_; }

 private:
  std::set<std::string> keys_;
  std::vector<v1::PlannedFleet> fleets_;
};

}  // namespace

absl::StatusOr<v1::StudyVariantResult> PlanOverSeeds(
    const v1::PlanRequest& request, const std::vector<uint64_t>& seeds,
    const planner::PlannerOptions& options, const SeedProgress& progress) {
  if (options.cache == nullptr || seeds.empty()) {
    return absl::InvalidArgumentError(
        "PlanOverSeeds needs a simulation cache and at least one seed");
  }
  const auto start = std::chrono::steady_clock::now();
  const size_t cache_size = options.cache->size();
  const int64_t cache_hits = options.cache->hits();
  v1::StudyVariantResult out;
  for (uint64_t seed : seeds) out.add_seeds(seed);
  std::vector<v1::PlanRequest> requests;
  for (uint64_t seed : seeds) {
    requests.push_back(request);
    requests.back().mutable_workload()->set_seed(seed);
  }
  *out.mutable_request() = requests.front();
  FLEETSIM_ASSIGN_OR_RETURN(double rate,
                            planner::OfferedRatePerS(request.workload()));
  out.set_offered_rate_per_s(rate);

  ComparedFleets compared;
  std::vector<std::string> notes;
  std::vector<double> machines;
  for (size_t i = 0; i < seeds.size(); ++i) {
    planner::PlannerOptions seed_options = options;
    const uint64_t seed = seeds[i];
    seed_options.progress = [&progress, seed](const v1::PlanProgress& p) {
      if (progress) progress(seed, p);
    };
    FLEETSIM_ASSIGN_OR_RETURN(v1::PlanResult plan,
                              planner::PlanFleet(requests[i], seed_options));
    if (!plan.explanation().empty())
      notes.push_back(absl::StrCat("seed ", seed, ": ", plan.explanation()));
    if (!plan.feasible()) continue;
    FLEETSIM_RETURN_IF_ERROR(compared.Add(plan.recommended()));
    for (const v1::PlannedFleet& fleet : plan.best_per_system())
      FLEETSIM_RETURN_IF_ERROR(compared.Add(fleet));
    for (const v1::PlannedFleet& fleet : plan.pareto())
      FLEETSIM_RETURN_IF_ERROR(compared.Add(fleet));
    out.add_machines_per_seed(Machines(plan.recommended()));
    machines.push_back(Machines(plan.recommended()));
  }
  *out.mutable_machines() = SpreadOf(machines);

  // Every compared fleet on every seed (its own seed's run is a cache hit).
  std::vector<std::vector<v1::PlannedFleet>> by_fleet(compared.fleets().size());
  if (!compared.fleets().empty()) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      FLEETSIM_ASSIGN_OR_RETURN(
          std::vector<v1::PlannedFleet> evaluated,
          planner::EvaluateFleets(requests[i], compared.fleets(), options));
      for (size_t j = 0; j < evaluated.size(); ++j)
        by_fleet[j].push_back(std::move(evaluated[j]));
    }
  }
  v1::PlanResult robust;  // the robust fleets, as planner::Recommend reads them
  std::vector<int> robust_index;
  for (size_t j = 0; j < by_fleet.size(); ++j) {
    *out.add_fleets() = SummarizeFleet(by_fleet[j], seeds);
    if (!out.fleets().rbegin()->robust()) continue;
    v1::PlannedFleet representative = MedianSeedFleet(by_fleet[j]);
    representative.set_feasible(true);
    *robust.add_fleets() = std::move(representative);
    robust_index.push_back(static_cast<int>(j));
  }
  std::vector<v1::StudyFleet*> all;
  for (v1::StudyFleet& fleet : *out.mutable_fleets()) all.push_back(&fleet);
  MarkFront(all);
  planner::Recommend(request.objective(), &robust);
  if (robust.has_recommended()) {
    FLEETSIM_ASSIGN_OR_RETURN(planner::Candidate chosen,
                              planner::CandidateOf(robust.recommended()));
    for (int j : robust_index) {
      if (out.fleets(j).key() == planner::CandidateKey(chosen))
        *out.mutable_recommended() = out.fleets(j);
    }
  }
  out.set_feasible(out.has_recommended());
  if (!out.feasible() && !compared.fleets().empty()) {
    notes.insert(notes.begin(),
                 absl::StrCat("no fleet met the SLOs on all ", seeds.size(),
                              " seeds; each seed's best fleets were tried on "
                              "the others"));
  }
  out.set_explanation(absl::StrJoin(notes, "; "));
  out.set_simulations_run(static_cast<int>(options.cache->size() - cache_size));
  out.set_simulations_reused(
      static_cast<int>(options.cache->hits() - cache_hits));
  out.set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return out;
}

}  // namespace fleetsim::study
