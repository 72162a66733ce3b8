#include "cli/simulation_setup.h"

#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/common_flags.h"
#include "sim/context_limit.h"
#include "sim/scenario.h"
#include "workloads/trace_reader.h"

ABSL_FLAG(
    double, rate, 0,
    "Resample the trace's lengths with Poisson arrivals at this rate, req/s "
    "(SplitwiseSim's method); needs --duration");
ABSL_FLAG(bool, image_requests, false,
          "Requests are images for a detector model (Model.deformable_detr) "
          "at --rate images per second, each one prefill-only request of the "
          "model's feature-map tokens; no --trace");
ABSL_FLAG(double, rate_scale, 0,
          "Replay real timestamps, this many times faster");
ABSL_FLAG(double, duration, 0, "Window length, seconds (0 = whole trace)");
ABSL_FLAG(double, start, 0,
          "Window start, seconds after the first arrival (replay)");
ABSL_FLAG(std::string, arrival, "poisson",
          "Arrival process with --rate: poisson or gamma");
ABSL_FLAG(double, gamma_cv, 0,
          "Gamma arrivals: coefficient of variation of the gaps");
ABSL_FLAG(int64_t, max_requests, 0,
          "Stop after this many requests (0 = no limit)");
ABSL_FLAG(std::string, slo, "",
          "SLO: a preset (relaxed, normal, strict: SPAD's slowdowns vs an "
          "unbatched H100 TP8; splitwise: vs DGX-A100), a file, or inline "
          "targets such as ttft_p99=2s,tpot_p90=50ms,e2e_p50=20s (or 6x for a "
          "slowdown)");
ABSL_FLAG(
    int32_t, decode_stride, 16,
    "Evaluate the cost model every N iterations of a stable decode run and "
    "interpolate between (1 = every iteration; see sim/simulation.h)");
ABSL_FLAG(int32_t, max_decode_run, 256,
          "Longest run of identical decode iterations per SimGrid wait");
ABSL_FLAG(std::string, iteration_table, "",
          "Time iterations with SplitwiseSim's predictor over this "
          "perf_model.csv instead of the operator cost model (sets the "
          "cluster's iteration_time_table), e.g. "
          "data/splitwise/perf_model.csv; with --server, a path in the "
          "server's data folder");

ABSL_FLAG(std::string, context_limit, "",
          "Requests whose prompt + output exceed the model's max_context: "
          "reject, truncate or allow (served and counted); empty = the "
          "cluster's context_limit (default reject)");

namespace fleetsim::cli {

FlagNames WorkloadFlagNames() {
  return {"trace",         "format",        "rate",    "rate_scale",
          "duration",      "start",         "arrival", "gamma_cv",
          "seed",          "max_requests",  "slo",     "iteration_table",
          "context_limit", "image_requests"};
}

absl::StatusOr<v1::ContextLimit> ContextLimitFlag() {
  const std::string word = absl::GetFlag(FLAGS_context_limit);
  if (word.empty()) return v1::CONTEXT_LIMIT_UNSPECIFIED;
  absl::StatusOr<v1::ContextLimit> policy = sim::ParseContextLimit(word);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--context-limit: ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<v1::Workload> WorkloadFromFlags() {
  v1::Workload workload;
  workload.set_trace_path(absl::GetFlag(FLAGS_trace));
  if (!absl::GetFlag(FLAGS_format).empty()) {
    absl::StatusOr<v1::TraceFormat> format =
        workloads::ParseTraceFormat(absl::GetFlag(FLAGS_format));
    if (!format.ok()) return format.status();
    workload.set_format(*format);
  }
  double rate = absl::GetFlag(FLAGS_rate);
  if (rate != 0) {
    if (absl::GetFlag(FLAGS_rate_scale) != 0) {
      return absl::InvalidArgumentError(
          "--rate and --rate-scale exclude each other");
    }
    std::string arrival = absl::GetFlag(FLAGS_arrival);
    if (arrival != "poisson" && arrival != "gamma") {
      return absl::InvalidArgumentError(
          absl::StrCat("--arrival '", arrival, "': expected poisson or gamma"));
    }
    workload.set_arrival(arrival == "gamma" ? v1::ARRIVAL_PROCESS_GAMMA
                                            : v1::ARRIVAL_PROCESS_POISSON);
    workload.set_rate_per_s(rate);
    workload.set_gamma_cv(absl::GetFlag(FLAGS_gamma_cv));
  } else {
    workload.set_rate_scale(absl::GetFlag(FLAGS_rate_scale));
    workload.set_start_s(absl::GetFlag(FLAGS_start));
  }
  workload.set_duration_s(absl::GetFlag(FLAGS_duration));
  workload.set_seed(absl::GetFlag(FLAGS_seed));
  workload.set_max_requests(absl::GetFlag(FLAGS_max_requests));
  // The tokens of an image are the model's (sim::ResolveImageWorkload).
  if (absl::GetFlag(FLAGS_image_requests)) workload.mutable_images();
  return workload;
}

absl::StatusOr<sim::SimulationInputs> BuildSimulationInputs(
    const std::string& cluster_path, const std::string& model) {
  absl::StatusOr<v1::Workload> workload = WorkloadFromFlags();
  if (!workload.ok()) return workload.status();
  sim::ScenarioRequest request;
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return catalogs.status();
  request.catalogs = *catalogs;
  request.cluster_path = cluster_path;
  request.model = model;
  request.workload = *workload;
  request.slo = absl::GetFlag(FLAGS_slo);
  request.pool_overrides = RepeatedFlag("pool");
  request.iteration_table = IterationTableFlag();
  absl::StatusOr<v1::ContextLimit> context_limit = ContextLimitFlag();
  if (!context_limit.ok()) return context_limit.status();
  request.context_limit = *context_limit;
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(request);
  if (!inputs.ok()) return inputs.status();
  if (absl::GetFlag(FLAGS_decode_stride) < 1 ||
      absl::GetFlag(FLAGS_max_decode_run) < 1) {
    return absl::InvalidArgumentError(
        "--decode-stride and --max-decode-run must be >= 1");
  }
  inputs->decode_stride = absl::GetFlag(FLAGS_decode_stride);
  inputs->max_decode_run = absl::GetFlag(FLAGS_max_decode_run);
  return inputs;
}

bool ImageRequestsFlag() { return absl::GetFlag(FLAGS_image_requests); }

std::string SloFlag() { return absl::GetFlag(FLAGS_slo); }

std::string IterationTableFlag() {
  return absl::GetFlag(FLAGS_iteration_table);
}

absl::Status MakeOutputDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::PermissionDeniedError(absl::StrCat(dir, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace fleetsim::cli
