// File: cli/replay_outputs.h
//
// The files `fleetsim replay` writes, opened before the run and committed
// after it (util/output_file.h: each appears only when complete):
//   --out DIR: requests.csv, inputs.json (cli/run_inputs.h), summary.json
//     (last, so that one always describes the files beside it).
#ifndef FLEETSIM_CLI_REPLAY_OUTPUTS_H_
#define FLEETSIM_CLI_REPLAY_OUTPUTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/result.pb.h"
#include "sim/simulation.h"
#include "util/output_file.h"

namespace fleetsim::cli {

class ReplayOutputs final {
 public:
  // Opens what --out asks for; `inputs` (outlives this), read from
  // `cluster_path`, are echoed in inputs.json. Errors: PermissionDenied for
  // a file that cannot be created; a file that cannot be hashed
  // (inputs.json).
  static absl::StatusOr<std::unique_ptr<ReplayOutputs>> Open(
      const sim::SimulationInputs& inputs, const std::string& cluster_path);

  // Where requests.csv's rows go (null without --out).
  sim::RequestSink sink();

  // Commits every file, summary.json last.
  absl::Status Commit(const SimulationResult& result);

 private:
  ReplayOutputs() = default;

  std::string out_dir_;
  std::unique_ptr<OutputFile> requests_csv_;
  std::unique_ptr<OutputFile> inputs_json_;
};

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_REPLAY_OUTPUTS_H_
