#include "planner/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "economics/pricing.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "planner/capacity_bounds.h"
#include "planner/pareto.h"
#include "planner/speculation.h"
#include "planner/staircase_search.h"
#include "util/status_macros.h"

namespace fleetsim::planner {
namespace {

// One system the planner sizes: a serving mode, its chips and the layout of
// each role's pool.
struct SystemSpec {
  v1::ServingMode mode = v1::SERVING_MODE_COLOCATED;
  std::string prefill_chip;  // colocated: the only chip
  std::string decode_chip;
  Layout prefill;  // colocated: the only layout
  Layout decode;
};

// Searches one system's minimal fleets (see planner.h): a StaircaseSearch
// on machine counts, its probes turned into fleets. A pool whose instances
// span machines (Layout::machines) is searched in whole instances: its
// staircase counts instances, its fleets machines.
class SystemSearch {
 public:
  SystemSearch(SystemSpec spec, const PlanContext* context,
               CapacityBounds prefill_chip_bounds,
               CapacityBounds decode_chip_bounds, NeighbourHints* hints)
      : spec_(std::move(spec)),
        context_(context),
        search_(StaircaseSearch::Colocated(0, 0)),
        p_unit_(spec_.prefill.machines),
        d_unit_(spec_.decode.machines) {
    const int budget = context->budget_machines;
    // Extending an owned fleet, adding nothing may already do; the capacity
    // bounds are of a fleet built from nothing.
    const bool extending = !context->existing.empty();
    auto lower_bound = [extending](double machines, int unit) {
      return extending
                 ? 0
                 : std::max(1, static_cast<int>(std::floor(machines / unit)));
    };
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      const int lb = lower_bound(prefill_chip_bounds.prefill_machines +
                                     prefill_chip_bounds.decode_machines,
                                 p_unit_);
      search_ = StaircaseSearch::Colocated(std::min(lb, budget / p_unit_),
                                           budget / p_unit_);
      return;
    }
    const int p_lb =
        std::min(lower_bound(prefill_chip_bounds.prefill_machines, p_unit_),
                 (budget - d_unit_) / p_unit_);
    const int d_lb =
        std::min(lower_bound(decode_chip_bounds.decode_machines, d_unit_),
                 (budget - p_unit_) / d_unit_);
    search_ = StaircaseSearch(
        p_lb, std::max(p_lb, (budget - d_lb * d_unit_) / p_unit_), d_lb,
        std::max(d_lb, (budget - p_lb * p_unit_) / d_unit_),
        absl::StrCat(spec_.prefill_chip, " ",
                     LayoutText(spec_.prefill.tp, spec_.prefill.ep)),
        absl::StrCat(spec_.decode_chip, " ",
                     LayoutText(spec_.decode.tp, spec_.decode.ep)),
        [this](int p, int d, const std::vector<StaircaseSearch::Point>& found) {
          return Dominated(p, d, found);
        },
        hints);
  }
  // Not movable: the search registers its address with the hints, and
  // calls back Dominated on this.
  SystemSearch(const SystemSearch&) = delete;
  SystemSearch& operator=(const SystemSearch&) = delete;

  // Registers with the neighbour hints; call once in place.
  void Start() { search_.Start(); }

  const SystemSpec& spec() const { return spec_; }
  bool done() const { return search_.done(); }
  // Waiting for a neighbour's answer: nothing to simulate this round.
  bool waiting() const { return search_.waiting(); }

  // The fleet to simulate next. REQUIRES: !done() && !waiting().
  Candidate Probe() const { return FleetAt(search_.next()); }

  // Reads back the evaluation of Probe() (if one was asked) and advances,
  // or looks again for the neighbour's answer it waits for.
  void Absorb(const CandidateEvaluator& evaluator) {
    std::optional<bool> feasible;
    if (!done() && !waiting())
      feasible = evaluator.Get(FleetAt(search_.next())).slo_met;
    search_.Record(feasible);
  }

  // Fleets this search may ask for next, by level
  // (StaircaseSearch::Speculate).
  WhatIfLevels Speculate(int levels) const {
    WhatIfLevels out;
    for (const auto& level : search_.Speculate(levels)) {
      out.emplace_back();
      for (StaircaseSearch::Point point : level)
        out.back().push_back(FleetAt(point));
    }
    return out;
  }

 private:
  // The owned pools, if any, then the machines added (a pool of none is
  // left out).
  Candidate FleetAt(StaircaseSearch::Point point) const {
    Candidate candidate = context_->existing;
    const int p = point.first * p_unit_;
    const int d = point.second * d_unit_;
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      if (p > 0)
        candidate.push_back({v1::POOL_ROLE_COLOCATED, spec_.prefill_chip, p,
                             spec_.prefill.tp, false, spec_.prefill.ep});
      return candidate;
    }
    if (p > 0)
      candidate.push_back({v1::POOL_ROLE_PREFILL, spec_.prefill_chip, p,
                           spec_.prefill.tp, false, spec_.prefill.ep});
    if (d > 0)
      candidate.push_back({v1::POOL_ROLE_DECODE, spec_.decode_chip, d,
                           spec_.decode.tp, false, spec_.decode.ep});
    return candidate;
  }

  // Whether a staircase point found costs no more and draws no more TDP
  // than (p, d), on the plan's cost basis (prices were checked when the
  // context was built).
  bool Dominated(int p, int d,
                 const std::vector<StaircaseSearch::Point>& staircase) const {
    const v1::Chip* pc = *context_->chips.Find(spec_.prefill_chip);
    const v1::Chip* dc = *context_->chips.Find(spec_.decode_chip);
    const economics::PriceOnBasis p_price =
        *economics::ChipPriceOnBasis(*pc, context_->tco.basis);
    const economics::PriceOnBasis d_price =
        *economics::ChipPriceOnBasis(*dc, context_->tco.basis);
    const int p_chips = context_->MachineChips(*pc);
    const int d_chips = context_->MachineChips(*dc);
    auto cost_of = [&](int prefill, int decode) {
      return economics::MachinesPrice(p_price, prefill, p_chips) +
             economics::MachinesPrice(d_price, decode, d_chips);
    };
    auto tdp_of = [&](int prefill, int decode) {
      return prefill * p_chips * pc->tdp_w() + decode * d_chips * dc->tdp_w();
    };
    double cost = cost_of(p * p_unit_, d * d_unit_);
    double tdp = tdp_of(p * p_unit_, d * d_unit_);
    for (auto [sp, sd] : staircase) {
      const int prefill = sp * p_unit_;
      const int decode = sd * d_unit_;
      if (prefill + decode > context_->budget_machines) continue;
      if (cost_of(prefill, decode) <= cost && tdp_of(prefill, decode) <= tdp)
        return true;
    }
    return false;
  }

  SystemSpec spec_;
  const PlanContext* context_;
  StaircaseSearch search_;
  int p_unit_;  // machines per step of the staircase: one instance's
  int d_unit_;
};

// Every system a plan searches: per TP degree, one per chip (colocated) or
// chip pair (disaggregated) in each mode, then an MoE model's
// expert-parallel ones. A chip that cannot hold the model in a layout is
// named in `skipped`.
std::vector<std::unique_ptr<SystemSearch>> Systems(
    const PlanContext& context, const std::vector<std::string>& chips,
    const std::vector<v1::ServingMode>& modes, const std::vector<int>& tps,
    const Demand& demand, NeighbourHints* hints,
    std::vector<std::string>* skipped) {
  std::vector<std::unique_ptr<SystemSearch>> searches;
  // A diffusion LM is served colocated only (sim/diffusion_serving.h): its
  // disaggregated systems would each be refused fleet by fleet.
  std::vector<v1::ServingMode> served;
  for (v1::ServingMode mode : modes) {
    if (mode == v1::SERVING_MODE_DISAGGREGATED &&
        context.model.has_diffusion()) {
      skipped->push_back(
          "disaggregated: a diffusion LM is not simulated on disaggregated "
          "pools");
      continue;
    }
    served.push_back(mode);
  }
  // One system per chip (colocated) or chip pair (disaggregated) per mode.
  auto add_systems = [&](const std::map<std::string, ChipLayouts>& layouts) {
    for (v1::ServingMode mode : served) {
      for (const auto& [prefill_chip, p] : layouts) {
        if (mode == v1::SERVING_MODE_COLOCATED) {
          searches.push_back(std::make_unique<SystemSearch>(
              SystemSpec{mode, prefill_chip, prefill_chip, p.colocated,
                         p.colocated},
              &context, p.colocated_bounds, p.colocated_bounds, hints));
          continue;
        }
        for (const auto& [decode_chip, d] : layouts) {
          // Instances spanning machines: one of each role may not fit.
          const int smallest = p.prefill.machines + d.decode.machines;
          if (smallest > context.budget_machines) {
            skipped->push_back(
                absl::StrCat("disaggregated ", prefill_chip, "->", decode_chip,
                             " ", LayoutText(p.prefill.tp, p.prefill.ep), "->",
                             LayoutText(d.decode.tp, d.decode.ep),
                             ": one instance per role "
                             "takes ",
                             smallest, " machines, over the budget of ",
                             context.budget_machines));
            continue;
          }
          searches.push_back(std::make_unique<SystemSearch>(
              SystemSpec{mode, prefill_chip, decode_chip, p.prefill, d.decode},
              &context, p.prefill_bounds, d.decode_bounds, hints));
        }
      }
    }
  };
  for (int tp : tps) {
    std::map<std::string, ChipLayouts> layouts;
    for (const std::string& chip : chips) {
      absl::StatusOr<CapacityBounds> b =
          EstimateCapacity(context, chip, {tp, 1}, demand);
      if (!b.ok()) {
        skipped->push_back(
            absl::StrCat(chip, " tp", tp, ": ", b.status().message()));
        continue;
      }
      layouts[chip] = ChipLayouts::Uniform({tp, 1}, *b);
    }
    add_systems(layouts);
  }
  // An MoE model's expert-parallel systems beside those (docs/planner.md).
  std::map<std::string, ChipLayouts> expert_parallel;
  for (const std::string& chip : chips) {
    absl::StatusOr<const v1::Chip*> found = context.chips.Find(chip);
    if (!found.ok()) continue;  // skipped above
    const std::vector<Layout> layouts = ExpertParallelLayouts(context, **found);
    if (layouts.empty()) continue;
    absl::StatusOr<ChipLayouts> chosen =
        ChooseExpertParallel(context, chip, layouts, demand);
    // When no layout within one machine resolves (the model does not fit
    // it), instances span the fewest whole machines that hold one.
    for (int machines = 2; !chosen.ok() && machines <= context.budget_machines;
         machines *= 2) {
      const std::vector<Layout> across =
          ExpertParallelLayouts(context, **found, machines);
      if (across.empty()) break;
      absl::StatusOr<ChipLayouts> spanning =
          ChooseExpertParallel(context, chip, across, demand);
      if (spanning.ok()) chosen = *std::move(spanning);
    }
    if (!chosen.ok()) {
      skipped->push_back(absl::StrCat(chip, " ep", layouts[0].ep, ": ",
                                      chosen.status().message()));
      continue;
    }
    expert_parallel[chip] = *chosen;
  }
  add_systems(expert_parallel);
  // In order: the first system of each pool leads its neighbours.
  for (const auto& search : searches) search->Start();
  return searches;
}

// Up to `count` fleets not yet simulated that the searches may ask for
// next, in whole levels (planner/speculation.h).
std::vector<Candidate> Speculation(
    const std::vector<std::unique_ptr<SystemSearch>>& searches,
    const CandidateEvaluator& evaluator, size_t count) {
  constexpr int kLevels = 3;  // up to 2 + 4 + 8 what-ifs per search
  std::vector<WhatIfLevels> per_search;
  for (const auto& s : searches) {
    if (!s->done() && !s->waiting())
      per_search.push_back(s->Speculate(kLevels));
  }
  return WholeLevels(per_search, count, [&](const Candidate& c) {
    return evaluator.HasOrAside(c);
  });
}

// Describes the closest miss among evaluated fleets within the budget.
std::string ExplainInfeasible(const CandidateEvaluator& evaluator, int budget) {
  const Evaluation* best = nullptr;
  std::string build_errors;
  for (const auto& [key, evaluation] : evaluator.all()) {
    int machines = 0;  // added ones: the budget's count
    for (const v1::PlannedPool& pool : evaluation.fleet.pools())
      machines += pool.owned() ? 0 : pool.machines();
    if (!evaluation.fleet.has_result()) {
      if (build_errors.empty()) build_errors = evaluation.fleet.miss();
      continue;
    }
    if (machines > budget) continue;
    if (best == nullptr || evaluation.miss_ratio < best->miss_ratio)
      best = &evaluation;
  }
  if (best == nullptr) {
    return build_errors.empty()
               ? "no candidate fleet could be simulated"
               : absl::StrCat("no candidate fleet can hold the model: ",
                              build_errors);
  }
  std::vector<std::string> pools;
  int machines = 0;
  for (const v1::PlannedPool& pool : best->fleet.pools()) {
    pools.push_back(PoolText(pool));
    machines += pool.owned() ? 0 : pool.machines();
  }
  return absl::StrCat(
      "no fleet within the budget of ", budget,
      " machines meets the SLO; closest: ", absl::StrJoin(pools, " + "), " (",
      machines, " machines) misses ", best->fleet.miss());
}

}  // namespace

absl::StatusOr<PlanContext> PlanContextFor(const v1::PlanRequest& request,
                                           const PlannerOptions& options) {
  if (options.catalogs != nullptr) {
    return BuildPlanContext(request, *options.catalogs);
  }
  return BuildPlanContext(request, options.data_dir);
}

SimulationPool& PoolFor(const v1::PlanRequest& request,
                        const PlannerOptions& options,
                        std::optional<LocalSimulationPool>* local) {
  SimulationPool* pool = options.pool;
  if (pool == nullptr) pool = &local->emplace(request.jobs());
  pool->set_cancelled(options.cancelled);
  return *pool;
}

int SearchWidth(const v1::PlanRequest& request, const SimulationPool& pool) {
  return request.jobs() > 0 ? request.jobs() : pool.slots();
}

absl::StatusOr<v1::PlanResult> PlanFleet(const v1::PlanRequest& request,
                                         const PlannerOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (request.has_fixed_fleet()) return PlanReallocation(request, options);
  FLEETSIM_ASSIGN_OR_RETURN(PlanContext context,
                            PlanContextFor(request, options));
  FLEETSIM_ASSIGN_OR_RETURN(Demand demand, MeasureDemand(context.workload));

  std::vector<std::string> chips(request.chips().begin(),
                                 request.chips().end());
  if (chips.empty()) chips.push_back(hardware::kReferenceChip);
  std::vector<v1::ServingMode> modes;
  for (int mode : request.modes())
    modes.push_back(static_cast<v1::ServingMode>(mode));
  if (modes.empty())
    modes = {v1::SERVING_MODE_COLOCATED, v1::SERVING_MODE_DISAGGREGATED};
  if (!context.existing.empty()) {
    // Colocated pools cannot share a fleet with prefill/decode ones
    // (sim/fleet.h), so additions serve in the owned fleet's mode.
    const v1::ServingMode owned_mode =
        context.existing[0].role == v1::POOL_ROLE_COLOCATED
            ? v1::SERVING_MODE_COLOCATED
            : v1::SERVING_MODE_DISAGGREGATED;
    if (std::find(modes.begin(), modes.end(), owned_mode) == modes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field 'modes' (--modes): the existing fleet serves ",
          owned_mode == v1::SERVING_MODE_COLOCATED ? "colocated"
                                                   : "disaggregated",
          " and what is added must serve the same way"));
    }
    modes = {owned_mode};
  }
  std::vector<int> tps(request.tp().begin(), request.tp().end());
  // Default TP: the machine when the request sets one, else an HGX's 8
  // (which divides every catalog chip's machine: 8, 72, 384).
  if (tps.empty()) {
    tps.push_back(context.chips_per_machine > 0
                      ? context.chips_per_machine
                      : hardware::kDefaultChipsPerMachine);
  }

  std::vector<std::string> skipped;
  NeighbourHints hints;
  std::vector<std::unique_ptr<SystemSearch>> searches =
      Systems(context, chips, modes, tps, demand, &hints, &skipped);

  std::optional<LocalSimulationPool> local_pool;
  SimulationPool& pool = PoolFor(request, options, &local_pool);
  CandidateEvaluator evaluator(&context, &pool, options.cache);
  const size_t slots = static_cast<size_t>(SearchWidth(request, pool));
  // Each round, every unfinished search asks for one fleet; slots left
  // over run the fleets the searches may ask for next (kept aside until
  // asked for, so the plan does not depend on the width).
  int active = 0;
  for (const auto& s : searches) active += s->done() ? 0 : 1;
  while (active > 0) {
    std::vector<Candidate> probes;
    for (const auto& s : searches) {
      if (!s->done() && !s->waiting()) probes.push_back(s->Probe());
    }
    if (probes.empty()) {  // every search waits for another: a bug
      return absl::InternalError(
          "planner search stalled: every unfinished "
          "system waits for a neighbour's answer");
    }
    std::vector<Candidate> speculative =
        probes.size() < slots
            ? Speculation(searches, evaluator, slots - probes.size())
            : std::vector<Candidate>();
    FLEETSIM_RETURN_IF_ERROR(evaluator.EvaluateAll(probes, speculative));
    active = 0;
    for (const auto& s : searches) {
      s->Absorb(evaluator);
      active += s->done() ? 0 : 1;
    }
    if (options.progress) {
      v1::PlanProgress progress;
      progress.set_evaluated(static_cast<int>(evaluator.simulations()));
      double elapsed = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      progress.set_elapsed_s(elapsed);
      double best = 0;
      for (const auto& [key, e] : evaluator.all()) {
        if (e.fleet.feasible() && (best == 0 || e.fleet.cost() < best))
          best = e.fleet.cost();
      }
      progress.set_best_cost(best);
      // Rough: each unfinished search needs about three more rounds.
      int remaining = active * 3;
      progress.set_planned(progress.evaluated() + remaining);
      double per_sim =
          progress.evaluated() > 0 ? elapsed / progress.evaluated() : 0;
      progress.set_eta_s(per_sim * remaining);
      // Speculative runs are not in `evaluated` until asked for: say how
      // many idle slots ran ahead, and how many of those went unused.
      progress.set_message(
          absl::StrCat(active, " of ", searches.size(), " systems searching; ",
                       evaluator.speculative(), " speculative simulations, ",
                       evaluator.speculative_unused(), " unused"));
      options.progress(progress);
    }
  }

  v1::PlanResult result;
  for (const auto& [key, evaluation] : evaluator.all())
    *result.add_fleets() = evaluation.fleet;
  FillFront(&result);
  Recommend(request.objective(), &result);
  result.set_simulations(static_cast<int>(evaluator.simulations()));
  result.set_simulations_reused(static_cast<int>(evaluator.reused()));
  result.set_simulations_stopped_early(
      static_cast<int>(evaluator.stopped_early()));
  if (!result.feasible()) {
    std::string explanation =
        ExplainInfeasible(evaluator, context.budget_machines);
    if (!skipped.empty())
      absl::StrAppend(&explanation,
                      "; skipped: ", absl::StrJoin(skipped, "; "));
    result.set_explanation(explanation);
  } else if (!skipped.empty()) {
    result.set_explanation(
        absl::StrCat("skipped: ", absl::StrJoin(skipped, "; ")));
  }
  result.set_wall_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return result;
}

absl::StatusOr<double> OfferedRatePerS(const v1::Workload& workload) {
  FLEETSIM_ASSIGN_OR_RETURN(Demand demand, MeasureDemand(workload));
  return demand.rate_per_s;
}

absl::StatusOr<std::vector<v1::PlannedFleet>> EvaluateFleets(
    const v1::PlanRequest& request, const std::vector<v1::PlannedFleet>& fleets,
    const PlannerOptions& options) {
  FLEETSIM_ASSIGN_OR_RETURN(PlanContext context,
                            PlanContextFor(request, options));
  std::vector<Candidate> candidates;
  for (const v1::PlannedFleet& fleet : fleets) {
    FLEETSIM_ASSIGN_OR_RETURN(Candidate candidate, CandidateOf(fleet));
    candidates.push_back(std::move(candidate));
  }
  std::optional<LocalSimulationPool> local_pool;
  CandidateEvaluator evaluator(
      &context, &PoolFor(request, options, &local_pool), options.cache);
  FLEETSIM_RETURN_IF_ERROR(evaluator.EvaluateAll(candidates));
  std::vector<v1::PlannedFleet> evaluated;
  for (const Candidate& candidate : candidates)
    evaluated.push_back(evaluator.Get(candidate).fleet);
  return evaluated;
}

}  // namespace fleetsim::planner
