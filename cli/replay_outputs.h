// File: cli/replay_outputs.h
//
// The files `fleetsim replay` writes, opened before the run and committed
// after it (util/output_file.h: each appears only when complete):
//   --out DIR: requests.csv, inputs.json (cli/run_inputs.h), summary.json
//     (last, so that one always describes the files beside it), and with
//     --timeseries-interval-s S, timeseries.csv (sim/timeseries.h);
//   --trace-events FILE: a Trace Event JSON of the window
//     --trace-events-start-s .. + --trace-events-window-s
//     (sim/trace_events.h).
// The flags are defined in replay_outputs.cc.
#ifndef FLEETSIM_CLI_REPLAY_OUTPUTS_H_
#define FLEETSIM_CLI_REPLAY_OUTPUTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command_registry.h"
#include "fleetsim/v1/result.pb.h"
#include "sim/run_observer.h"
#include "sim/simulation.h"
#include "sim/timeseries.h"
#include "sim/trace_events.h"
#include "util/output_file.h"

namespace fleetsim::cli {

// The flags below, for replay's registration.
FlagNames ReplayOutputFlagNames();

class ReplayOutputs final {
 public:
  // Opens what the flags ask for; `inputs` (outlives this), read from
  // `cluster_path`, are echoed in inputs.json. Errors: InvalidArgument for
  // --timeseries-interval-s without --out, a negative interval or an empty
  // trace window; PermissionDenied for a file that cannot be created; a
  // file that cannot be hashed (inputs.json).
  static absl::StatusOr<std::unique_ptr<ReplayOutputs>> Open(
      const sim::SimulationInputs& inputs, const std::string& cluster_path);

  // Where requests.csv's rows go (null without --out).
  sim::RequestSink sink();
  // What watches the run (null when nothing does).
  sim::RunObserver* observer();

  // Commits every file, summary.json (`result`) last. A bounded file cut
  // short is named in result->truncated_outputs and warned of on stderr.
  absl::Status Commit(v1::SimulationResult* result);

 private:
  ReplayOutputs() = default;

  std::string out_dir_;
  int64_t max_rows_ = 0;    // --timeseries-max-rows
  int64_t max_events_ = 0;  // --trace-events-max-events
  std::unique_ptr<OutputFile> requests_csv_;
  std::unique_ptr<OutputFile> inputs_json_;
  std::unique_ptr<OutputFile> timeseries_csv_;
  std::unique_ptr<OutputFile> trace_file_;
  std::unique_ptr<sim::TimeSeriesRecorder> timeseries_;
  std::unique_ptr<sim::TraceEventRecorder> trace_;
  std::optional<sim::RunObservers> observers_;
};

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_REPLAY_OUTPUTS_H_
