#include "planner/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "economics/pricing.h"
#include "hardware/latency_model.h"
#include "hardware/model_footprint.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "planner/pareto.h"
#include "planner/staircase_search.h"
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

// A diffusion LM's bound (sim/diffusion_serving.h): every admitted request
// runs one pass an iteration, so a full batch of the mean request finishes
// in the sum of its passes' iteration times. The passes read the prompt
// too: all of it is counted as decode work, none as prefill.
CapacityBounds DiffusionCapacity(const sim::DiffusionServingSpec& diffusion,
                                 const sim::PoolSpec& spec,
                                 const hardware::LatencyModel& model,
                                 const Demand& demand) {
  const auto prompt = static_cast<int64_t>(std::max(1.0, demand.mean_input));
  const auto answer = std::clamp<int64_t>(
      static_cast<int64_t>(demand.mean_output), 1, diffusion.canvas_tokens);
  const int batch = static_cast<int>(std::clamp<double>(
      spec.RequestsHeld(static_cast<double>(diffusion.HeldTokens(prompt))), 1,
      spec.max_batch_size));
  double batch_seconds = 0;
  for (int64_t i = 0; i < diffusion.TotalPasses(answer); ++i) {
    const sim::DiffusionPass pass = diffusion.Pass(i, prompt, answer);
    hardware::BatchShape shape;
    for (int r = 0; r < batch; ++r)
      shape.AddBidirectionalPass(pass.query_tokens, pass.sequence_tokens);
    batch_seconds += model.IterationSeconds(shape);
  }
  const double requests_per_s =
      batch / batch_seconds * spec.instances_per_machine;
  CapacityBounds bounds;
  bounds.prefill_machines = 0;
  bounds.decode_machines = demand.rate_per_s / requests_per_s;
  return bounds;
}

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
  // An instance spanning machines (expert parallelism) counts 1 / its
  // machines per machine.
  const double instances_per_machine =
      static_cast<double>(spec.instances_per_machine) /
      spec.machines_per_instance;
  // One chunk per data-parallel attention group (one without expert
  // parallelism): each group prefills its own prompt.
  constexpr int kChunk = 2048;
  const int groups = spec.attention_groups();
  hardware::BatchShape prefill;
  for (int g = 0; g < groups; ++g) prefill.AddPrefillChunk(kChunk, 0);
  double prefill_tokens_per_s = groups * kChunk /
                                model->IterationSeconds(prefill) *
                                instances_per_machine;
  if (spec.diffusion) {
    return DiffusionCapacity(*spec.diffusion, spec, *model, demand);
  }
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

// Searches one system's minimal fleets (see planner.h): a StaircaseSearch
// on machine counts, its probes turned into fleets.
class SystemSearch {
 public:
  SystemSearch(SystemSpec spec, const PlanContext* context,
               CapacityBounds prefill_chip_bounds,
               CapacityBounds decode_chip_bounds, NeighbourHints* hints)
      : spec_(std::move(spec)),
        context_(context),
        search_(StaircaseSearch::Colocated(0, 0)) {
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
      search_ = StaircaseSearch::Colocated(std::min(lb, budget), budget);
      return;
    }
    int p_lb = extending
                   ? 0
                   : std::max(1, static_cast<int>(std::floor(
                                     prefill_chip_bounds.prefill_machines)));
    int d_lb = extending
                   ? 0
                   : std::max(1, static_cast<int>(std::floor(
                                     decode_chip_bounds.decode_machines)));
    p_lb = std::min(p_lb, budget - 1);
    d_lb = std::min(d_lb, budget - 1);
    search_ = StaircaseSearch(
        p_lb, std::max(p_lb, budget - d_lb), d_lb,
        std::max(d_lb, budget - p_lb),
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

  // Fleets this search may ask for next (StaircaseSearch::Speculate).
  std::vector<Candidate> Speculate(int levels) const {
    std::vector<Candidate> out;
    for (StaircaseSearch::Point point : search_.Speculate(levels))
      out.push_back(FleetAt(point));
    return out;
  }

 private:
  // The owned pools, if any, then the machines added (a pool of none is
  // left out).
  Candidate FleetAt(StaircaseSearch::Point point) const {
    Candidate candidate = context_->existing;
    const auto [p, d] = point;
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
    double cost = cost_of(p, d);
    double tdp = tdp_of(p, d);
    for (auto [sp, sd] : staircase) {
      if (sp + sd > context_->budget_machines) continue;
      double c = cost_of(sp, sd);
      double t = tdp_of(sp, sd);
      if (c <= cost && t <= tdp) return true;
    }
    return false;
  }

  SystemSpec spec_;
  const PlanContext* context_;
  StaircaseSearch search_;
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
// next: each search's first what-if, then each one's second, and so on
// (levels deep enough to fill a few slots per search).
std::vector<Candidate> Speculation(
    const std::vector<std::unique_ptr<SystemSearch>>& searches,
    const CandidateEvaluator& evaluator, size_t count) {
  constexpr int kLevels = 3;  // up to 2 + 4 + 8 what-ifs per search
  std::vector<std::vector<Candidate>> per_search;
  for (const auto& s : searches) {
    if (!s->done() && !s->waiting())
      per_search.push_back(s->Speculate(kLevels));
  }
  std::vector<Candidate> out;
  std::set<std::string> keys;
  for (size_t i = 0; out.size() < count; ++i) {
    bool any = false;
    for (const std::vector<Candidate>& what_ifs : per_search) {
      if (i >= what_ifs.size() || out.size() >= count) continue;
      any = true;
      const Candidate& c = what_ifs[i];
      if (evaluator.HasOrAside(c) || !keys.insert(CandidateKey(c)).second)
        continue;
      out.push_back(c);
    }
    if (!any) break;
  }
  return out;
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
