#include "cli/replay_outputs.h"

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "cli/run_inputs.h"
#include "cli/simulation_setup.h"
#include "util/status_macros.h"

namespace fleetsim::cli {

absl::StatusOr<std::unique_ptr<ReplayOutputs>> ReplayOutputs::Open(
    const sim::SimulationInputs& inputs, const std::string& cluster_path) {
  std::unique_ptr<ReplayOutputs> out(new ReplayOutputs());
  out->out_dir_ = absl::GetFlag(FLAGS_out);
  if (out->out_dir_.empty()) return out;
  FLEETSIM_RETURN_IF_ERROR(MakeOutputDir(out->out_dir_));
  FLEETSIM_ASSIGN_OR_RETURN(
      out->requests_csv_, OutputFile::Create(out->out_dir_ + "/requests.csv"));
  out->requests_csv_->Write(sim::RequestCsvHeader());
  FLEETSIM_ASSIGN_OR_RETURN(
      RunInputs echo, ReplayInputs(inputs, cluster_path, RepeatedFlag("pool")));
  FLEETSIM_ASSIGN_OR_RETURN(out->inputs_json_,
                            OutputFile::Create(out->out_dir_ + "/inputs.json"));
  FLEETSIM_ASSIGN_OR_RETURN(const std::string json, RunInputsJson(echo));
  out->inputs_json_->Write(json);
  return out;
}

sim::RequestSink ReplayOutputs::sink() {
  if (requests_csv_ == nullptr) return nullptr;
  OutputFile* file = requests_csv_.get();
  return [file](const sim::RequestRecord& record) {
    file->Write(sim::RequestCsvRow(record));
  };
}

absl::Status ReplayOutputs::Commit(const SimulationResult& result) {
  if (out_dir_.empty()) return absl::OkStatus();
  return CommitReplayOutputs(out_dir_, requests_csv_.get(), result,
                             {inputs_json_.get()});
}

}  // namespace fleetsim::cli
