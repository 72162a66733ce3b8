// File: cli/run_inputs.h
//
// inputs.json (proto/run_inputs.proto): what `replay --out` and `plan
// --out` were given, written beside their results so that a result folder
// can be audited and rerun: the command line, the fleetsim build, the seed,
// the resolved configuration, and the SHA-256 of the files read.
#ifndef FLEETSIM_CLI_RUN_INPUTS_H_
#define FLEETSIM_CLI_RUN_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/plan.pb.h"
#include "proto/run_inputs.pb.h"
#include "sim/simulation.h"

namespace fleetsim::cli {

inline constexpr char kRunInputsSchema[] = "fleetsim.RunInputs/v1";

// This process's command line as typed (Linux /proc/self/cmdline), words
// with spaces, quotes or `$` single-quoted.
std::string ProcessCommandLine();

// A replay's inputs: `inputs` as resolved from `cluster_path` with
// `pool_overrides`. Errors: a file that cannot be read for its hash.
absl::StatusOr<RunInputs> ReplayInputs(
    const sim::SimulationInputs& inputs, const std::string& cluster_path,
    const std::vector<std::string>& pool_overrides);

// A plan's inputs: the request the planner ran. Errors: as ReplayInputs.
absl::StatusOr<RunInputs> PlanInputs(const PlanRequest& request);

// inputs.json's text: `inputs` as proto3 JSON (util/proto_json.h; its
// printer's errors).
absl::StatusOr<std::string> RunInputsJson(const RunInputs& inputs);

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_RUN_INPUTS_H_
