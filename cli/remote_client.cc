#include "cli/remote_client.h"

#include <filesystem>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/common_flags.h"
#include "cli/economics_flags.h"
#include "cli/simulation_setup.h"
#include "fleetsim/v1/planning_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "service/request_checks.h"
#include "sim/slo_spec.h"
#include "util/status_macros.h"
#include "util/textproto.h"

ABSL_DECLARE_FLAG(std::string, slo);  // cli/simulation_setup.cc

ABSL_FLAG(std::string, server, "",
          "Run on a `fleetsim serve` at HOST:PORT instead of locally");
ABSL_FLAG(absl::Duration, server_deadline, absl::Minutes(30),
          "With --server: give up (and stop the server's work) after this");

namespace fleetsim::cli {

FlagNames RemoteFlagNames() { return {"server", "server_deadline"}; }
namespace {

// `path` relative to `root` when it lies inside it, else "".
std::string RelativeInside(const std::string& path, const std::string& root) {
  std::error_code ec;
  auto file = std::filesystem::weakly_canonical(path, ec);
  auto dir = std::filesystem::weakly_canonical(root, ec);
  if (ec) return "";
  auto rel = file.lexically_relative(dir);
  if (rel.empty() || *rel.begin() == "..") return "";
  return rel.string();
}

// Makes the local trace `workload->trace_path()` readable by the server:
// sent inline in `*trace_bytes` (the path cleared) when it is within the
// server's default inline limit, else named relative to the data folder,
// which the server is then assumed to share. Errors: NotFound (no such
// file); InvalidArgument (too large, and outside the data folder).
absl::Status AttachTrace(v1::Workload* workload, std::string* trace_bytes) {
  const std::string trace = workload->trace_path();
  std::error_code ec;
  auto size = std::filesystem::file_size(trace, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(trace, ": ", ec.message()));
  }
  if (static_cast<int64_t>(size) <= service::kDefaultMaxInlineTraceBytes) {
    FLEETSIM_RETURN_IF_ERROR(ReadFileToString(trace, trace_bytes));
    workload->clear_trace_path();
    return absl::OkStatus();
  }
  std::string relative = RelativeInside(trace, DataDir());
  if (relative.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(trace, ": ", size,
                     " bytes is too large to send inline; place it in "
                     "the server's data folder and name it from there"));
  }
  workload->set_trace_path(relative);
  return absl::OkStatus();
}

std::unique_ptr<v1::PlanningService::Stub> NewStub(const std::string& server) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxSendMessageSize(64 << 20);
  arguments.SetMaxReceiveMessageSize(64 << 20);
  return v1::PlanningService::NewStub(grpc::CreateCustomChannel(
      server, grpc::InsecureChannelCredentials(), arguments));
}

}  // namespace

absl::StatusOr<v1::SimulateRequest> SimulateRequestFromFlags(
    const std::string& cluster_path, const std::string& model) {
  v1::SimulateRequest request;
  FLEETSIM_RETURN_IF_ERROR(
      ReadTextProtoFile(cluster_path, request.mutable_cluster()));
  if (!IterationTableFlag().empty()) {
    request.mutable_cluster()->set_iteration_time_table(IterationTableFlag());
  }
  FLEETSIM_ASSIGN_OR_RETURN(v1::ContextLimit context_limit, ContextLimitFlag());
  if (context_limit != v1::CONTEXT_LIMIT_UNSPECIFIED)
    request.mutable_cluster()->set_context_limit(context_limit);
  request.set_model(model);
  FLEETSIM_ASSIGN_OR_RETURN(*request.mutable_workload(), WorkloadFromFlags());
  FLEETSIM_RETURN_IF_ERROR(
      AttachTrace(request.mutable_workload(), request.mutable_trace_bytes()));
  const std::string slo = absl::GetFlag(FLAGS_slo);
  std::error_code ec;
  if (!slo.empty()) {
    if (std::filesystem::is_regular_file(slo, ec)) {
      FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(slo, request.mutable_slo()));
    } else if (sim::IsSloSpec(slo)) {
      FLEETSIM_ASSIGN_OR_RETURN(*request.mutable_slo(), sim::ParseSloSpec(slo));
    } else {
      request.set_slo_preset(slo);
    }
  }
  for (const std::string& pool : RepeatedFlag("pool")) {
    request.add_pool_overrides(pool);
  }
  FLEETSIM_ASSIGN_OR_RETURN(v1::CostBasis basis, CostBasisFromFlags());
  request.set_cost_basis(basis);
  *request.mutable_site() = SiteOverridesFromFlags();
  return request;
}

absl::StatusOr<v1::SimulationResult> SimulateRemotely(
    const std::string& server, const v1::SimulateRequest& request,
    absl::Duration deadline) {
  std::unique_ptr<v1::PlanningService::Stub> stub = NewStub(server);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(deadline));
  v1::SimulateResponse response;
  grpc::Status status = stub->Simulate(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat(server, ": ", status.error_message()));
  }
  return std::move(*response.mutable_result());
}

absl::StatusOr<v1::PlanResult> PlanRemotely(
    const std::string& server, v1::PlanRequest request,
    const std::function<void(const v1::PlanProgress&)>& progress,
    absl::Duration deadline) {
  FLEETSIM_RETURN_IF_ERROR(
      AttachTrace(request.mutable_workload(), request.mutable_trace_bytes()));
  std::error_code ec;
  if (!request.slo_preset().empty() &&
      std::filesystem::is_regular_file(request.slo_preset(), ec)) {
    FLEETSIM_RETURN_IF_ERROR(
        ReadTextProtoFile(request.slo_preset(), request.mutable_slo()));
    request.clear_slo_preset();
  }
  std::unique_ptr<v1::PlanningService::Stub> stub = NewStub(server);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(deadline));
  std::unique_ptr<grpc::ClientReader<v1::PlanResponse>> reader =
      stub->Plan(&context, request);
  v1::PlanResponse event;
  v1::PlanResult result;
  bool got_result = false;
  while (reader->Read(&event)) {
    if (event.has_progress() && progress) progress(event.progress());
    if (event.has_result()) {
      result = event.result();
      got_result = true;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat(server, ": ", status.error_message()));
  }
  if (!got_result) {
    return absl::InternalError(
        absl::StrCat(server, ": the Plan stream ended without a result"));
  }
  return result;
}

int ReplayRemotely(const std::string& cluster_path, const std::string& model) {
  absl::StatusOr<v1::SimulateRequest> request =
      SimulateRequestFromFlags(cluster_path, model);
  if (!request.ok()) return Fail(request.status());
  absl::StatusOr<v1::SimulationResult> result =
      SimulateRemotely(absl::GetFlag(FLAGS_server), *request,
                       absl::GetFlag(FLAGS_server_deadline));
  if (!result.ok()) return Fail(result.status());
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  if (!out_dir.empty()) {  // files first, then stdout (cli/main.cc)
    absl::Status made = MakeOutputDir(out_dir);
    if (!made.ok()) return Fail(made);
    absl::Status written = CommitReplayOutputs(out_dir, nullptr, *result);
    if (!written.ok()) return Fail(written);
    std::cerr << "fleetsim: requests.csv is not available with --server\n";
  }
  std::cout << SummaryTable(*result) << std::flush;
  std::cerr << absl::StrFormat(
      "simulated %.1f s in %.3f s wall on %s (%d events)\n",
      result->simulated_s(), result->wall_s(), absl::GetFlag(FLAGS_server),
      result->events());
  return 0;
}

}  // namespace fleetsim::cli
