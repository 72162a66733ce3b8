// Re-allocation what-if (SPAD §7, Tables 7-8): a fixed fleet's machines
// may switch roles; find the split that sustains the highest rate.
#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "planner/candidate.h"
#include "planner/pareto.h"
#include "planner/planner.h"
#include "util/status_macros.h"

namespace fleetsim::planner {
namespace {

constexpr int kRateBisections = 6;        // ~1.5 % resolution on the rate
constexpr double kFirstRateIfUnset = 10;  // req/s, when the workload has none

struct ChipGroup {
  std::string chip;
  int machines = 0;
  bool prefill_home = false;  // the role it serves in the fixed fleet
};

// Splits SPAD considers: machines of one chip type move to the other role,
// the rest stay in their home role; each role keeps at least one machine.
std::vector<Candidate> Splits(const std::vector<ChipGroup>& groups, int tp) {
  std::vector<Candidate> out;
  for (size_t moving = 0; moving < groups.size(); ++moving) {
    for (int moved = 0; moved <= groups[moving].machines; ++moved) {
      if (moved == 0 && moving > 0) continue;  // the unchanged fleet once
      Candidate candidate;
      for (size_t g = 0; g < groups.size(); ++g) {
        int away = g == moving ? moved : 0;
        v1::PoolRole home = groups[g].prefill_home ? v1::POOL_ROLE_PREFILL
                                                   : v1::POOL_ROLE_DECODE;
        v1::PoolRole other = groups[g].prefill_home ? v1::POOL_ROLE_DECODE
                                                    : v1::POOL_ROLE_PREFILL;
        if (groups[g].machines - away > 0) {
          candidate.push_back(
              {home, groups[g].chip, groups[g].machines - away, tp});
        }
        if (away > 0) candidate.push_back({other, groups[g].chip, away, tp});
      }
      bool has_prefill = false, has_decode = false;
      for (const PoolChoice& p : candidate) {
        has_prefill |= p.role == v1::POOL_ROLE_PREFILL;
        has_decode |= p.role == v1::POOL_ROLE_DECODE;
      }
      if (has_prefill && has_decode) out.push_back(candidate);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::PlanResult> PlanReallocation(const v1::PlanRequest& request,
                                                const PlannerOptions& options) {
  auto start = std::chrono::steady_clock::now();
  FLEETSIM_ASSIGN_OR_RETURN(PlanContext base, PlanContextFor(request, options));
  const v1::Cluster& fixed = request.fixed_fleet();
  std::vector<ChipGroup> groups;
  int tp = 0;
  for (const v1::Pool& pool : fixed.pools()) {
    if (pool.role() != v1::POOL_ROLE_PREFILL &&
        pool.role() != v1::POOL_ROLE_DECODE) {
      return absl::InvalidArgumentError(
          "field 'fixed_fleet.pools.role': re-allocation needs prefill and "
          "decode pools");
    }
    FLEETSIM_RETURN_IF_ERROR(base.chips.Find(pool.machine().chip()).status());
    groups.push_back({pool.machine().chip(), pool.machines(),
                      pool.role() == v1::POOL_ROLE_PREFILL});
    if (pool.tp() > 0) tp = pool.tp();
    if (pool.machine().chips_per_machine() > 0) {
      base.chips_per_machine = pool.machine().chips_per_machine();
    }
  }
  if (tp == 0) tp = base.chips_per_machine;
  int total = 0;
  for (const ChipGroup& g : groups) total += g.machines;
  base.budget_machines = total;
  std::vector<Candidate> splits = Splits(groups, tp);
  if (splits.empty()) {
    return absl::InvalidArgumentError(
        "field 'fixed_fleet': no split keeps both roles served");
  }

  std::optional<LocalSimulationPool> local_pool;
  SimulationPool& pool = PoolFor(request, options, &local_pool);
  const int64_t started = pool.simulations();  // the pool may be shared
  // One evaluator per rate: a candidate's result depends on the rate.
  std::map<double, std::unique_ptr<PlanContext>> contexts;
  std::map<double, std::unique_ptr<CandidateEvaluator>> evaluators;
  auto evaluate = [&](double rate) -> absl::StatusOr<const Evaluation*> {
    if (!evaluators.count(rate)) {
      auto context = std::make_unique<PlanContext>(base);
      context->workload.set_arrival(base.workload.arrival() ==
                                            v1::ARRIVAL_PROCESS_UNSPECIFIED
                                        ? v1::ARRIVAL_PROCESS_POISSON
                                        : base.workload.arrival());
      context->workload.set_rate_per_s(rate);
      context->workload.set_rate_scale(0);
      context->workload.set_start_s(0);
      evaluators[rate] =
          std::make_unique<CandidateEvaluator>(context.get(), &pool);
      contexts[rate] = std::move(context);
    }
    CandidateEvaluator& evaluator = *evaluators[rate];
    FLEETSIM_RETURN_IF_ERROR(evaluator.EvaluateAll(splits));
    const Evaluation* best = nullptr;
    for (const Candidate& split : splits) {
      const Evaluation& e = evaluator.Get(split);
      if (e.fleet.feasible() &&
          (best == nullptr || e.miss_ratio < best->miss_ratio))
        best = &e;
    }
    if (options.progress) {
      v1::PlanProgress progress;
      progress.set_evaluated(static_cast<int>(pool.simulations() - started));
      progress.set_elapsed_s(std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
      progress.set_message(absl::StrCat(
          "rate ", rate, " req/s: ", best ? "sustained" : "not sustained"));
      options.progress(progress);
    }
    return best;
  };

  if (base.workload.duration_s() <= 0 && base.workload.max_requests() <= 0) {
    return absl::InvalidArgumentError(
        "field 'workload.duration_s': re-allocation resamples the trace at "
        "trial rates and "
        "needs a duration");
  }
  double rate = base.workload.rate_per_s() > 0 ? base.workload.rate_per_s()
                                               : kFirstRateIfUnset;
  double lo = 0, hi = 0;  // lo sustained (0 = none yet), hi not sustained
  const Evaluation* best_at_lo = nullptr;
  // Bracket, then bisect.
  for (int i = 0; i < 12 && (lo == 0 || hi == 0); ++i) {
    FLEETSIM_ASSIGN_OR_RETURN(const Evaluation* best, evaluate(rate));
    if (best) {
      lo = rate;
      best_at_lo = best;
      rate *= 2;
    } else {
      hi = rate;
      rate /= 2;
    }
    if (lo > 0 && hi > 0) break;
  }
  for (int i = 0; i < kRateBisections && lo > 0 && hi > 0; ++i) {
    double mid = (lo + hi) / 2;
    FLEETSIM_ASSIGN_OR_RETURN(const Evaluation* best, evaluate(mid));
    if (best) {
      lo = mid;
      best_at_lo = best;
    } else {
      hi = mid;
    }
  }

  v1::PlanResult result;
  result.set_simulations(static_cast<int>(pool.simulations() - started));
  if (best_at_lo == nullptr) {
    result.set_explanation(absl::StrCat(
        "no split of the fleet meets the SLO even at ", rate, " req/s"));
  } else {
    for (const auto& [key, e] : evaluators[lo]->all())
      *result.add_fleets() = e.fleet;
    FillFront(&result);
    *result.mutable_reallocation() = best_at_lo->fleet;
    result.set_max_rate_per_s(lo);
    std::vector<std::string> pools;
    for (const v1::PlannedPool& p : best_at_lo->fleet.pools()) {
      pools.push_back(absl::StrCat(p.machines(), " ", p.chip(), " ", p.role()));
    }
    result.set_explanation(
        absl::StrCat("best split ", absl::StrJoin(pools, " + "), " sustains ",
                     lo, " req/s (not sustained at ", hi, ")"));
  }
  result.set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return result;
}

}  // namespace fleetsim::planner
