// File: cli/run_inputs.h
//
// inputs.json (proto/fleetsim/v1/run_inputs.proto): what `replay --out` and
// `plan --out` were given, written beside their results so that a result
// folder can be audited and rerun: the command line, the fleetsim build, the
// seed, the resolved configuration, and the SHA-256 of the files read.
#ifndef FLEETSIM_CLI_RUN_INPUTS_H_
#define FLEETSIM_CLI_RUN_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/run_inputs.pb.h"
#include "sim/simulation.h"

namespace fleetsim::cli {

// This process's command line (Linux /proc/self/cmdline), each word quoted
// for a POSIX shell where it needs it (ShellWord), so that pasting it
// reruns the command.
std::string ProcessCommandLine();

// `word` as a POSIX shell reads it back: unchanged when it holds only
// characters no shell treats specially, else single-quoted (a quote inside
// written '\''); the empty word is ''.
std::string ShellWord(const std::string& word);

// A file a run read, by its role ("cluster", "slo", ...); an empty path is
// skipped.
struct InputPath {
  std::string role;
  std::string path;
};

// A replay's inputs: `inputs` as resolved with `pool_overrides`; `files`
// are the files read besides the trace and iteration table (which
// `inputs` names): the cluster and the SLO. Errors: a file that cannot be
// read for its hash.
absl::StatusOr<v1::RunInputs> ReplayInputs(
    const sim::SimulationInputs& inputs,
    const std::vector<std::string>& pool_overrides,
    const std::vector<InputPath>& files);

// A plan's inputs: the request the planner ran; `files` as for
// ReplayInputs (the SLO, the template cluster, a fixed fleet, the
// iteration table); the trace is the request's. Errors: as ReplayInputs.
absl::StatusOr<v1::RunInputs> PlanInputs(const v1::PlanRequest& request,
                                         const std::vector<InputPath>& files);

// inputs.json's text: `inputs` as proto3 JSON (util/proto_json.h; its
// printer's errors).
absl::StatusOr<std::string> RunInputsJson(const v1::RunInputs& inputs);

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_RUN_INPUTS_H_
