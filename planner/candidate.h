// File: planner/candidate.h
//
// A candidate fleet as the planner searches it — a list of pools (role,
// chip, machine count, TP, EP) — and its evaluation by simulation. Candidates
// are turned into Cluster configs from a template that carries scheduler
// and network settings (data/clusters/splitwise_h100.txtpb by default).
#ifndef FLEETSIM_PLANNER_CANDIDATE_H_
#define FLEETSIM_PLANNER_CANDIDATE_H_

#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "economics/tco.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/plan.pb.h"
#include "hardware/chip_catalog.h"
#include "planner/simulation_cache.h"
#include "planner/simulation_pool.h"
#include "sim/catalogs.h"
#include "sim/simulation.h"
#include "workloads/recorded_arrivals.h"

namespace fleetsim::planner {

struct PoolChoice {
  v1::PoolRole role = v1::POOL_ROLE_COLOCATED;
  std::string chip;
  int machines = 0;
  int tp = 0;
  bool owned = false;  // already owned (PlanRequest.existing_pools)
  int ep = 1;          // expert parallelism (Pool.ep); 1 = none
};
using Candidate = std::vector<PoolChoice>;

// "prefill:h100x18@tp8+decode:a100x9@tp8": the cache key and a label; an
// owned pool reads "owned-colocated:h100x2@tp8", an expert-parallel one
// "decode:h200x3@tp1ep8".
std::string CandidateKey(const Candidate& candidate);
// "disaggregated h100->a100 tp8" / "colocated h100 tp8", of the machines
// added, with " + owned fleet" when there is one ("owned fleet as is" when
// nothing is added).
std::string SystemLabel(const Candidate& candidate);
// "2 owned h100 colocated", "18 h100 prefill": a pool in words, for
// messages, tables and reports.
std::string PoolText(const v1::PlannedPool& pool);
// A pool's parallel layout in words: "tp8", or "tp1 ep8" under expert
// parallelism (ep <= 1: none).
std::string LayoutText(int tp, int ep);
// PoolText with its layout: "18 h100 prefill tp8".
std::string PoolLayoutText(const v1::PlannedPool& pool);

// Pools written as CandidateKey writes them, "colocated:h100x2@tp8" (or
// "...@tp1ep8") joined by '+' (how `plan --existing-fleet` names an owned
// fleet). InvalidArgument naming the part that does not parse.
absl::StatusOr<std::vector<v1::PlannedPool>> ParsePlannedPools(
    absl::string_view text);
// One planned pool as the search holds it. InvalidArgument for a role other
// than colocated, prefill, decode.
absl::StatusOr<PoolChoice> PoolChoiceOf(const v1::PlannedPool& pool);
// The candidate a planned fleet's pools describe. Errors as PoolChoiceOf.
absl::StatusOr<Candidate> CandidateOf(const v1::PlannedFleet& fleet);

struct Evaluation {
  v1::PlannedFleet fleet;  // pools, cost, TDP, result, feasibility, miss
  // max over SLO targets of observed / limit (<= 1 when every target is
  // met); +inf when the fleet cannot be built or rejected requests.
  double miss_ratio = std::numeric_limits<double>::infinity();
  // Every SLO target met (what the search bisects on; the budget is
  // applied only to what is reported as feasible).
  bool slo_met = false;
};

// The template cluster when a request names none, relative to the data
// folder (SplitwiseSim's scheduler and network settings).
inline constexpr char kDefaultTemplateCluster[] =
    "clusters/splitwise_h100.txtpb";

// Everything a candidate's simulation shares with the others.
struct PlanContext {
  v1::Model model;
  hardware::ChipCatalog chips;
  v1::Cluster template_cluster;
  v1::Workload workload;
  v1::Slo slo;
  v1::Chip slo_reference_chip;
  v1::Chip h100;
  // PlanRequest.chips_per_machine; 0 = each chip's own machine
  // (hardware::MachineChips: its scale-up domain, else 8).
  int chips_per_machine = 0;
  int MachineChips(const v1::Chip& chip) const {
    return chips_per_machine > 0 ? chips_per_machine
                                 : hardware::MachineChips(chip);
  }
  int budget_machines = 64;  // machines added, beyond any owned ones
  // The owned pools every candidate holds (PlanRequest.existing_pools).
  Candidate existing;
  // What cost means and the site assumptions every fleet is priced with.
  economics::TcoSettings tco;
  // Simulations stop at a certain SLO miss (!PlanRequest.run_to_end).
  bool stop_when_slo_missed = true;
  // The workload's stream, recorded once for every candidate's run
  // (sim::SimulationInputs.arrivals); null when it is not recorded (too
  // long, prefix hashes, or an error each run then reports itself).
  std::shared_ptr<const workloads::RecordedArrivals> arrivals;
};

// Finds the model and chips in `catalogs`, loads the SLO (inline or preset),
// template cluster and economics from their data folder, and checks the
// workload and the chips (each must exist and have the prices its cost
// basis needs). Errors: NotFound, InvalidArgument.
absl::StatusOr<PlanContext> BuildPlanContext(const v1::PlanRequest& request,
                                             const sim::Catalogs& catalogs);
// The same after loading the catalogs of `data_dir` (sim::Catalogs::Load).
absl::StatusOr<PlanContext> BuildPlanContext(const v1::PlanRequest& request,
                                             const std::string& data_dir);

// Of a template pool's `kernels`, those `chip` has entries for: a plan's
// template names the alternative kernels of some of the chips it tries
// (a 910C's "flashmla" means nothing on an H200).
std::vector<std::string> TemplateKernelsOn(
    const v1::Chip& chip,
    const google::protobuf::RepeatedPtrField<std::string>& kernels);

// Simulates candidates in parallel and caches their evaluations. With a
// SimulationCache, a candidate simulated before (by this plan or another
// sharing the cache) is only priced again.
class CandidateEvaluator final {
 public:
  CandidateEvaluator(const PlanContext* context, SimulationPool* pool,
                     SimulationCache* cache = nullptr)
      : context_(context), pool_(pool), cache_of_runs_(cache) {}

  // Simulates every candidate not yet cached (in parallel). A candidate
  // whose simulation fails on its own limits is a miss; one whose
  // simulation crashed (Internal, after SimulationPool's retry) or found
  // its inputs bad (InvalidArgument, NotFound, DataLoss: the trace, the
  // workload) is an error naming the candidate and its inputs.
  // `speculative` candidates run in the same batch (to fill the pool's
  // slots) but are kept aside: they enter all(), the counts, the
  // SimulationCache and the errors only when a later call asks for them,
  // so what a plan reports does not depend on how many ran at once.
  // Errors: Cancelled; those.
  absl::Status EvaluateAll(const std::vector<Candidate>& candidates,
                           const std::vector<Candidate>& speculative = {});

  // REQUIRES: the candidate was evaluated.
  const Evaluation& Get(const Candidate& candidate) const;
  bool Has(const Candidate& candidate) const;
  // Evaluated, or simulated speculatively and kept aside.
  bool HasOrAside(const Candidate& candidate) const;

  const std::map<std::string, Evaluation>& all() const { return cache_; }
  // Simulations whose results were used (one per candidate: a crashed one
  // run again counts once).
  int64_t simulations() const { return simulations_; }
  // Candidates answered by the SimulationCache.
  int64_t reused() const { return reused_; }
  // Simulations used that stopped at a certain SLO miss.
  int64_t stopped_early() const { return stopped_early_; }
  // Speculative simulations run, and those never asked for.
  int64_t speculative() const { return speculative_; }
  int64_t speculative_unused() const {
    return static_cast<int64_t>(aside_.size());
  }

  // The Cluster config a candidate runs as.
  v1::Cluster ToCluster(const Candidate& candidate) const;

 private:
  // A simulation to run: the candidate's evaluation so far (pools, cost,
  // budget) and its inputs; then its result.
  struct Run {
    std::string key;
    std::string run_key;  // SimulationCache key ("" without a cache)
    v1::Cluster cluster;  // the job, and error reports
    std::unique_ptr<sim::SimulationInputs> input;
    Evaluation evaluation;
    absl::StatusOr<v1::SimulationResult> result = absl::UnknownError("not run");
  };
  // Prices the candidate and, when it needs a simulation, returns it. A
  // candidate that cannot be built, or whose run the SimulationCache has,
  // is evaluated at once (unless speculative: then it is left for later).
  absl::StatusOr<std::optional<Run>> Prepare(const Candidate& candidate,
                                             const std::string& key,
                                             bool speculative);
  // Takes a finished run's result into all() and the counts.
  absl::Status Finish(Run run);
  // Fills the evaluation of `key` from a finished simulation of `fleet`.
  absl::Status Record(const std::string& key, const sim::FleetSpec& fleet,
                      const absl::StatusOr<v1::SimulationResult>& result);
  // The SimulationCache key of a candidate's cluster.
  std::string RunKey(const v1::Cluster& cluster) const;

  const PlanContext* context_;
  SimulationPool* pool_;
  SimulationCache* cache_of_runs_;  // may be null
  std::map<std::string, Evaluation> cache_;
  std::map<std::string, Run> aside_;  // speculative runs not yet asked for
  int64_t simulations_ = 0;
  int64_t speculative_ = 0;
  int64_t reused_ = 0;
  int64_t stopped_early_ = 0;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_CANDIDATE_H_
