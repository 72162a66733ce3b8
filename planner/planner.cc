#include "planner/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "economics/pricing.h"
#include "hardware/latency_model.h"
#include "hardware/model_footprint.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "planner/min_search.h"
#include "planner/pareto.h"
#include "sim/fleet.h"
#include "sim/slo_evaluator.h"
#include "util/status_macros.h"
#include "workloads/trace_stats.h"

namespace fleetsim::planner {
namespace {

// Offered load the planner sizes for.
struct Demand {
  double rate_per_s = 0;
  double mean_input = 0;
  double mean_output = 0;
};

// A pool's parallel layout: tp-way tensor parallelism and, when ep > 1,
// expert parallelism over ep chips in ep / tp data-parallel attention
// groups (sim::PoolSpec::ep).
struct Layout {
  int tp = 0;
  int ep = 1;
};

// One system the planner sizes: a serving mode, its chips and the layout of
// each role's pool.
struct SystemSpec {
  v1::ServingMode mode = v1::SERVING_MODE_COLOCATED;
  std::string prefill_chip;  // colocated: the only chip
  std::string decode_chip;
  Layout prefill;  // colocated: the only layout
  Layout decode;
};

// Least machines a pool needs from capacity alone (no queueing, no SLO):
// prefill token throughput at a full token budget, decode token throughput
// at the largest batch the KV cache holds. Lower bounds for the search.
struct CapacityBounds {
  double prefill_machines = 1;  // machine-equivalents of prefill work
  double decode_machines = 1;
};

absl::StatusOr<CapacityBounds> EstimateCapacity(const PlanContext& context,
                                                const std::string& chip_name,
                                                Layout layout,
                                                const Demand& demand) {
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* chip,
                            context.chips.Find(chip_name));
  // KV capacity and cost-model settings per instance, exactly as a
  // simulated pool of this chip gets them (sim::ResolveFleet).
  v1::Cluster probe = context.template_cluster;
  probe.clear_pools();
  v1::Pool* pool = probe.add_pools();
  pool->set_role(v1::POOL_ROLE_COLOCATED);
  pool->mutable_machine()->set_chip(chip_name);
  const int chips_per_machine = context.MachineChips(*chip);
  pool->mutable_machine()->set_chips_per_machine(chips_per_machine);
  pool->set_machines(1);
  pool->set_tp(layout.tp);
  if (layout.ep > 1) pool->set_ep(layout.ep);
  // The precision every candidate pool takes from the template (ToCluster):
  // a model served in FP8 must be probed in FP8.
  if (!context.template_cluster.pools().empty()) {
    const v1::Pool& t = context.template_cluster.pools(0);
    pool->set_weight_dtype(t.weight_dtype());
    pool->set_kv_dtype(t.kv_dtype());
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      sim::FleetSpec fleet,
      sim::ResolveFleet(probe, "capacity probe", context.model,
                        context.chips.entries(), {}));
  FLEETSIM_ASSIGN_OR_RETURN(auto model,
                            sim::CreateLatencyModel(fleet, fleet.pools[0]));
  // The SLO's reference latencies come from the same latency model: a
  // reference it cannot time fails here, not in every simulation.
  FLEETSIM_RETURN_IF_ERROR(
      sim::SloEvaluator::Create(context.slo, fleet, context.slo_reference_chip)
          .status());
  const sim::PoolSpec& spec = fleet.pools[0];
  const int instances_per_machine = spec.instances_per_machine;
  // One chunk per data-parallel attention group (one without expert
  // parallelism): each group prefills its own prompt.
  constexpr int kChunk = 2048;
  const int groups = spec.attention_groups();
  hardware::BatchShape prefill;
  for (int g = 0; g < groups; ++g) prefill.AddPrefillChunk(kChunk, 0);
  double prefill_tokens_per_s = groups * kChunk /
                                model->IterationSeconds(prefill) *
                                instances_per_machine;
  // Under test-time scaling a request decodes as `samples` sequences that
  // share its prompt's KV, each holding its own output's.
  const int samples = spec.sequences_per_request();
  double context_tokens = demand.mean_input + demand.mean_output / 2;
  double per_request_tokens =
      demand.mean_input + samples * demand.mean_output / 2;
  int batch = samples * static_cast<int>(std::clamp<double>(
                            spec.RequestsHeld(per_request_tokens), 1,
                            spec.max_batch_size / samples));
  hardware::BatchShape decode;
  for (int i = 0; i < batch; ++i)
    decode.AddDecode(static_cast<int64_t>(context_tokens));
  // A speculative step emits tokens_per_step tokens per sequence.
  double decode_tokens_per_s = batch * spec.tokens_per_step /
                               model->IterationSeconds(decode) *
                               instances_per_machine;

  CapacityBounds bounds;
  bounds.prefill_machines =
      demand.rate_per_s * demand.mean_input / prefill_tokens_per_s;
  bounds.decode_machines =
      demand.rate_per_s * samples * demand.mean_output / decode_tokens_per_s;
  return bounds;
}

// One chip's pool layout and its capacity bounds in each role, for a family
// of systems: the same for every role under plain tensor parallelism; under
// expert parallelism each role's own choice (ChooseExpertParallel).
struct ChipLayouts {
  Layout colocated, prefill, decode;
  CapacityBounds colocated_bounds, prefill_bounds, decode_bounds;

  static ChipLayouts Uniform(Layout layout, CapacityBounds bounds) {
    return {layout, layout, layout, bounds, bounds, bounds};
  }
};

// The expert-parallel layouts the planner tries on `chip` for an MoE model:
// ep = the most chips of one machine the routed experts divide over (their
// greatest common divisor: 8 on an 8-GPU machine or GB200 NVL72 for 256
// experts, 128 on CloudMatrix384), tp each power of two dividing ep up to
// an HGX board's 8. None for a dense model or where ep would be 1.
std::vector<Layout> ExpertParallelLayouts(const PlanContext& context,
                                          const v1::Chip& chip) {
  std::vector<Layout> layouts;
  if (hardware::NumMoeLayers(context.model) == 0) return layouts;
  const int ep =
      std::gcd(context.MachineChips(chip), context.model.moe().num_experts());
  if (ep <= 1) return layouts;
  for (int tp = 1; tp <= std::min(ep, hardware::kDefaultChipsPerMachine);
       tp *= 2) {
    if (ep % tp == 0) layouts.push_back({tp, ep});
  }
  return layouts;
}

// For each role, the layout among `layouts` with the fewest machines by
// capacity bound (colocated: prefill and decode work together; ties: the
// first, the smaller tp). Sizing the attention tp analytically keeps the
// simulated search to one expert-parallel system per chip (or chip pair).
// Errors: the last layout's, when none resolves.
absl::StatusOr<ChipLayouts> ChooseExpertParallel(
    const PlanContext& context, const std::string& chip,
    const std::vector<Layout>& layouts, const Demand& demand) {
  ChipLayouts best;
  bool found = false;
  absl::Status last = absl::NotFoundError("no expert-parallel layout");
  for (const Layout& layout : layouts) {
    absl::StatusOr<CapacityBounds> b =
        EstimateCapacity(context, chip, layout, demand);
    if (!b.ok()) {
      last = b.status();
      continue;
    }
    const CapacityBounds& held = best.colocated_bounds;
    if (!found || b->prefill_machines + b->decode_machines <
                      held.prefill_machines + held.decode_machines) {
      best.colocated = layout;
      best.colocated_bounds = *b;
    }
    if (!found || b->prefill_machines < best.prefill_bounds.prefill_machines) {
      best.prefill = layout;
      best.prefill_bounds = *b;
    }
    if (!found || b->decode_machines < best.decode_bounds.decode_machines) {
      best.decode = layout;
      best.decode_bounds = *b;
    }
    found = true;
  }
  if (!found) return last;
  return best;
}

// Searches one system's minimal fleets (see planner.h).
class SystemSearch {
 public:
  SystemSearch(SystemSpec spec, const PlanContext* context,
               CapacityBounds prefill_chip_bounds,
               CapacityBounds decode_chip_bounds)
      : spec_(std::move(spec)), context_(context) {
    int budget = context->budget_machines;
    // Extending an owned fleet, adding nothing may already do; the capacity
    // bounds are of a fleet built from nothing.
    const bool extending = !context->existing.empty();
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      int lb = extending
                   ? 0
                   : std::max(1, static_cast<int>(std::floor(
                                     prefill_chip_bounds.prefill_machines +
                                     prefill_chip_bounds.decode_machines)));
      colocated_ = MinSearch(std::min(lb, budget), budget);
      return;
    }
    p_lb_ = extending ? 0
                      : std::max(1, static_cast<int>(std::floor(
                                        prefill_chip_bounds.prefill_machines)));
    d_lb_ = extending ? 0
                      : std::max(1, static_cast<int>(std::floor(
                                        decode_chip_bounds.decode_machines)));
    p_lb_ = std::min(p_lb_, budget - 1);
    d_lb_ = std::min(d_lb_, budget - 1);
    p_hi_ = std::max(p_lb_, budget - d_lb_);
    d_hi_ = std::max(d_lb_, budget - p_lb_);
    p_search_ = MinSearch(p_lb_, p_hi_);
    d_search_ = MinSearch(d_lb_, d_hi_);
  }

  const SystemSpec& spec() const { return spec_; }
  bool done() const { return done_; }

  // The owned pools, if any, then the machines added (a pool of none is
  // left out).
  Candidate Colocated(int n) const {
    Candidate candidate = context_->existing;
    if (n > 0)
      candidate.push_back({v1::POOL_ROLE_COLOCATED, spec_.prefill_chip, n,
                           spec_.prefill.tp, false, spec_.prefill.ep});
    return candidate;
  }
  Candidate Disaggregated(int p, int d) const {
    Candidate candidate = context_->existing;
    if (p > 0)
      candidate.push_back({v1::POOL_ROLE_PREFILL, spec_.prefill_chip, p,
                           spec_.prefill.tp, false, spec_.prefill.ep});
    if (d > 0)
      candidate.push_back({v1::POOL_ROLE_DECODE, spec_.decode_chip, d,
                           spec_.decode.tp, false, spec_.decode.ep});
    return candidate;
  }

  // Candidates to simulate next (cached ones cost nothing).
  std::vector<Candidate> Probes(int width) const {
    std::vector<Candidate> out;
    if (done_) return out;
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      for (int n : colocated_.Probes(width)) out.push_back(Colocated(n));
    } else if (phase_ == 0) {
      for (int p : p_search_.Probes(std::max(1, width / 2)))
        out.push_back(Disaggregated(p, d_hi_));
      for (int d : d_search_.Probes(std::max(1, width / 2)))
        out.push_back(Disaggregated(p_hi_, d));
    } else {
      for (int d : stair_.Probes(width))
        out.push_back(Disaggregated(stair_p_, d));
    }
    return out;
  }

  // Reads back the evaluations of the last probes and advances.
  void Absorb(const CandidateEvaluator& evaluator, int width) {
    if (done_) return;
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      for (int n : colocated_.Probes(width)) {
        if (evaluator.Has(Colocated(n)))
          colocated_.Record(n, evaluator.Get(Colocated(n)).slo_met);
      }
      done_ = colocated_.done();
      return;
    }
    if (phase_ == 0) {
      for (int p : p_search_.Probes(std::max(1, width / 2))) {
        Candidate c = Disaggregated(p, d_hi_);
        if (evaluator.Has(c)) p_search_.Record(p, evaluator.Get(c).slo_met);
      }
      for (int d : d_search_.Probes(std::max(1, width / 2))) {
        Candidate c = Disaggregated(p_hi_, d);
        if (evaluator.Has(c)) d_search_.Record(d, evaluator.Get(c).slo_met);
      }
      if (!p_search_.done() || !d_search_.done()) return;
      if (!p_search_.found() || !d_search_.found()) {
        done_ = true;  // infeasible within the search range
        return;
      }
      d_min_ = d_search_.answer();
      stair_p_ = p_search_.answer();
      stair_d_hi_ = d_hi_;
      stair_ = MinSearch(d_min_, stair_d_hi_);
      phase_ = 1;
      return;
    }
    for (int d : stair_.Probes(width)) {
      Candidate c = Disaggregated(stair_p_, d);
      if (evaluator.Has(c)) stair_.Record(d, evaluator.Get(c).slo_met);
    }
    if (!stair_.done()) return;
    // d(stair_p_) found (it exists: d_hi_ is feasible for every p >= p_min).
    int d = stair_.found() ? stair_.answer() : stair_d_hi_;
    staircase_.push_back({stair_p_, d});
    // Next p: stop when d already hit d_min, p leaves the range, or even
    // (p + 1, d_min) is dominated by a staircase point found (more prefill
    // machines can only lower d down to d_min).
    int next_p = stair_p_ + 1;
    if (d <= d_min_ || next_p > p_hi_ || Dominated(next_p, d_min_, evaluator)) {
      done_ = true;
      return;
    }
    stair_p_ = next_p;
    stair_d_hi_ = d;
    stair_ = MinSearch(d_min_, d);
    stair_.Record(d, true);  // known: d(p) <= d(p - 1)
  }

 private:
  // Whether a staircase point found costs no more and draws no more TDP
  // than (p, d), on the plan's cost basis (prices were checked when the
  // context was built).
  bool Dominated(int p, int d, const CandidateEvaluator& evaluator) const {
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
    double cost = cost_of(p, d);
    double tdp = tdp_of(p, d);
    for (auto [sp, sd] : staircase_) {
      if (sp + sd > context_->budget_machines) continue;
      double c = cost_of(sp, sd);
      double t = tdp_of(sp, sd);
      if (c <= cost && t <= tdp) return true;
    }
    return false;
  }

  SystemSpec spec_;
  const PlanContext* context_;
  bool done_ = false;
  MinSearch colocated_;
  int phase_ = 0;
  int p_lb_ = 1, d_lb_ = 1, p_hi_ = 1, d_hi_ = 1;
  MinSearch p_search_, d_search_;
  int d_min_ = 1;
  int stair_p_ = 0, stair_d_hi_ = 0;
  MinSearch stair_;
  std::vector<std::pair<int, int>> staircase_;
};

// Every system a plan searches: per TP degree, one per chip (colocated) or
// chip pair (disaggregated) in each mode, then an MoE model's
// expert-parallel ones. A chip that cannot hold the model in a layout is
// named in `skipped`.
std::vector<std::unique_ptr<SystemSearch>> Systems(
    const PlanContext& context, const std::vector<std::string>& chips,
    const std::vector<v1::ServingMode>& modes, const std::vector<int>& tps,
    const Demand& demand, std::vector<std::string>* skipped) {
  std::vector<std::unique_ptr<SystemSearch>> searches;
  // One system per chip (colocated) or chip pair (disaggregated) per mode.
  auto add_systems = [&](const std::map<std::string, ChipLayouts>& layouts) {
    for (v1::ServingMode mode : modes) {
      for (const auto& [prefill_chip, p] : layouts) {
        if (mode == v1::SERVING_MODE_COLOCATED) {
          searches.push_back(std::make_unique<SystemSearch>(
              SystemSpec{mode, prefill_chip, prefill_chip, p.colocated,
                         p.colocated},
              &context, p.colocated_bounds, p.colocated_bounds));
          continue;
        }
        for (const auto& [decode_chip, d] : layouts) {
          searches.push_back(std::make_unique<SystemSearch>(
              SystemSpec{mode, prefill_chip, decode_chip, p.prefill, d.decode},
              &context, p.prefill_bounds, d.decode_bounds));
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
    if (!chosen.ok()) {
      skipped->push_back(absl::StrCat(chip, " ep", layouts[0].ep, ": ",
                                      chosen.status().message()));
      continue;
    }
    expert_parallel[chip] = *chosen;
  }
  add_systems(expert_parallel);
  return searches;
}

absl::StatusOr<Demand> MeasureDemand(const v1::Workload& workload) {
  FLEETSIM_ASSIGN_OR_RETURN(
      workloads::TraceStats stats,
      workloads::ComputeTraceStats(workload.trace_path(), workload.format()));
  Demand demand;
  demand.mean_input = stats.input_tokens.mean();
  demand.mean_output = stats.output_tokens.mean();
  demand.rate_per_s =
      workload.arrival() != v1::ARRIVAL_PROCESS_UNSPECIFIED
          ? workload.rate_per_s()
          : stats.rate_per_s *
                (workload.rate_scale() > 0 ? workload.rate_scale() : 1);
  return demand;
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
  std::vector<std::unique_ptr<SystemSearch>> searches =
      Systems(context, chips, modes, tps, demand, &skipped);

  std::optional<LocalSimulationPool> local_pool;
  SimulationPool& pool = PoolFor(request, options, &local_pool);
  const int slots = SearchWidth(request, pool);
  CandidateEvaluator evaluator(&context, &pool, options.cache);
  // Each round, every unfinished search proposes probes; together they
  // fill the worker pool at least once.
  int active = 0;
  for (const auto& s : searches) active += s->done() ? 0 : 1;
  while (active > 0) {
    int width = std::max(1, (slots + active - 1) / active);
    std::vector<Candidate> probes;
    for (const auto& s : searches) {
      for (Candidate& c : s->Probes(width)) probes.push_back(std::move(c));
    }
    FLEETSIM_RETURN_IF_ERROR(evaluator.EvaluateAll(probes));
    active = 0;
    for (const auto& s : searches) {
      s->Absorb(evaluator, width);
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
      int remaining = active * 3 * width;
      progress.set_planned(progress.evaluated() + remaining);
      double per_sim =
          progress.evaluated() > 0 ? elapsed / progress.evaluated() : 0;
      progress.set_eta_s(per_sim * remaining);
      progress.set_message(
          absl::StrCat(active, " of ", searches.size(), " systems searching"));
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
