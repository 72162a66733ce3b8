#include "cli/run_inputs.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "study/provenance.h"
#include "util/proto_json.h"
#include "util/status_macros.h"

namespace fleetsim::cli {
namespace {

// Schema, command, command line and the build.
RunInputs Common(const std::string& command, uint64_t seed) {
  RunInputs inputs;
  inputs.set_schema(kRunInputsSchema);
  inputs.set_command(command);
  inputs.set_command_line(ProcessCommandLine());
  inputs.set_release(FLEETSIM_VERSION);
  inputs.set_fleetsim_version(study::FleetsimVersion());
  inputs.set_commit(study::FleetsimCommit());
  inputs.set_seed(seed);
  return inputs;
}

absl::Status AddFile(const std::string& role, const std::string& path,
                     RunInputs* inputs) {
  if (path.empty()) return absl::OkStatus();
  FLEETSIM_ASSIGN_OR_RETURN(*inputs->add_files(),
                            study::HashInputFile(role, path));
  return absl::OkStatus();
}

// `chip` unless an identical one is listed already.
void AddChip(const Chip& chip, RunInputs* inputs) {
  if (chip.name().empty()) return;
  const std::string bytes = chip.SerializeAsString();
  for (const Chip& listed : inputs->chips())
    if (listed.SerializeAsString() == bytes) return;
  *inputs->add_chips() = chip;
}

}  // namespace

std::string ProcessCommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  std::vector<std::string> words;
  std::string word;
  for (char c : raw.str()) {
    if (c != '\0') {
      word.push_back(c);
      continue;
    }
    bool plain = word.find_first_of(" \t'\"$\\") == std::string::npos;
    words.push_back(plain ? word : absl::StrCat("'", word, "'"));
    word.clear();
  }
  return absl::StrJoin(words, " ");
}

absl::StatusOr<RunInputs> ReplayInputs(
    const sim::SimulationInputs& inputs, const std::string& cluster_path,
    const std::vector<std::string>& pool_overrides) {
  RunInputs run = Common("replay", inputs.workload.seed());
  *run.mutable_cluster() = inputs.cluster;
  for (const std::string& o : pool_overrides) run.add_pool_overrides(o);
  *run.mutable_model() = inputs.fleet.model;
  for (const sim::PoolSpec& pool : inputs.fleet.pools) AddChip(pool.chip, &run);
  AddChip(inputs.h100, &run);
  if (!inputs.slo.targets().empty()) {
    *run.mutable_slo() = inputs.slo;
    AddChip(inputs.slo_reference_chip, &run);
  }
  *run.mutable_workload() = inputs.workload;
  FLEETSIM_RETURN_IF_ERROR(
      AddFile("trace", inputs.workload.trace_path(), &run));
  FLEETSIM_RETURN_IF_ERROR(AddFile("cluster", cluster_path, &run));
  FLEETSIM_RETURN_IF_ERROR(
      AddFile("iteration table", inputs.fleet.iteration_table_path, &run));
  return run;
}

absl::StatusOr<RunInputs> PlanInputs(const PlanRequest& request) {
  RunInputs run = Common("plan", request.workload().seed());
  *run.mutable_plan_request() = request;
  // A trace sent inline (--server) is in `files` by its hash, not copied.
  run.mutable_plan_request()->clear_trace_bytes();
  *run.mutable_workload() = request.workload();
  FLEETSIM_RETURN_IF_ERROR(
      AddFile("trace", request.workload().trace_path(), &run));
  return run;
}

absl::StatusOr<std::string> RunInputsJson(const RunInputs& inputs) {
  return ProtoJson(inputs);
}

}  // namespace fleetsim::cli
