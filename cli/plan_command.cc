// `fleetsim plan`: the cheapest / lowest-power fleet under SLOs.
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "cli/distributed.h"
#include "cli/economics_flags.h"
#include "cli/remote_client.h"
#include "cli/run_inputs.h"
#include "cli/simulation_setup.h"
#include "economics/pricing.h"
#include "hardware/reference_machine.h"
#include "planner/candidate.h"
#include "planner/planner.h"
#include "sim/scenario.h"
#include "sim/slo_spec.h"
#include "util/csv.h"
#include "util/output_file.h"
#include "util/proto_json.h"
#include "util/status_macros.h"
#include "util/textproto.h"

ABSL_FLAG(std::string, chips, fleetsim::hardware::kReferenceChip,
          "Candidate chips, comma-separated catalog names");
ABSL_FLAG(std::string, modes, "colocated,disaggregated",
          "Serving modes to search: colocated, disaggregated");
ABSL_FLAG(std::string, objective, "pareto",
          "The fleet to recommend: tco, capex (or cost), power (or tdp), "
          "usd_per_mtok, or pareto (the capex-TDP front, led by capex)");
ABSL_FLAG(int32_t, budget_machines, 64, "Most machines a fleet may have");
ABSL_FLAG(int32_t, jobs, 0, "Parallel simulations (0 = one per core)");
ABSL_FLAG(std::string, tp_options, "",
          "TP degrees to try, comma-separated (default: machine size)");
ABSL_FLAG(std::string, normalize_to, fleetsim::hardware::kReferenceChip,
          "Cost unit: machines of this chip (only the reference chip, h100, "
          "so far)");
ABSL_FLAG(
    std::string, template_cluster, "",
    "Cluster file whose scheduler/network settings candidates use (default: "
    "data/clusters/splitwise_h100.txtpb)");
ABSL_FLAG(
    std::string, fixed_fleet, "",
    "Re-allocation what-if: a cluster file whose machines may switch roles");
ABSL_FLAG(bool, run_to_end, false,
          "Simulate every candidate to the end of its window; by default a "
          "simulation stops as soon as its SLO miss is certain (the same "
          "fleets, less CPU; the stopped candidates' metrics cover the run "
          "until the stop)");
ABSL_FLAG(std::string, existing_fleet, "",
          "Extend machines already owned (their purchase is sunk) instead "
          "of planning from nothing: pools as ROLE:CHIPxMACHINES@tpTP (or "
          "@tpTPepEP under expert parallelism) joined by '+', e.g. "
          "colocated:h100x2@tp8");

namespace fleetsim::cli {
namespace {

// --objective names, with the older cost/tdp kept as aliases.
constexpr std::pair<const char*, v1::PlanObjective> kObjectives[] = {
    {"pareto", v1::PLAN_OBJECTIVE_PARETO},
    {"capex", v1::PLAN_OBJECTIVE_COST},
    {"power", v1::PLAN_OBJECTIVE_TDP},
    {"tco", v1::PLAN_OBJECTIVE_TCO},
    {"usd_per_mtok", v1::PLAN_OBJECTIVE_USD_PER_MTOK},
    {"cost", v1::PLAN_OBJECTIVE_COST},
    {"tdp", v1::PLAN_OBJECTIVE_TDP},
};

absl::StatusOr<v1::PlanObjective> ParseObjective(absl::string_view name) {
  for (const auto& [objective_name, objective] : kObjectives) {
    if (name == objective_name) return objective;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--objective: unknown '", name,
                   "' (expected tco, capex, power, usd_per_mtok or pareto)"));
}

const char* ObjectiveName(v1::PlanObjective objective) {
  for (const auto& [name, value] : kObjectives) {
    if (value == objective) return name;
  }
  return "pareto";
}

// plan.json: the result's proto3 JSON with its schema.
absl::StatusOr<std::string> PlanJson(const v1::PlanResult& result) {
  v1::PlanResult file = result;
  file.set_schema(v1::PlanResult::descriptor()->full_name());
  return ProtoJson(file);
}

// plan.csv: one row per simulated fleet, for a spreadsheet.
std::string PlanCsv(const v1::PlanResult& result) {
  std::string csv =
      "system,pools,machines,feasible,cost_basis,capex_usd,tco_usd,"
      "opex_usd_per_year,usd_per_hour,usd_per_million_output_tokens,"
      "it_power_kw,facility_power_kw,tdp_kw,cost_h100_machines,"
      "ttft_p99_s,tbt_p99_s,throughput_rps,miss\n";
  for (const v1::PlannedFleet& fleet : result.fleets()) {
    std::vector<std::string> pools;
    int machines = 0;
    for (const v1::PlannedPool& p : fleet.pools()) {
      pools.push_back(planner::PoolLayoutText(p));
      machines += p.machines();
    }
    const v1::SimulationResult& r = fleet.result();
    const v1::Tco& t = r.tco();
    absl::StrAppendFormat(
        &csv,
        "%s,%s,%d,%d,%s,%.2f,%.2f,%.2f,%.4f,%.6f,%.3f,%.3f,%.3f,%.4f,"
        "%.6g,%.6g,%.6g,%s\n",
        CsvQuoted(fleet.system()), CsvQuoted(absl::StrJoin(pools, " + ")),
        machines, fleet.feasible() ? 1 : 0,
        r.has_tco() ? economics::CostBasisName(t.cost_basis()) : "",
        t.capex_usd(), t.tco_usd(), t.opex_usd_per_year(), t.usd_per_hour(),
        t.usd_per_million_output_tokens(), t.it_power_w() / 1000,
        t.facility_power_w() / 1000, fleet.tdp_w() / 1000, fleet.cost(),
        r.ttft_s().p99(), r.tbt_s().p99(), r.throughput_rps(),
        CsvQuoted(fleet.miss()));
  }
  return csv;
}

std::string FleetLine(const v1::PlannedFleet& fleet) {
  std::vector<std::string> pools;
  for (const v1::PlannedPool& p : fleet.pools()) {
    pools.push_back(planner::PoolText(p));
  }
  std::string line = absl::StrFormat("%-55s cost %6.2f  TDP %6.2f (%.0f W)",
                                     absl::StrJoin(pools, " + "), fleet.cost(),
                                     fleet.tdp_normalized(), fleet.tdp_w());
  const v1::Tco& tco = fleet.result().tco();
  if (fleet.result().has_tco()) {
    absl::StrAppendFormat(&line, "  TCO $%.2fM, $%.3f/Mtok",
                          tco.tco_usd() / 1e6,
                          tco.usd_per_million_output_tokens());
  }
  return line;
}

// The cluster file the request's template is read from: --template-cluster,
// or the default template when another flag (--iteration-table,
// --context-limit, parsed as `context_limit`) edits it; "" when the planner
// uses its own default.
std::string TemplateClusterPath(v1::ContextLimit context_limit) {
  if (!absl::GetFlag(FLAGS_template_cluster).empty())
    return absl::GetFlag(FLAGS_template_cluster);
  if (!IterationTableFlag().empty() ||
      context_limit != v1::CONTEXT_LIMIT_UNSPECIFIED)
    return DataDir() + "/" + planner::kDefaultTemplateCluster;
  return std::string();
}

// Every file `request` (from RequestFromFlags) was read from or names,
// for inputs.json.
absl::StatusOr<std::vector<InputPath>> RequestFiles(
    const v1::PlanRequest& request) {
  std::vector<InputPath> files;
  // A preset only the --server knows is named in the request, not hashed.
  absl::StatusOr<std::string> slo = sim::SloFilePath(DataDir(), SloFlag());
  if (slo.ok()) files.push_back({"slo", *std::move(slo)});
  // The request holds the --context-limit it was built with.
  files.push_back(
      {"template cluster",
       TemplateClusterPath(request.template_cluster().context_limit())});
  files.push_back({"fixed fleet", absl::GetFlag(FLAGS_fixed_fleet)});
  // With --server the table's path is the server's to resolve (in its data
  // folder): named in the request, not hashed here.
  if (absl::GetFlag(FLAGS_server).empty()) {
    files.push_back({"iteration table",
                     request.has_fixed_fleet()
                         ? request.fixed_fleet().iteration_time_table()
                         : request.template_cluster().iteration_time_table()});
  }
  return files;
}

absl::StatusOr<v1::PlanRequest> RequestFromFlags() {
  v1::PlanRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  absl::StatusOr<v1::Workload> workload = WorkloadFromFlags();
  if (!workload.ok()) return workload.status();
  *request.mutable_workload() = *workload;
  // Inline targets travel as Slo messages, which the gRPC service takes
  // (its slo_preset is a preset name or a file in its data folder).
  if (sim::IsSloSpec(SloFlag())) {
    absl::StatusOr<v1::Slo> slo = sim::ParseSloSpec(SloFlag());
    if (!slo.ok()) return slo.status();
    *request.mutable_slo() = *slo;
  } else {
    request.set_slo_preset(SloFlag());
  }
  for (absl::string_view chip :
       absl::StrSplit(absl::GetFlag(FLAGS_chips), ',', absl::SkipEmpty())) {
    request.add_chips(std::string(chip));
  }
  for (absl::string_view mode :
       absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty())) {
    if (mode == "colocated") {
      request.add_modes(v1::SERVING_MODE_COLOCATED);
    } else if (mode == "disaggregated") {
      request.add_modes(v1::SERVING_MODE_DISAGGREGATED);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--modes: unknown mode '", mode, "'"));
    }
  }
  absl::StatusOr<v1::PlanObjective> objective =
      ParseObjective(absl::GetFlag(FLAGS_objective));
  if (!objective.ok()) return objective.status();
  request.set_objective(*objective);
  absl::StatusOr<v1::CostBasis> basis = CostBasisFromFlags();
  if (!basis.ok()) return basis.status();
  request.set_cost_basis(*basis);
  *request.mutable_site() = SiteOverridesFromFlags();
  request.set_budget_machines(absl::GetFlag(FLAGS_budget_machines));
  request.set_jobs(absl::GetFlag(FLAGS_jobs));
  for (absl::string_view tp : absl::StrSplit(absl::GetFlag(FLAGS_tp_options),
                                             ',', absl::SkipEmpty())) {
    int value = 0;
    if (!absl::SimpleAtoi(tp, &value) || value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tp-options: bad TP '", tp, "'"));
    }
    request.add_tp(value);
  }
  if (absl::GetFlag(FLAGS_normalize_to) != hardware::kReferenceChip) {
    return absl::UnimplementedError(absl::StrCat("--normalize-to: only ",
                                                 hardware::kReferenceChip,
                                                 " machines are supported"));
  }
  request.set_normalize_to(hardware::kReferenceChip);
  const std::string table = IterationTableFlag();
  FLEETSIM_ASSIGN_OR_RETURN(const v1::ContextLimit context_limit,
                            ContextLimitFlag());
  const std::string path = TemplateClusterPath(context_limit);
  if (!path.empty()) {
    absl::Status status =
        ReadTextProtoFile(path, request.mutable_template_cluster());
    if (!status.ok()) return status;
    if (!table.empty())
      request.mutable_template_cluster()->set_iteration_time_table(table);
    if (context_limit != v1::CONTEXT_LIMIT_UNSPECIFIED)
      request.mutable_template_cluster()->set_context_limit(context_limit);
  }
  request.set_run_to_end(absl::GetFlag(FLAGS_run_to_end));
  if (!absl::GetFlag(FLAGS_existing_fleet).empty()) {
    absl::StatusOr<std::vector<v1::PlannedPool>> pools =
        planner::ParsePlannedPools(absl::GetFlag(FLAGS_existing_fleet));
    if (!pools.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--existing-fleet: ", pools.status().message()));
    }
    for (v1::PlannedPool& pool : *pools)
      *request.add_existing_pools() = std::move(pool);
  }
  if (!absl::GetFlag(FLAGS_fixed_fleet).empty()) {
    absl::Status status = ReadTextProtoFile(absl::GetFlag(FLAGS_fixed_fleet),
                                            request.mutable_fixed_fleet());
    if (!status.ok()) return status;
    if (!table.empty())
      request.mutable_fixed_fleet()->set_iteration_time_table(table);
  }
  return request;
}

int RunPlan(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("plan", args)) return code;
  if (absl::GetFlag(FLAGS_model).empty() ||
      absl::GetFlag(FLAGS_trace).empty() || SloFlag().empty()) {
    return UsageError(
        "plan needs --model NAME --trace FILE --slo "
        "FILE|relaxed|normal|strict");
  }
  absl::StatusOr<v1::PlanRequest> request = RequestFromFlags();
  if (!request.ok()) return Fail(request.status());
  // An unwritable --out fails now, not after the search; the files appear
  // only when complete (util/output_file.h), before anything is printed.
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  std::unique_ptr<OutputFile> json_file, csv_file, inputs_file;
  if (!out_dir.empty()) {
    absl::Status made = MakeOutputDir(out_dir);
    if (!made.ok()) return Fail(made);
    absl::StatusOr<std::vector<InputPath>> files = RequestFiles(*request);
    if (!files.ok()) return Fail(files.status());
    absl::StatusOr<v1::RunInputs> echo = PlanInputs(*request, *files);
    if (!echo.ok()) return Fail(echo.status());
    absl::StatusOr<std::unique_ptr<OutputFile>> inputs =
        OutputFile::Create(out_dir + "/inputs.json");
    if (!inputs.ok()) return Fail(inputs.status());
    inputs_file = *std::move(inputs);
    absl::StatusOr<std::string> echo_json = RunInputsJson(*echo);
    if (!echo_json.ok()) return Fail(echo_json.status());
    inputs_file->Write(*echo_json);
    absl::StatusOr<std::unique_ptr<OutputFile>> json =
        OutputFile::Create(out_dir + "/plan.json");
    if (!json.ok()) return Fail(json.status());
    absl::StatusOr<std::unique_ptr<OutputFile>> csv =
        OutputFile::Create(out_dir + "/plan.csv");
    if (!csv.ok()) return Fail(csv.status());
    json_file = *std::move(json);
    csv_file = *std::move(csv);
  }
  planner::PlannerOptions options;
  options.data_dir = DataDir();
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  options.catalogs = *catalogs;
  options.pool = DistributedPool();  // null: the local pool of --jobs
  options.progress = [](const v1::PlanProgress& p) {
    std::cerr << absl::StrFormat(
                     "\r[plan] %d simulations, %.1f s, best cost %s, ETA %.0f "
                     "s  %s   ",
                     p.evaluated(), p.elapsed_s(),
                     p.best_cost() > 0 ? absl::StrFormat("%.2f", p.best_cost())
                                       : "-",
                     p.eta_s(), p.message())
              << std::flush;
  };
  absl::StatusOr<v1::PlanResult> result =
      absl::GetFlag(FLAGS_server).empty()  // cli/remote_client.h
          ? planner::PlanFleet(*request, options)
          : PlanRemotely(absl::GetFlag(FLAGS_server), *request,
                         options.progress,
                         absl::GetFlag(FLAGS_server_deadline));
  std::cerr << "\n";
  if (!result.ok()) return Fail(result.status());
  if (json_file != nullptr) {
    // Printed first: a JSON failure commits neither file.
    absl::StatusOr<std::string> json = PlanJson(*result);
    if (!json.ok()) return Fail(json.status());
    csv_file->Write(PlanCsv(*result));
    absl::Status written = inputs_file->Commit();
    if (written.ok()) written = csv_file->Commit();
    json_file->Write(*json);
    if (written.ok()) written = json_file->Commit();
    if (!written.ok()) return Fail(written);
  }
  std::ostringstream out;
  if (result->has_reallocation()) {
    out << "re-allocation: " << FleetLine(result->reallocation()) << "\n"
        << "max rate within SLO: " << result->max_rate_per_s() << " req/s\n";
  }
  if (result->feasible() && !result->has_reallocation()) {
    out << absl::StrFormat("recommended (%s): ",
                           ObjectiveName(result->objective()))
        << FleetLine(result->recommended()) << "\n";
    out << "cheapest:   " << FleetLine(result->cheapest()) << "\n";
    out << "lowest TDP: " << FleetLine(result->lowest_tdp()) << "\n";
    const v1::Tco& tco = result->recommended().result().tco();
    out << "recommended fleet's " << TcoLine(tco);
    out << "cheapest per system:\n";
    for (const v1::PlannedFleet& fleet : result->best_per_system()) {
      out << absl::StrFormat("  %-44s ", fleet.system()) << FleetLine(fleet)
          << "\n";
    }
    out << "cost-TDP Pareto front:\n";
    for (const v1::PlannedFleet& fleet : result->pareto())
      out << "  " << FleetLine(fleet) << "\n";
  }
  if (!result->explanation().empty()) out << result->explanation() << "\n";
  out << absl::StrFormat(
      "%d simulations in %.1f s (%d stopped early at a certain SLO miss)\n",
      result->simulations(), result->wall_s(),
      result->simulations_stopped_early());
  std::cout << out.str() << std::flush;
  return result->feasible() || result->has_reallocation() ? 0 : 3;
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "plan",
    {"plan --model M --trace FILE --slo PRESET|FILE|SPEC [--chips "
     "h100,a100,...] [flags]",
     "Searches fleets (chips, serving modes, machine counts, TP) by "
     "simulation for the cheapest that meets the SLO at the offered load, "
     "and writes plan.json, plan.csv and inputs.json (what the plan was "
     "given) with --out.",
     fleetsim::cli::Flags({{"model", "chips", "modes", "objective",
                            "budget_machines", "jobs", "tp_options",
                            "normalize_to", "template_cluster", "fixed_fleet",
                            "existing_fleet", "run_to_end", "out", "data_dir"},
                           fleetsim::cli::WorkloadFlagNames(),
                           fleetsim::cli::EconomicsFlagNames(),
                           fleetsim::cli::RemoteFlagNames()}),
     fleetsim::cli::RunPlan});
