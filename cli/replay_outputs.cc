#include "cli/replay_outputs.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/common_flags.h"
#include "cli/run_inputs.h"
#include "cli/simulation_setup.h"
#include "sim/scenario.h"
#include "util/status_macros.h"

ABSL_FLAG(double, timeseries_interval_s, 0,
          "With --out: write timeseries.csv, each instance's batch size and "
          "KV use sampled every this many simulated seconds (0 = off)");
ABSL_FLAG(std::string, trace_events, "",
          "Write a Trace Event JSON file (Perfetto, chrome://tracing) of "
          "instances' iterations and KV transfers in a window of the run");
ABSL_FLAG(double, trace_events_start_s, 0,
          "--trace-events window start, simulated seconds");
ABSL_FLAG(double, trace_events_window_s, 10,
          "--trace-events window length, simulated seconds");
ABSL_FLAG(int64_t, timeseries_max_rows, 2'000'000,
          "Most rows timeseries.csv holds (about 70 bytes each); a run "
          "that needs more is cut there and says so");
ABSL_FLAG(int64_t, trace_events_max_events, 1'000'000,
          "Most events the --trace-events file holds (about 200 bytes "
          "each); a window that needs more is cut there and says so");

namespace fleetsim::cli {

FlagNames ReplayOutputFlagNames() {
  return {"timeseries_interval_s", "timeseries_max_rows",
          "trace_events",          "trace_events_start_s",
          "trace_events_window_s", "trace_events_max_events"};
}

absl::StatusOr<std::unique_ptr<ReplayOutputs>> ReplayOutputs::Open(
    const sim::SimulationInputs& inputs, const std::string& cluster_path) {
  std::unique_ptr<ReplayOutputs> out(new ReplayOutputs());
  out->out_dir_ = absl::GetFlag(FLAGS_out);
  const double interval_s = absl::GetFlag(FLAGS_timeseries_interval_s);
  if (interval_s != 0 && out->out_dir_.empty()) {
    return absl::InvalidArgumentError(
        "--timeseries-interval-s writes timeseries.csv into --out DIR");
  }
  if (!(interval_s >= 0)) {  // NaN too
    return absl::InvalidArgumentError(
        absl::StrCat("--timeseries-interval-s must be >= 0, got ", interval_s));
  }
  out->max_rows_ = absl::GetFlag(FLAGS_timeseries_max_rows);
  out->max_events_ = absl::GetFlag(FLAGS_trace_events_max_events);
  if (out->max_rows_ < 1 || out->max_events_ < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeseries-max-rows and --trace-events-max-events must be >= 1, "
        "got ",
        out->max_rows_, " and ", out->max_events_));
  }
  std::vector<sim::RunObserver*> observers;
  if (!out->out_dir_.empty()) {
    std::string slo_path;  // none without --slo
    if (!SloFlag().empty()) {
      FLEETSIM_ASSIGN_OR_RETURN(slo_path,
                                sim::SloFilePath(DataDir(), SloFlag()));
    }
    FLEETSIM_RETURN_IF_ERROR(MakeOutputDir(out->out_dir_));
    FLEETSIM_ASSIGN_OR_RETURN(
        out->requests_csv_,
        OutputFile::Create(out->out_dir_ + "/requests.csv"));
    out->requests_csv_->Write(sim::RequestCsvHeader());
    FLEETSIM_ASSIGN_OR_RETURN(
        v1::RunInputs echo,
        ReplayInputs(inputs, RepeatedFlag("pool"),
                     {{"cluster", cluster_path}, {"slo", slo_path}}));
    FLEETSIM_ASSIGN_OR_RETURN(
        out->inputs_json_, OutputFile::Create(out->out_dir_ + "/inputs.json"));
    FLEETSIM_ASSIGN_OR_RETURN(const std::string json, RunInputsJson(echo));
    out->inputs_json_->Write(json);
    if (interval_s > 0) {
      FLEETSIM_ASSIGN_OR_RETURN(
          out->timeseries_csv_,
          OutputFile::Create(out->out_dir_ + "/timeseries.csv"));
      out->timeseries_ = std::make_unique<sim::TimeSeriesRecorder>(
          inputs.fleet, interval_s, out->max_rows_, out->timeseries_csv_.get());
      observers.push_back(out->timeseries_.get());
    }
  }
  const std::string trace_path = absl::GetFlag(FLAGS_trace_events);
  if (!trace_path.empty()) {
    const double start_s = absl::GetFlag(FLAGS_trace_events_start_s);
    const double window_s = absl::GetFlag(FLAGS_trace_events_window_s);
    if (!(start_s >= 0) || !(window_s > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--trace-events-start-s must be >= 0 and --trace-events-window-s "
          "> 0, got ",
          start_s, " and ", window_s));
    }
    FLEETSIM_ASSIGN_OR_RETURN(out->trace_file_, OutputFile::Create(trace_path));
    out->trace_ = std::make_unique<sim::TraceEventRecorder>(
        inputs.fleet, start_s, window_s, out->max_events_,
        out->trace_file_.get());
    observers.push_back(out->trace_.get());
  }
  if (!observers.empty()) out->observers_.emplace(std::move(observers));
  return out;
}

sim::RequestSink ReplayOutputs::sink() {
  if (requests_csv_ == nullptr) return nullptr;
  OutputFile* file = requests_csv_.get();
  return [file](const sim::RequestRecord& record) {
    file->Write(sim::RequestCsvRow(record));
  };
}

sim::RunObserver* ReplayOutputs::observer() {
  return observers_ ? &*observers_ : nullptr;
}

absl::Status ReplayOutputs::Commit(v1::SimulationResult* result) {
  if (trace_ != nullptr) {
    trace_->Finish();
    if (trace_->truncated()) {
      result->add_truncated_outputs(
          absl::StrCat(trace_file_->path(), ": the first ", max_events_,
                       " events only; shorten --trace-events-window-s or raise "
                       "--trace-events-max-events"));
    }
  }
  if (timeseries_ != nullptr && timeseries_->truncated()) {
    result->add_truncated_outputs(
        absl::StrCat("timeseries.csv: the first ", max_rows_,
                     " rows only; raise --timeseries-interval-s or "
                     "--timeseries-max-rows"));
  }
  for (const std::string& cut : result->truncated_outputs())
    std::cerr << "warning: " << cut << "\n";
  if (trace_ != nullptr) FLEETSIM_RETURN_IF_ERROR(trace_file_->Commit());
  if (out_dir_.empty()) return absl::OkStatus();
  return CommitReplayOutputs(out_dir_, requests_csv_.get(), *result,
                             {inputs_json_.get(), timeseries_csv_.get()});
}

}  // namespace fleetsim::cli
