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
#include "planner/feasibility_map.h"
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

// What one system's search found that its neighbours start from: the
// least prefill count p_min (with plenty of decode machines) of each
// prefill chip and layout, and the least decode count d_min (with plenty
// of prefill machines) of each decode chip and layout. Systems that share
// a prefill pool nearly always share p_min, and those that share a decode
// pool d_min, so a neighbour's answer, checked with two probes, replaces a
// search from the capacity bound. Searches are still exact: a hint only
// picks where one starts.
class SystemSearch;
struct NeighbourHints {
  // The first system to register a prefill key searches its p_min from
  // the bound; the others wait for it (deterministically: every search
  // asks one fleet per round whatever the width).
  std::map<std::string, const SystemSearch*> p_leader;
  // The first system to register a decode key searches d_min first, from
  // the bound; the others start their d(p) searches from its answer.
  std::map<std::string, const SystemSearch*> d_leader;
  std::map<std::string, int> p_min;
  std::map<std::string, int> d_min;
};

// Searches one system's minimal fleets (see planner.h): a sequential
// search, rerun from the start over what the system's simulations said
// (FeasibilityMap) each time a result comes in, that stops at the first
// fleet it cannot answer. Its probes depend on results only, never on the
// search width or on other systems, so the fleets simulated do not depend
// on how many run at once.
class SystemSearch {
 public:
  SystemSearch(SystemSpec spec, const PlanContext* context,
               CapacityBounds prefill_chip_bounds,
               CapacityBounds decode_chip_bounds, NeighbourHints* hints)
      : spec_(std::move(spec)), context_(context), hints_(hints) {
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
      p_lb_ = std::min(lb, budget);
      p_hi_ = budget;
      Advance();
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
    p_key_ = absl::StrCat(spec_.prefill_chip, " ",
                          LayoutText(spec_.prefill.tp, spec_.prefill.ep));
    d_key_ = absl::StrCat(spec_.decode_chip, " ",
                          LayoutText(spec_.decode.tp, spec_.decode.ep));
    hints_->p_leader.emplace(p_key_, this);
    hints_->d_leader.emplace(d_key_, this);
    Advance();
  }

  const SystemSpec& spec() const { return spec_; }
  bool done() const { return !next_ && !waiting_; }
  // Waiting for a neighbour's answer: nothing to simulate this round.
  bool waiting() const { return waiting_; }

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

  // The fleet to simulate next. REQUIRES: !done() && !waiting().
  Candidate Probe() const { return FleetAt(*next_); }

  // Reads back the evaluation of Probe() (if one was asked) and advances,
  // or looks again for the neighbour's answer it waits for.
  void Absorb(const CandidateEvaluator& evaluator) {
    if (next_) {
      known_.Record(next_->first, next_->second,
                    evaluator.Get(FleetAt(*next_)).slo_met);
    }
    if (!done()) Advance();
  }

  // Fleets this search may ask for after Probe(), whichever way the probes
  // go: both outcomes of Probe(), then of those, breadth-first over
  // `levels` levels. What a pool's idle slots can run meanwhile
  // (speculatively: CandidateEvaluator keeps them aside until asked for).
  std::vector<Candidate> Speculate(int levels) const {
    std::vector<Candidate> out;
    std::vector<std::pair<FeasibilityMap, Point>> frontier;
    if (next_) frontier.push_back({known_, *next_});
    for (int level = 0; level < levels; ++level) {
      std::vector<std::pair<FeasibilityMap, Point>> deeper;
      for (const auto& [known, point] : frontier) {
        for (bool feasible : {false, true}) {
          FeasibilityMap what_if = known;
          what_if.Record(point.first, point.second, feasible);
          Step step = Replay(what_if, false);
          if (!step.next) continue;
          out.push_back(FleetAt(*step.next));
          deeper.push_back({std::move(what_if), *step.next});
        }
      }
      frontier = std::move(deeper);
    }
    return out;
  }

 private:
  using Point = std::pair<int, int>;  // (prefill, decode); colocated (n, 0)

  Candidate FleetAt(Point point) const {
    return spec_.mode == v1::SERVING_MODE_COLOCATED
               ? Colocated(point.first)
               : Disaggregated(point.first, point.second);
  }

  // Where a search run over some results stops.
  struct Step {
    std::optional<Point> next;  // the fleet to simulate; none: see waiting
    bool waiting = false;       // for a neighbour's answer (else finished)
  };

  // Runs the search from the start over `known` and stops at the first
  // fleet it needs simulated. What it finds goes to the neighbour hints
  // only when `publish` (not for a what-if of Speculate).
  Step Replay(const FeasibilityMap& known, bool publish) const {
    Step step;
    auto ask = [&](int p, int d) -> std::optional<bool> {
      std::optional<bool> answer = known.Known(p, d);
      if (!answer && !step.next) step.next = Point{p, d};
      return answer;
    };
    if (spec_.mode == v1::SERVING_MODE_COLOCATED) {
      // From the capacity bound up: the misses below the least fleet stop
      // early, and only the fleets from it on run to the end.
      GallopUp(p_lb_, p_hi_, [&](int n) { return ask(n, 0); });
      return step;
    }
    ReplayStaircase(ask, publish, &step.waiting);
    return step;
  }

  void Advance() {
    Step step = Replay(known_, true);
    next_ = step.next;
    waiting_ = step.waiting;
  }

  // The staircase of docs/planner.md: p_min, the least prefill count that
  // meets the SLO with d_hi decode machines; for p from p_min on, d(p), the
  // least decode count that meets it, until d(p) reaches d_min (the least
  // with p_hi prefill machines), p leaves the range, or even (p + 1,
  // d_min) is dominated by a point found. d_min is searched only when
  // the cheaper tests (d(p) at its lower bound, domination at the lower
  // bound) cannot end the walk.
  template <typename Ask>
  void ReplayStaircase(Ask& ask, bool publish, bool* waiting) const {
    auto at_p_hi = [&](int d) { return ask(p_hi_, d); };
    auto at_d_hi = [&](int p) { return ask(p, d_hi_); };
    std::optional<int> d_min;
    if (hints_->d_leader.at(d_key_) == this) {
      // Its misses at p_hi bound every d(p) from below.
      d_min = GallopUp(d_lb_, d_hi_, at_p_hi);
      if (!d_min) return;
      if (publish) hints_->d_min.emplace(d_key_, *d_min);
      if (*d_min > d_hi_) return;  // nothing feasible
    }
    auto d_hint = hints_->d_min.find(d_key_);
    const int d_guess =
        d_hint == hints_->d_min.end() ? d_lb_ : std::max(d_lb_, d_hint->second);
    const int d_lo = d_min.value_or(d_lb_);
    auto p_hint = hints_->p_min.find(p_key_);
    const SystemSearch* leader = hints_->p_leader.at(p_key_);
    std::optional<int> p_min;
    if (p_hint != hints_->p_min.end()) {
      p_min = PMinFromHint(p_hint->second, d_lo, d_guess, ask);
    } else if (leader == this || leader->done()) {
      // The leader, or the next in line when the leader ended without a
      // p_min (its own decode pool never met the SLO).
      if (publish) hints_->p_leader[p_key_] = this;
      p_min = GallopUp(p_lb_, p_hi_, at_d_hi);
      if (p_min && publish) hints_->p_min.emplace(p_key_, *p_min);
    } else {
      *waiting = true;  // for the leader's p_min
      return;
    }
    if (!p_min || *p_min > p_hi_) return;  // pending, or nothing feasible
    std::vector<Point> staircase;
    int d_prev = d_hi_;
    for (int p = *p_min;; ++p) {
      const int lo = p == *p_min ? d_lo : d_min.value_or(d_lb_);
      auto at_p = [&](int d) { return ask(p, d); };
      // d(p_min) from d_min's expected value (from below: the misses are
      // cheap); later ones from the previous step down, as the staircase
      // flattens.
      std::optional<int> d = p == *p_min ? GallopFrom(lo, d_prev, d_guess, at_p)
                                         : GallopDown(lo, d_prev, at_p);
      if (!d) return;
      staircase.push_back({p, *d});
      const int next_p = p + 1;
      if (*d <= d_lb_ || next_p > p_hi_ ||
          Dominated(next_p, d_lb_, staircase)) {
        return;  // d_min >= d_lb_: the tests with d_min would stop too
      }
      if (!d_min) {
        // (p_hi, d) meets the SLO, as (p, d) does.
        d_min = GallopFrom(d_lb_, *d - 1, d_guess, at_p_hi);
        if (!d_min) return;
        if (publish) hints_->d_min.emplace(d_key_, *d_min);
      }
      if (*d <= *d_min || Dominated(next_p, *d_min, staircase)) return;
      d_prev = *d;
    }
  }

  // p_min from a neighbour's answer h: (h - 1, d_hi) should miss, and the
  // search for d(h) that follows anyway shows that h meets the SLO with
  // d_hi decode machines (its first feasible probe implies it), so a right
  // hint costs no probe of the largest decode pool. A wrong one is
  // corrected by galloping on at d_hi.
  template <typename Ask>
  std::optional<int> PMinFromHint(int h, int d_lo, int d_guess,
                                  Ask& ask) const {
    auto at_d_hi = [&](int p) { return ask(p, d_hi_); };
    h = std::clamp(h, p_lb_, p_hi_);
    if (h > p_lb_) {
      std::optional<bool> below = ask(h - 1, d_hi_);
      if (!below) return std::nullopt;
      if (*below) return GallopDown(p_lb_, h - 1, at_d_hi);
    }
    std::optional<int> d_h =
        GallopFrom(d_lo, d_hi_, d_guess, [&](int d) { return ask(h, d); });
    if (!d_h) return std::nullopt;
    if (*d_h <= d_hi_) return h;
    return GallopUp(h + 1, p_hi_, at_d_hi);
  }

  // Whether a staircase point found costs no more and draws no more TDP
  // than (p, d), on the plan's cost basis (prices were checked when the
  // context was built).
  bool Dominated(int p, int d, const std::vector<Point>& staircase) const {
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
  // Search ranges: colocated n in [p_lb_, p_hi_]; disaggregated prefill in
  // [p_lb_, p_hi_], decode in [d_lb_, d_hi_].
  int p_lb_ = 1, d_lb_ = 1, p_hi_ = 1, d_hi_ = 1;
  std::string p_key_, d_key_;  // NeighbourHints keys
  NeighbourHints* hints_;
  FeasibilityMap known_;
  std::optional<Point> next_;
  bool waiting_ = false;
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
  // One system per chip (colocated) or chip pair (disaggregated) per mode.
  auto add_systems = [&](const std::map<std::string, ChipLayouts>& layouts) {
    for (v1::ServingMode mode : modes) {
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
