// File: study/study_runner.h
//
// RunStudy answers a study file: every variant planned over the seeds
// (seeded_plan.h) with one SimulationCache shared by all of them, so a
// variant that changes only prices or the site re-prices earlier
// simulations instead of running new ones; each variant's saving against
// the baseline; the tornado swings around the baseline; the assumptions
// table; and the provenance of the run.
#ifndef FLEETSIM_STUDY_STUDY_RUNNER_H_
#define FLEETSIM_STUDY_STUDY_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/study.pb.h"
#include "planner/simulation_pool.h"
#include "sim/catalogs.h"

namespace fleetsim::study {

// Most arrival seeds per variant.
inline constexpr int kMaxStudySeeds = 64;

struct StudyOptions {
  std::string data_dir;  // chips/, models/, slos/, clusters/, economics/
  // The catalogs of data_dir when the caller has them loaded already (the
  // CLI, the service); null = RunStudy loads them once.
  std::shared_ptr<const sim::Catalogs> catalogs;
  // Arrival seeds per variant: the base workload's seed (1 when unset) and
  // the next seeds - 1. More than one needs resampled arrivals.
  int seeds = 1;
  int jobs = 0;  // parallel simulations; 0 = one per core
  // Optional: where simulations run (PlannerOptions.pool); not owned.
  planner::SimulationPool* pool = nullptr;
  // Provenance: the study file (hashed; "" when the spec came inline: its
  // text is hashed instead) and the command line that ran it.
  std::string spec_path;
  std::string command_line;
  std::function<void(const v1::StudyProgress&)> progress;
  std::function<bool()> cancelled;  // true cancels (children are killed)
};

// Validates every variant before anything is simulated (errors name the
// variant), then plans. Errors: InvalidArgument / NotFound for bad input
// (a variant's model, chips, prices, SLO, site; --seeds above 1 on a
// timestamp replay), Cancelled. A variant without a feasible fleet is a
// result, not an error.
absl::StatusOr<v1::StudyResult> RunStudy(const v1::StudySpec& spec,
                                         const StudyOptions& options);

// "18 h100 prefill + 7 h100 decode".
std::string FleetText(const v1::StudyFleet& fleet);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_STUDY_RUNNER_H_
