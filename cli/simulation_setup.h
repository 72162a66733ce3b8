// File: cli/simulation_setup.h
//
// Turns the simulation flags shared by `replay` and `plan` (--rate,
// --rate-scale, --duration, --slo, --pool ...) into SimulationInputs, and
// prints results. Flags are defined in simulation_setup.cc.
#ifndef FLEETSIM_CLI_SIMULATION_SETUP_H_
#define FLEETSIM_CLI_SIMULATION_SETUP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command_registry.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/workload.pb.h"
#include "sim/simulation.h"
#include "util/output_file.h"

namespace fleetsim::cli {

// The flags WorkloadFromFlags reads, with --slo and --iteration-table: what
// `replay` and `plan` share.
FlagNames WorkloadFlagNames();

// The Workload described by --trace, --format, --rate/--rate-scale,
// --arrival, --gamma-cv, --duration, --start, --seed, --max-requests.
absl::StatusOr<v1::Workload> WorkloadFromFlags();

// Catalogs from DataDir(), the cluster file, --pool overrides, --slo.
absl::StatusOr<sim::SimulationInputs> BuildSimulationInputs(
    const std::string& cluster_path, const std::string& model);

absl::Status MakeOutputDir(const std::string& dir);

// --image-requests: the requests are images for a detector (no trace).
bool ImageRequestsFlag();

// The --slo flag's value (a preset name or a file).
std::string SloFlag();

// The --iteration-table flag's value ("" = the operator cost model).
std::string IterationTableFlag();

// The --context-limit flag's policy (UNSPECIFIED when not given: the
// cluster's); InvalidArgument for a word it does not know.
absl::StatusOr<v1::ContextLimit> ContextLimitFlag();

// summary.json: the result's proto3 JSON (util/proto_json.h) with its
// schema, deterministic (wall_s cleared); and the text table.
absl::StatusOr<std::string> SummaryJson(const v1::SimulationResult& result);
std::string SummaryTable(const v1::SimulationResult& result);

// Writes a replay's files into `out_dir` (made already): commits
// `requests_csv` (null when there is none, as with --server) and the `more`
// files (null entries skipped) and writes summary.json, removing the
// previous summary.json first, so that one is present only beside the
// complete files it describes.
absl::Status CommitReplayOutputs(const std::string& out_dir,
                                 OutputFile* requests_csv,
                                 const v1::SimulationResult& result,
                                 const std::vector<OutputFile*>& more = {});

// A TCO's one-line text.
std::string TcoLine(const v1::Tco& tco);

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_SIMULATION_SETUP_H_
