// `fleetsim replay`: one simulation of a cluster serving a trace.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "cli/economics_flags.h"
#include "cli/remote_client.h"
#include "cli/replay_outputs.h"
#include "cli/simulation_setup.h"
#include "economics/pricing.h"
#include "economics/tco.h"
#include "sim/simulation.h"
#include "util/output_file.h"
#include "util/proto_json.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, cluster, "",
          "Cluster file (.txtpb), e.g. data/clusters/splitwise_h100.txtpb");

ABSL_DECLARE_FLAG(double, timeseries_interval_s);  // cli/replay_outputs.cc
ABSL_DECLARE_FLAG(std::string, trace_events);

namespace fleetsim::cli {

std::string TcoLine(const v1::Tco& t) {
  return absl::StrFormat(
      "cost (%s basis): capex $%.0f, TCO $%.0f over %g years ($%.2f/h, "
      "$%.3f per million output tokens), facility power %.1f kW\n",
      economics::CostBasisName(t.cost_basis()), t.capex_usd(), t.tco_usd(),
      t.amortization_years(), t.usd_per_hour(),
      t.usd_per_million_output_tokens(), t.facility_power_w() / 1000);
}

absl::StatusOr<std::string> SummaryJson(const v1::SimulationResult& result) {
  v1::SimulationResult file = result;
  file.clear_wall_s();  // deterministic: the same run, the same bytes
  file.set_schema(v1::SimulationResult::descriptor()->full_name());
  return ProtoJson(file);
}

namespace {

// The fleet's MFU and its operators taking the most busy time.
std::string OperatorLine(const v1::SimulationResult& r) {
  std::vector<const v1::OperatorTotal*> ops;
  for (const v1::OperatorTotal& op : r.operators()) ops.push_back(&op);
  std::stable_sort(ops.begin(), ops.end(),
                   [](auto* a, auto* b) { return a->busy_s() > b->busy_s(); });
  std::string out =
      absl::StrFormat("MFU %.1f%%; busy time by operator:", 100 * r.mfu());
  for (size_t i = 0; i < ops.size() && i < 5; ++i) {
    absl::StrAppendFormat(&out, " %s %.1f%%", ops[i]->name(),
                          100 * ops[i]->busy_fraction());
  }
  return out + (ops.size() > 5 ? " ... (summary.json: operators)\n" : "\n");
}

}  // namespace

std::string SummaryTable(const v1::SimulationResult& r) {
  std::string out;
  absl::StrAppendFormat(
      &out, "requests %d  completed %d  rejected %d  preemptions %d\n",
      r.requests(), r.completed(), r.rejected(), r.preemptions());
  if (r.rejected_over_context() + r.truncated_over_context() +
          r.served_over_context() >
      0) {
    absl::StrAppendFormat(
        &out,
        "over the model's max_context: %d rejected, %d truncated, %d served "
        "as given (--context-limit)%s\n",
        r.rejected_over_context(), r.truncated_over_context(),
        r.served_over_context(),
        r.samples_over_context() > 0
            ? absl::StrCat("; ", r.samples_over_context(),
                           " test-time-scaling samples over it")
            : "");
  }
  absl::StrAppendFormat(&out, "%-8s %10s %10s %10s %10s\n", "metric", "mean",
                        "p50", "p90", "p99");
  auto row = [&out](const char* name, const v1::Distribution& d) {
    absl::StrAppendFormat(&out, "%-8s %10.4f %10.4f %10.4f %10.4f\n", name,
                          d.mean(), d.p50(), d.p90(), d.p99());
  };
  row("ttft_s", r.ttft_s());
  row("tbt_s", r.tbt_s());
  row("tpot_s", r.tpot_s());
  row("e2e_s", r.e2e_s());
  row("queue_s", r.queue_s());
  if (r.kv_transfer_count() > 0) row("kv_s", r.kv_transfer_s());
  absl::StrAppendFormat(
      &out,
      "throughput %.2f req/s, %.0f output tok/s; energy %.3g J; fleet cost "
      "%.2f H100 machines, TDP %.0f W\n",
      r.throughput_rps(), r.output_tokens_per_s(), r.energy_j(), r.fleet_cost(),
      r.fleet_tdp_w());
  if (r.has_tco()) out += TcoLine(r.tco());
  if (r.has_prefix_cache()) {
    const v1::PrefixCacheUsage& cache = r.prefix_cache();
    absl::StrAppendFormat(
        &out,
        "prefix cache: hit rate %.1f%% (%d of %d prompt tokens cached, "
        "prefill not computed), %d blocks evicted\n",
        100 * cache.hit_rate(), cache.cached_tokens(), cache.prompt_tokens(),
        cache.evicted_blocks());
  }
  for (const v1::PoolUsage& p : r.pools()) {
    absl::StrAppendFormat(
        &out,
        "pool %-10s %-9s %-13s machines %3d  busy %5.1f%%  batch %6.1f  "
        "peak KV %5.1f%%  prompts %d\n",
        p.name(), p.role(), p.chip(), p.machines(), 100 * p.busy_fraction(),
        p.mean_batch_size(), 100 * p.peak_kv_fraction(), p.prompts_served());
  }
  if (r.operators_size() > 0) out += OperatorLine(r);
  for (const v1::SloAttainment& a : r.slo()) {
    absl::StrAppendFormat(&out, "SLO %-5s p%-4g %s %8.3f (limit %.3f%s)\n",
                          a.metric(), a.percentile(),
                          a.met() ? "met   " : "MISSED", a.observed(),
                          a.limit(), a.bound_s() == 0 ? "x slowdown" : " s");
  }
  if (r.slo_size() > 0)
    absl::StrAppendFormat(&out, "SLO %s\n", r.slo_met() ? "met" : "missed");
  return out;
}

absl::Status CommitReplayOutputs(const std::string& out_dir,
                                 OutputFile* requests_csv,
                                 const v1::SimulationResult& result,
                                 const std::vector<OutputFile*>& more) {
  // The previous run's summary.json goes first and the new one comes last,
  // so a summary.json always describes the requests.csv beside it; printed
  // before either, so that a failure leaves the previous run's files whole.
  FLEETSIM_ASSIGN_OR_RETURN(const std::string json, SummaryJson(result));
  const std::string summary = out_dir + "/summary.json";
  if (std::remove(summary.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError(
        absl::StrCat(summary, ": cannot replace: ", std::strerror(errno)));
  }
  if (requests_csv != nullptr) {
    FLEETSIM_RETURN_IF_ERROR(requests_csv->Commit());
  }
  for (OutputFile* file : more) {
    if (file != nullptr) FLEETSIM_RETURN_IF_ERROR(file->Commit());
  }
  return WriteOutputFile(summary, json);
}

namespace {

int RunReplay(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("replay", args)) return code;
  if (absl::GetFlag(FLAGS_cluster).empty() ||
      absl::GetFlag(FLAGS_model).empty() ||
      (absl::GetFlag(FLAGS_trace).empty() && !ImageRequestsFlag())) {
    return UsageError(
        "replay needs --cluster FILE --model NAME and --trace FILE (or "
        "--image-requests for a detector)");
  }
  if (!absl::GetFlag(FLAGS_server).empty()) {  // cli/remote_client.h
    if (absl::GetFlag(FLAGS_timeseries_interval_s) != 0 ||
        !absl::GetFlag(FLAGS_trace_events).empty()) {
      return UsageError(
          "--timeseries-interval-s and --trace-events watch a local run; "
          "drop --server");
    }
    return ReplayRemotely(absl::GetFlag(FLAGS_cluster),
                          absl::GetFlag(FLAGS_model));
  }
  absl::StatusOr<sim::SimulationInputs> inputs = BuildSimulationInputs(
      absl::GetFlag(FLAGS_cluster), absl::GetFlag(FLAGS_model));
  if (!inputs.ok()) return Fail(inputs.status());
  inputs->operator_totals = true;
  absl::StatusOr<economics::TcoSettings> tco = TcoSettingsFromFlags();
  if (!tco.ok()) return Fail(tco.status());
  absl::Status priceable =
      economics::CheckPriceable(inputs->fleet, inputs->h100, *tco);
  if (!priceable.ok()) return Fail(priceable);

  // Outputs (util/output_file.h) appear only when complete, and before
  // anything is printed.
  absl::StatusOr<std::unique_ptr<ReplayOutputs>> outputs =
      ReplayOutputs::Open(*inputs, absl::GetFlag(FLAGS_cluster));
  if (!outputs.ok()) return Fail(outputs.status());
  inputs->observer = (*outputs)->observer();
  absl::StatusOr<v1::SimulationResult> result =
      sim::RunSimulation(*inputs, (*outputs)->sink());
  if (!result.ok()) return Fail(result.status());
  absl::Status simulated = sim::RequireRequests(*result, inputs->workload);
  if (!simulated.ok()) return Fail(simulated);
  absl::Status priced =
      economics::PriceSimulation(inputs->fleet, inputs->h100, *tco, &*result);
  if (!priced.ok()) return Fail(priced);
  absl::Status written = (*outputs)->Commit(&*result);
  if (!written.ok()) return Fail(written);
  std::cout << SummaryTable(*result) << std::flush;
  std::cerr << absl::StrFormat("simulated %.1f s in %.3f s wall (%d events)\n",
                               result->simulated_s(), result->wall_s(),
                               result->events());
  return 0;
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "replay",
    {"replay --cluster FILE --model NAME --trace FILE [flags]",
     "One simulation of a cluster serving a trace: a summary table; with "
     "--out, requests.csv, summary.json, inputs.json (what the run was "
     "given) and, with --timeseries-interval-s, timeseries.csv; with "
     "--trace-events, a Trace Event JSON for Perfetto.",
     fleetsim::cli::Flags({{"cluster", "model", "pool", "decode_stride",
                            "max_decode_run", "out", "data_dir"},
                           fleetsim::cli::WorkloadFlagNames(),
                           fleetsim::cli::ReplayOutputFlagNames(),
                           fleetsim::cli::EconomicsFlagNames(),
                           fleetsim::cli::RemoteFlagNames()}),
     fleetsim::cli::RunReplay});
