#include "cli/run_inputs.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "study/provenance.h"
#include "util/proto_json.h"
#include "util/status_macros.h"

namespace fleetsim::cli {
namespace {

// Schema, command, command line and the build.
v1::RunInputs Common(const std::string& command, uint64_t seed) {
  v1::RunInputs inputs;
  inputs.set_schema(v1::RunInputs::descriptor()->full_name());
  inputs.set_command(command);
  inputs.set_command_line(ProcessCommandLine());
  inputs.set_release(FLEETSIM_VERSION);
  inputs.set_fleetsim_version(study::FleetsimVersion());
  inputs.set_commit(study::FleetsimCommit());
  inputs.set_seed(seed);
  return inputs;
}

absl::Status AddFiles(const std::vector<InputPath>& files,
                      v1::RunInputs* inputs) {
  for (const InputPath& file : files) {
    if (file.path.empty()) continue;
    FLEETSIM_ASSIGN_OR_RETURN(*inputs->add_files(),
                              study::HashInputFile(file.role, file.path));
  }
  return absl::OkStatus();
}

// `chip` unless an identical one is listed already.
void AddChip(const v1::Chip& chip, v1::RunInputs* inputs) {
  if (chip.name().empty()) return;
  const std::string bytes = chip.SerializeAsString();
  for (const v1::Chip& listed : inputs->chips())
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
    words.push_back(ShellWord(word));
    word.clear();
  }
  return absl::StrJoin(words, " ");
}

std::string ShellWord(const std::string& word) {
  // Characters no POSIX shell treats specially within an argument.
  constexpr char kPlain[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
      "_-./=:,+@%";
  if (!word.empty() && word.find_first_not_of(kPlain) == std::string::npos)
    return word;
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

absl::StatusOr<v1::RunInputs> ReplayInputs(
    const sim::SimulationInputs& inputs,
    const std::vector<std::string>& pool_overrides,
    const std::vector<InputPath>& files) {
  v1::RunInputs run = Common("replay", inputs.workload.seed());
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
      AddFiles({{"trace", inputs.workload.trace_path()},
                {"iteration table", inputs.fleet.iteration_table_path}},
               &run));
  FLEETSIM_RETURN_IF_ERROR(AddFiles(files, &run));
  return run;
}

absl::StatusOr<v1::RunInputs> PlanInputs(const v1::PlanRequest& request,
                                         const std::vector<InputPath>& files) {
  v1::RunInputs run = Common("plan", request.workload().seed());
  *run.mutable_plan_request() = request;
  // A trace sent inline (--server) is in `files` by its hash, not copied.
  run.mutable_plan_request()->clear_trace_bytes();
  *run.mutable_workload() = request.workload();
  FLEETSIM_RETURN_IF_ERROR(
      AddFiles({{"trace", request.workload().trace_path()}}, &run));
  FLEETSIM_RETURN_IF_ERROR(AddFiles(files, &run));
  return run;
}

absl::StatusOr<std::string> RunInputsJson(const v1::RunInputs& inputs) {
  return ProtoJson(inputs);
}

}  // namespace fleetsim::cli
