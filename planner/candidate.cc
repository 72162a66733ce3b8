#include "planner/candidate.h"

#include <algorithm>
#include <cmath>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "economics/price_changes.h"
#include "economics/pricing.h"
#include "economics/tco.h"
#include "hardware/operator_options.h"
#include "hardware/reference_machine.h"
#include "planner/plan_request_checks.h"
#include "sim/fleet.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/speculative_decoding.h"
#include "util/status_macros.h"
#include "util/textproto.h"
#include "workloads/request_source.h"

namespace fleetsim::planner {
namespace {

constexpr int kDefaultBudgetMachines = 64;
// The most requests a plan records to share among its runs
// (PlanContext.arrivals): 64 MiB at 16 bytes each. A memory bound, not a
// measured optimum; a longer window runs from its trace as before.
constexpr int64_t kMaxRecordedArrivals = int64_t{1} << 22;

// The worst SLO target of a result, as (observed / limit, description).
std::pair<double, std::string> WorstMiss(const v1::SimulationResult& result) {
  double worst = 0;
  std::string text;
  for (const v1::SloAttainment& a : result.slo()) {
    double ratio = a.limit() > 0 ? a.observed() / a.limit() : 0;
    if (ratio > worst) {
      worst = ratio;
      text = absl::StrFormat("p%g %s %s %.3g vs limit %.3g (%+.0f%%)",
                             a.percentile(), a.metric(),
                             a.bound_s() == 0 ? "slowdown" : "seconds",
                             a.observed(), a.limit(), 100 * (ratio - 1));
    }
  }
  if (result.rejected() > 0) {
    return {std::numeric_limits<double>::infinity(),
            absl::StrCat(result.rejected(),
                         " requests exceed an instance's KV capacity")};
  }
  return {worst, text};
}

// The simulation errors that belong to the candidate fleet (a miss): its
// own limits (util/run_limits.h), a wait its numbers make unrepresentable
// (sim/run_guard.h), a setting its pools cannot run. Everything else
// (Internal: a crash; InvalidArgument, NotFound, DataLoss: the inputs) is
// an error of the whole plan.
bool IsFleetsOwnFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<PlanContext> BuildPlanContext(const v1::PlanRequest& request,
                                             const std::string& data_dir) {
  FLEETSIM_ASSIGN_OR_RETURN(std::shared_ptr<const sim::Catalogs> catalogs,
                            sim::Catalogs::Load(data_dir));
  return BuildPlanContext(request, *catalogs);
}

absl::StatusOr<PlanContext> BuildPlanContext(const v1::PlanRequest& request,
                                             const sim::Catalogs& catalogs) {
  FLEETSIM_RETURN_IF_ERROR(ValidatePlanRequest(request, "plan request"));
  const std::string& data_dir = catalogs.data_dir();
  PlanContext context;
  // A copy: the request's price changes apply to this plan only.
  context.chips = catalogs.chips();
  FLEETSIM_RETURN_IF_ERROR(economics::ApplyPriceChanges(
      request.chip_prices(), "PlanRequest", &context.chips));
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Model* model,
                            catalogs.models().Find(request.model()));
  context.model = *model;
  FLEETSIM_RETURN_IF_ERROR(
      workloads::RequestSource::Validate(request.workload()));
  context.workload = request.workload();
  // Not recorded on an error: each run then reports it, as without.
  absl::StatusOr<std::shared_ptr<const workloads::RecordedArrivals>> arrivals =
      workloads::RecordedArrivals::Record(context.workload,
                                          kMaxRecordedArrivals);
  if (arrivals.ok()) context.arrivals = *std::move(arrivals);
  context.stop_when_slo_missed = !request.run_to_end();
  if (!request.slo().targets().empty()) {
    context.slo = request.slo();
  } else if (!request.slo_preset().empty()) {
    FLEETSIM_ASSIGN_OR_RETURN(context.slo,
                              sim::LoadSlo(data_dir, request.slo_preset()));
  } else {
    return absl::InvalidArgumentError(
        "field 'slo': planning needs an SLO (a preset or targets)");
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      const v1::Chip* reference_chip,
      context.chips.Find(context.slo.reference_chip().empty()
                             ? hardware::kReferenceChip
                             : context.slo.reference_chip()));
  context.slo_reference_chip = *reference_chip;
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* h100,
                            context.chips.Find(hardware::kReferenceChip));
  context.h100 = *h100;
  if (request.has_template_cluster()) {
    context.template_cluster = request.template_cluster();
  } else {
    FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(
        data_dir + "/" + kDefaultTemplateCluster, &context.template_cluster));
  }
  FLEETSIM_RETURN_IF_ERROR(sim::ResolveDraftModel(
      catalogs.models(), "template cluster", &context.template_cluster));
  context.chips_per_machine = request.chips_per_machine();
  context.budget_machines = request.budget_machines() > 0
                                ? request.budget_machines()
                                : kDefaultBudgetMachines;
  FLEETSIM_ASSIGN_OR_RETURN(
      context.tco,
      economics::LoadTcoSettings(data_dir, request.cost_basis(), request.site(),
                                 "PlanRequest.site"));
  FLEETSIM_RETURN_IF_ERROR(
      economics::CheckPriced(context.h100, context.tco.basis));
  // Every chip a candidate may hold must be priceable on the basis.
  auto check_priced = [&context](const std::string& name) -> absl::Status {
    FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* chip, context.chips.Find(name));
    economics::MachineGroup group;
    group.chip = chip;
    return economics::CheckTcoInputs({group}, context.tco);
  };
  for (const std::string& name : request.chips())
    FLEETSIM_RETURN_IF_ERROR(check_priced(name));
  for (const v1::PlannedPool& pool : request.existing_pools()) {
    FLEETSIM_RETURN_IF_ERROR(check_priced(pool.chip()));
    v1::PlannedPool owned = pool;
    owned.set_owned(true);
    FLEETSIM_ASSIGN_OR_RETURN(PoolChoice choice, PoolChoiceOf(owned));
    context.existing.push_back(std::move(choice));
  }
  return context;
}

std::string SystemLabel(const Candidate& candidate) {
  std::string prefill, decode, label, prefill_layout, decode_layout;
  bool owned = false;
  for (const PoolChoice& pool : candidate) {
    if (pool.owned) {
      owned = true;
      continue;
    }
    const std::string layout = LayoutText(pool.tp, pool.ep);
    if (pool.role == v1::POOL_ROLE_COLOCATED) {
      label = absl::StrCat("colocated ", pool.chip, " ", layout);
      continue;
    }
    const bool is_prefill = pool.role == v1::POOL_ROLE_PREFILL;
    std::string& chips = is_prefill ? prefill : decode;
    absl::StrAppend(&chips, chips.empty() ? "" : "+", pool.chip);
    (is_prefill ? prefill_layout : decode_layout) = layout;
  }
  if (!prefill.empty() || !decode.empty()) {
    // One layout when the roles share it (or one role is added), else the
    // prefill's -> the decode's.
    const std::string layout =
        prefill_layout.empty() || decode_layout.empty() ||
                prefill_layout == decode_layout
            ? prefill_layout + (prefill_layout.empty() ? decode_layout : "")
            : absl::StrCat(prefill_layout, "->", decode_layout);
    label = absl::StrCat("disaggregated ", prefill, "->", decode, " ", layout);
  }
  if (label.empty()) return "owned fleet as is";
  return owned ? absl::StrCat(label, " + owned fleet") : label;
}

std::string PoolText(const v1::PlannedPool& pool) {
  return absl::StrCat(pool.machines(), pool.owned() ? " owned " : " ",
                      pool.chip(), " ", pool.role());
}

std::string LayoutText(int tp, int ep) {
  return ep > 1 ? absl::StrCat("tp", tp, " ep", ep) : absl::StrCat("tp", tp);
}

std::string PoolLayoutText(const v1::PlannedPool& pool) {
  return absl::StrCat(PoolText(pool), " ", LayoutText(pool.tp(), pool.ep()));
}

absl::StatusOr<std::vector<v1::PlannedPool>> ParsePlannedPools(
    absl::string_view text) {
  std::vector<v1::PlannedPool> pools;
  for (absl::string_view part : absl::StrSplit(text, '+')) {
    // role:chipxN@tpT[epE]; the chip name may itself hold an 'x'.
    const size_t colon = part.find(':');
    const size_t at = part.rfind("@tp");
    const size_t times =
        at == absl::string_view::npos ? at : part.rfind('x', at);
    const absl::string_view layout =
        at == absl::string_view::npos ? "" : part.substr(at + 3);
    const size_t ep_at = layout.find("ep");
    v1::PlannedPool pool;
    int machines = 0, tp = 0, ep = 1;
    if (colon == absl::string_view::npos || times == absl::string_view::npos ||
        times <= colon + 1 ||
        !absl::SimpleAtoi(part.substr(times + 1, at - times - 1), &machines) ||
        !absl::SimpleAtoi(layout.substr(0, ep_at), &tp) ||
        (ep_at != absl::string_view::npos &&
         !absl::SimpleAtoi(layout.substr(ep_at + 2), &ep))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pool '", part,
          "': expected ROLE:CHIPxMACHINES@tpTP or "
          "ROLE:CHIPxMACHINES@tpTPepEP, e.g. colocated:h100x2@tp8"));
    }
    pool.set_role(std::string(part.substr(0, colon)));
    pool.set_chip(std::string(part.substr(colon + 1, times - colon - 1)));
    pool.set_machines(machines);
    pool.set_tp(tp);
    if (ep != 1) pool.set_ep(ep);
    pools.push_back(std::move(pool));
  }
  return pools;
}

absl::StatusOr<PoolChoice> PoolChoiceOf(const v1::PlannedPool& pool) {
  PoolChoice choice;
  if (!v1::PoolRole_Parse(
          absl::StrCat("POOL_ROLE_", absl::AsciiStrToUpper(pool.role())),
          &choice.role) ||
      choice.role == v1::POOL_ROLE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown pool role '", pool.role(),
                     "' (expected colocated, prefill or decode)"));
  }
  choice.chip = pool.chip();
  choice.machines = pool.machines();
  choice.tp = pool.tp();
  choice.ep = std::max(1, pool.ep());
  choice.owned = pool.owned();
  return choice;
}

absl::StatusOr<Candidate> CandidateOf(const v1::PlannedFleet& fleet) {
  Candidate candidate;
  for (const v1::PlannedPool& pool : fleet.pools()) {
    absl::StatusOr<PoolChoice> choice = PoolChoiceOf(pool);
    if (!choice.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fleet '", fleet.system(), "': ", choice.status().message()));
    }
    candidate.push_back(*std::move(choice));
  }
  return candidate;
}

std::string CandidateKey(const Candidate& candidate) {
  std::string key;
  for (const PoolChoice& pool : candidate) {
    if (!key.empty()) key += "+";
    absl::StrAppend(&key, pool.owned ? "owned-" : "",
                    sim::PoolRoleName(pool.role), ":", pool.chip, "x",
                    pool.machines, "@tp", pool.tp,
                    pool.ep > 1 ? absl::StrCat("ep", pool.ep) : "");
  }
  return key;
}

std::vector<std::string> TemplateKernelsOn(
    const v1::Chip& chip,
    const google::protobuf::RepeatedPtrField<std::string>& kernels) {
  const std::vector<std::string> known = hardware::ChipKernels(chip);
  std::vector<std::string> out;
  for (const std::string& kernel : kernels) {
    if (absl::c_binary_search(known, kernel)) out.push_back(kernel);
  }
  return out;
}

v1::Cluster CandidateEvaluator::ToCluster(const Candidate& candidate) const {
  v1::Cluster cluster = context_->template_cluster;
  cluster.clear_pools();
  cluster.set_name(CandidateKey(candidate));
  for (const PoolChoice& choice : candidate) {
    v1::Pool* pool = cluster.add_pools();
    // Scheduler settings from the template's pool of the same role.
    for (const v1::Pool& t : context_->template_cluster.pools()) {
      if (t.role() == choice.role) {
        *pool = t;
        break;
      }
    }
    pool->set_name(absl::StrCat(choice.owned ? "owned-" : "",
                                sim::PoolRoleName(choice.role), "-",
                                choice.chip));
    pool->set_role(choice.role);
    pool->mutable_machine()->set_chip(choice.chip);
    const v1::Chip& chip = **context_->chips.Find(choice.chip);
    pool->mutable_machine()->set_chips_per_machine(
        context_->MachineChips(chip));
    // The template's kernels on the chips that have them (a 910C's
    // "flashmla" means nothing on an H200).
    const std::vector<std::string> kernels =
        TemplateKernelsOn(chip, pool->kernels());
    pool->clear_kernels();
    for (const std::string& kernel : kernels) pool->add_kernels(kernel);
    pool->set_machines(choice.machines);
    if (choice.owned) pool->set_owned_machines(choice.machines);
    pool->set_tp(choice.tp);
    // The planner's layout, whatever the template's pool says.
    if (choice.ep > 1) {
      pool->set_ep(choice.ep);
    } else {
      pool->clear_ep();
    }
  }
  return cluster;
}

std::string CandidateEvaluator::RunKey(const v1::Cluster& cluster) const {
  SimulationKeyInputs inputs;
  inputs.cluster = &cluster;
  inputs.model = &context_->model;
  inputs.workload = &context_->workload;
  inputs.slo = &context_->slo;
  inputs.stop_when_slo_missed = context_->stop_when_slo_missed;
  inputs.chips.push_back(&context_->slo_reference_chip);
  for (const v1::Pool& pool : cluster.pools()) {
    absl::StatusOr<const v1::Chip*> chip =
        context_->chips.Find(pool.machine().chip());
    if (chip.ok()) inputs.chips.push_back(*chip);
  }
  return SimulationCache::Key(inputs);
}

absl::Status CandidateEvaluator::Record(
    const std::string& key, const sim::FleetSpec& fleet,
    const absl::StatusOr<v1::SimulationResult>& result) {
  Evaluation& evaluation = cache_[key];
  if (!result.ok()) {  // the candidate's own limits (run_limits.h)
    evaluation.fleet.set_miss(
        absl::StrCat("simulation failed: ", result.status().message()));
    return absl::OkStatus();
  }
  if (result->rejected_over_context() > 0) {
    // No fleet serves a request the model cannot hold: say so once rather
    // than search every fleet up to the budget for nothing.
    return absl::FailedPreconditionError(absl::StrCat(
        result->rejected_over_context(), " of ", result->requests(),
        " requests have prompt + output over ", context_->model.name(),
        "'s max_context of ", context_->model.max_context(),
        " tokens and are rejected (the cluster's context_limit): no fleet can "
        "serve them. Use --context-limit truncate (or allow), or a model "
        "with a longer context"));
  }
  v1::SimulationResult* priced = evaluation.fleet.mutable_result();
  *priced = *result;
  FLEETSIM_RETURN_IF_ERROR(
      economics::PriceSimulation(fleet, context_->h100, context_->tco, priced));
  auto [ratio, text] = WorstMiss(*result);
  evaluation.miss_ratio = ratio;
  evaluation.slo_met = result->slo_met();
  bool within_budget = evaluation.fleet.miss().empty();
  evaluation.fleet.set_feasible(result->slo_met() && within_budget);
  if (!result->slo_met()) evaluation.fleet.set_miss(text);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CandidateEvaluator::Run>>
CandidateEvaluator::Prepare(const Candidate& candidate, const std::string& key,
                            bool speculative) {
  Evaluation evaluation;
  v1::PlannedFleet& fleet = evaluation.fleet;
  int machines = 0;
  for (const PoolChoice& choice : candidate) {
    v1::PlannedPool* pool = fleet.add_pools();
    pool->set_role(sim::PoolRoleName(choice.role));
    pool->set_chip(choice.chip);
    pool->set_machines(choice.machines);
    pool->set_tp(choice.tp);
    if (choice.ep > 1) pool->set_ep(choice.ep);
    pool->set_owned(choice.owned);
    if (!choice.owned) machines += choice.machines;  // the budget's count
  }
  fleet.set_system(SystemLabel(candidate));
  v1::Cluster cluster = ToCluster(candidate);
  absl::StatusOr<sim::FleetSpec> spec = sim::ResolveFleet(
      cluster, key, context_->model, context_->chips.entries(), {});
  if (!spec.ok()) {
    if (speculative) return std::nullopt;
    fleet.set_miss(std::string(spec.status().message()));
    cache_[key] = evaluation;
    return std::nullopt;
  }
  absl::StatusOr<double> cost =
      economics::NormalizedFleetCost(economics::MachineGroupsOf(*spec, nullptr),
                                     context_->h100, context_->tco.basis);
  if (!cost.ok()) {
    // A fleet nobody asked for yet must not end a plan that one run at a
    // time would finish: its error waits until a search asks for it.
    if (speculative) return std::nullopt;
    return cost.status();
  }
  fleet.set_cost(*cost);
  fleet.set_tdp_w(spec->TdpW());
  fleet.set_tdp_normalized(spec->NormalizedTdp(context_->h100));
  if (machines > context_->budget_machines) {
    fleet.set_miss(absl::StrCat(machines, " machines exceed the budget of ",
                                context_->budget_machines));
  }
  std::string run_key = cache_of_runs_ ? RunKey(cluster) : "";
  if (cache_of_runs_) {
    if (speculative) {
      if (cache_of_runs_->Contains(run_key)) return std::nullopt;
    } else if (const v1::SimulationResult* stored =
                   cache_of_runs_->Find(run_key)) {
      ++reused_;
      cache_[key] = evaluation;
      FLEETSIM_RETURN_IF_ERROR(Record(key, *spec, *stored));
      return std::nullopt;
    }
  }
  Run run;
  run.key = key;
  run.run_key = std::move(run_key);
  run.cluster = std::move(cluster);
  run.evaluation = std::move(evaluation);
  run.input = std::make_unique<sim::SimulationInputs>();
  run.input->fleet = *std::move(spec);
  run.input->workload = context_->workload;
  run.input->slo = context_->slo;
  run.input->slo_reference_chip = context_->slo_reference_chip;
  run.input->h100 = context_->h100;
  run.input->stop_when_slo_missed = context_->stop_when_slo_missed;
  run.input->arrivals = context_->arrivals;
  return run;
}

absl::Status CandidateEvaluator::Finish(Run run) {
  cache_[run.key] = std::move(run.evaluation);
  ++simulations_;
  const absl::StatusOr<v1::SimulationResult>& result = run.result;
  if (cache_of_runs_ && result.ok())
    cache_of_runs_->Insert(run.run_key, *result);
  if (result.ok() && result->has_early_stop()) ++stopped_early_;
  if (!result.ok() && !IsFleetsOwnFailure(result.status())) {
    // A crash, or bad inputs (the trace, the workload), says nothing
    // about the fleet: it must not pass for an infeasible candidate. The
    // plan stops, naming what was simulated.
    return absl::InternalError(
        absl::StrCat("simulation of candidate ", run.key,
                     " failed: ", result.status().message(),
                     "; its inputs: model '", context_->model.name(),
                     "', workload { ", context_->workload.ShortDebugString(),
                     " }, cluster { ", run.cluster.ShortDebugString(), " }"));
  }
  // A workload with no request (an empty trace, a window past its end)
  // meets every SLO: an error, not a plan.
  if (result.ok()) {
    FLEETSIM_RETURN_IF_ERROR(sim::RequireRequests(*result, context_->workload));
  }
  return Record(run.key, run.input->fleet, result);
}

absl::Status CandidateEvaluator::EvaluateAll(
    const std::vector<Candidate>& candidates,
    const std::vector<Candidate>& speculative) {
  std::vector<Run> runs;  // the candidates' own, then speculative ones
  auto queued = [&runs](const std::string& key) {
    return std::any_of(runs.begin(), runs.end(),
                       [&key](const Run& run) { return run.key == key; });
  };
  for (const Candidate& candidate : candidates) {
    std::string key = CandidateKey(candidate);
    if (cache_.count(key) || queued(key)) continue;
    if (auto aside = aside_.find(key); aside != aside_.end()) {
      Run run = std::move(aside->second);
      aside_.erase(aside);
      FLEETSIM_RETURN_IF_ERROR(Finish(std::move(run)));
      continue;
    }
    FLEETSIM_ASSIGN_OR_RETURN(std::optional<Run> run,
                              Prepare(candidate, key, false));
    if (run) runs.push_back(*std::move(run));
  }
  const size_t needed = runs.size();
  for (const Candidate& candidate : speculative) {
    std::string key = CandidateKey(candidate);
    if (cache_.count(key) || aside_.count(key) || queued(key)) continue;
    FLEETSIM_ASSIGN_OR_RETURN(std::optional<Run> run,
                              Prepare(candidate, key, true));
    if (run) runs.push_back(*std::move(run));
  }
  if (runs.empty()) return absl::OkStatus();
  std::vector<SimulationJob> jobs;
  for (const Run& run : runs) jobs.push_back({run.input.get(), &run.cluster});
  absl::StatusOr<BatchResults> results = pool_->RunBatch(jobs);
  if (!results.ok()) return results.status();
  speculative_ += static_cast<int64_t>(runs.size() - needed);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].result = std::move((*results)[i]);
    if (i >= needed) {
      aside_.emplace(runs[i].key, std::move(runs[i]));
      continue;
    }
    FLEETSIM_RETURN_IF_ERROR(Finish(std::move(runs[i])));
  }
  return absl::OkStatus();
}

bool CandidateEvaluator::Has(const Candidate& candidate) const {
  return cache_.count(CandidateKey(candidate)) > 0;
}

bool CandidateEvaluator::HasOrAside(const Candidate& candidate) const {
  const std::string key = CandidateKey(candidate);
  return cache_.count(key) > 0 || aside_.count(key) > 0;
}

const Evaluation& CandidateEvaluator::Get(const Candidate& candidate) const {
  return cache_.at(CandidateKey(candidate));
}

}  // namespace fleetsim::planner
