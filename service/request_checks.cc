#include "service/request_checks.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "planner/plan_request_checks.h"
#include "sim/scenario.h"
#include "sim/slo_evaluator.h"
#include "study/study_runner.h"
#include "study/study_spec.h"
#include "util/status_macros.h"
#include "util/textproto.h"
#include "workloads/request_source.h"

namespace fleetsim::service {
namespace {

namespace fs = std::filesystem;

// True when `path` (lexically normal, absolute) is `root` or below it.
bool IsInside(const fs::path& path, const fs::path& root) {
  auto mismatch =
      std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return mismatch.first == root.end();
}

// A preset is a plain name: letters, digits, '-', '_'.
bool IsPresetName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::Status CheckPreset(const std::string& data_dir, const std::string& name,
                         const std::string& field) {
  if (!IsPresetName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", name,
        "': expected a preset name (letters, digits, '-', '_'), e.g. normal"));
  }
  std::error_code ec;
  if (!fs::is_regular_file(absl::StrCat(data_dir, "/slos/", name, ".txtpb"),
                           ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", name, "': no such preset in the server's ",
                     "slos/ folder"));
  }
  return absl::OkStatus();
}

absl::Status AsInvalidArgument(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kNotFound) {
    return absl::InvalidArgumentError(status.message());
  }
  return status;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const sim::Catalogs>> CatalogsOf(
    const RequestLimits& limits) {
  if (limits.catalogs != nullptr) return limits.catalogs;
  return sim::Catalogs::Load(limits.data_dir);
}

absl::StatusOr<std::string> ResolveDataPath(const std::string& data_dir,
                                            const std::string& path,
                                            const std::string& field) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": contains NUL"));
  }
  fs::path requested(path);
  for (const fs::path& part : requested) {
    if (part == "..") {
      return absl::PermissionDeniedError(
          absl::StrCat(field, " '", path,
                       "': '..' is not allowed; paths must stay inside "
                       "the server's data folder"));
    }
  }
  std::error_code ec;
  fs::path root = fs::weakly_canonical(data_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("data folder ", data_dir, ": ", ec.message()));
  }
  fs::path joined = requested.is_absolute() ? requested : root / requested;
  if (!IsInside(joined.lexically_normal(), root)) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, " '", path,
                     "': outside the server's data folder (absolute paths "
                     "must point inside it)"));
  }
  fs::path resolved = fs::canonical(joined, ec);  // follows every symlink
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", path,
                     "': not found in the server's data "
                     "folder (",
                     ec.message(), ")"));
  }
  if (!IsInside(resolved, root)) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, " '", path,
                     "': a symlink leads outside the server's data folder"));
  }
  if (!fs::is_regular_file(resolved, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", path, "': not a regular file"));
  }
  return resolved.string();
}

absl::StatusOr<std::string> CheckTraceSource(const std::string& trace_bytes,
                                             const std::string& trace_path,
                                             const RequestLimits& limits) {
  if (trace_bytes.empty()) {
    return ResolveDataPath(limits.data_dir, trace_path, "workload.trace_path");
  }
  if (static_cast<int64_t>(trace_bytes.size()) >
      limits.max_inline_trace_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trace_bytes: ", trace_bytes.size(),
        " bytes is over the server's limit of ", limits.max_inline_trace_bytes,
        " (--max-inline-trace-bytes); put the trace in the server's data "
        "folder and set workload.trace_path instead"));
  }
  return std::string();
}

namespace {

// A cluster's iteration table is a file the server opens: confined to the
// data folder like a trace, and replaced by its resolved path.
absl::Status CheckIterationTable(const RequestLimits& limits,
                                 const std::string& field,
                                 v1::Cluster* cluster) {
  if (cluster->iteration_time_table().empty()) return absl::OkStatus();
  FLEETSIM_ASSIGN_OR_RETURN(
      std::string path,
      ResolveDataPath(limits.data_dir, cluster->iteration_time_table(),
                      absl::StrCat(field, ".iteration_time_table")));
  cluster->set_iteration_time_table(path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::SimulateRequest> CheckSimulateRequest(
    const v1::SimulateRequest& request, const RequestLimits& limits) {
  v1::SimulateRequest checked = request;
  switch (request.cluster_source_case()) {
    case v1::SimulateRequest::kCluster:
      break;
    case v1::SimulateRequest::kClusterPath: {
      FLEETSIM_ASSIGN_OR_RETURN(
          std::string path,
          ResolveDataPath(limits.data_dir, request.cluster_path(),
                          "cluster_path"));
      v1::Cluster cluster;
      absl::Status read = ReadTextProtoFile(path, &cluster);
      if (!read.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cluster_path: ", read.message()));
      }
      *checked.mutable_cluster() = cluster;  // clears cluster_path
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "cluster: required (set cluster or cluster_path)");
  }
  FLEETSIM_RETURN_IF_ERROR(
      CheckIterationTable(limits, "cluster", checked.mutable_cluster()));
  if (request.model().empty()) {
    return absl::InvalidArgumentError(
        "model: required (a catalog name; ListModels gives them)");
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      std::string trace,
      CheckTraceSource(request.trace_bytes(), request.workload().trace_path(),
                       limits));
  checked.mutable_workload()->set_trace_path(trace);  // "" when inline
  if (request.slo_source_case() == v1::SimulateRequest::kSloPreset) {
    FLEETSIM_RETURN_IF_ERROR(
        CheckPreset(limits.data_dir, request.slo_preset(), "slo_preset"));
  }
  return checked;
}

absl::StatusOr<sim::SimulationInputs> ScenarioFromRequest(
    const v1::SimulateRequest& checked, const RequestLimits& limits,
    const std::string& inline_trace_path) {
  const std::string& data_dir = limits.data_dir;
  sim::ScenarioRequest scenario;
  FLEETSIM_ASSIGN_OR_RETURN(scenario.catalogs, CatalogsOf(limits));
  scenario.cluster = checked.cluster();
  scenario.model = checked.model();
  scenario.workload = checked.workload();
  if (!checked.trace_bytes().empty()) {
    scenario.workload.set_trace_path(inline_trace_path);
  }
  if (checked.slo_source_case() == v1::SimulateRequest::kSloPreset) {
    // The preset's file, never the bare name: LoadSlo would try a bare name
    // as a path relative to the server's working directory first.
    scenario.slo =
        absl::StrCat(data_dir, "/slos/", checked.slo_preset(), ".txtpb");
  }
  scenario.pool_overrides.assign(checked.pool_overrides().begin(),
                                 checked.pool_overrides().end());
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(scenario);
  if (!inputs.ok()) return AsInvalidArgument(inputs.status());
  if (checked.slo_source_case() == v1::SimulateRequest::kSlo) {
    absl::Status valid = sim::ValidateSlo(checked.slo(), "slo");
    if (!valid.ok()) return AsInvalidArgument(valid);
    absl::StatusOr<const v1::Chip*> chip =
        scenario.catalogs->SloReferenceChip(checked.slo());
    if (!chip.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("slo.reference_chip: ", chip.status().message()));
    }
    inputs->slo = checked.slo();
    inputs->slo_reference_chip = **chip;
  }
  return inputs;
}

absl::StatusOr<v1::PlanRequest> CheckPlanRequest(const v1::PlanRequest& request,
                                                 const RequestLimits& limits) {
  v1::PlanRequest checked = request;
  if (request.model().empty()) {
    return absl::InvalidArgumentError("model: required (a catalog name)");
  }
  FLEETSIM_RETURN_IF_ERROR(planner::ValidatePlanRequest(request, "request"));
  FLEETSIM_ASSIGN_OR_RETURN(
      std::string trace,
      CheckTraceSource(request.trace_bytes(), request.workload().trace_path(),
                       limits));
  checked.mutable_workload()->set_trace_path(trace);  // "" when inline
  const std::string& slo = request.slo_preset();
  if (!slo.empty()) {
    if (IsPresetName(slo)) {
      FLEETSIM_RETURN_IF_ERROR(CheckPreset(limits.data_dir, slo, "slo_preset"));
      // The preset's file: LoadSlo would try a bare name as a path relative
      // to the server's working directory first.
      checked.set_slo_preset(
          absl::StrCat(limits.data_dir, "/slos/", slo, ".txtpb"));
    } else {
      FLEETSIM_ASSIGN_OR_RETURN(
          std::string path,
          ResolveDataPath(limits.data_dir, slo, "slo_preset"));
      checked.set_slo_preset(path);
    }
  }
  FLEETSIM_ASSIGN_OR_RETURN(std::shared_ptr<const sim::Catalogs> catalogs,
                            CatalogsOf(limits));
  absl::StatusOr<const v1::Model*> model =
      catalogs->models().Find(request.model());
  if (!model.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model: ", model.status().message()));
  }
  for (const std::string& chip : request.chips()) {
    absl::StatusOr<const v1::Chip*> found = catalogs->chips().Find(chip);
    if (!found.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("chips: ", found.status().message()));
    }
  }
  v1::Workload workload = checked.workload();
  if (!request.trace_bytes().empty()) {
    // The worker opens the bytes as a file; validate the other fields.
    workload.set_trace_path("trace_bytes");
  }
  FLEETSIM_RETURN_IF_ERROR(workloads::RequestSource::Validate(workload));
  if (!request.slo().targets().empty()) {
    absl::Status valid = sim::ValidateSlo(request.slo(), "slo");
    if (!valid.ok()) return AsInvalidArgument(valid);
  } else if (slo.empty()) {
    return absl::InvalidArgumentError(
        "slo: planning needs an SLO (slo targets or slo_preset)");
  }
  if (checked.has_template_cluster()) {
    FLEETSIM_RETURN_IF_ERROR(CheckIterationTable(
        limits, "template_cluster", checked.mutable_template_cluster()));
  }
  if (checked.has_fixed_fleet()) {
    FLEETSIM_RETURN_IF_ERROR(CheckIterationTable(
        limits, "fixed_fleet", checked.mutable_fixed_fleet()));
  }
  return checked;
}

absl::StatusOr<v1::StudyRequest> CheckStudyRequest(
    const v1::StudyRequest& request, const RequestLimits& limits) {
  v1::StudyRequest checked = request;
  v1::StudySpec* spec = checked.mutable_spec();
  if (!spec->base().trace_bytes().empty()) {
    return absl::InvalidArgumentError(
        "spec.base.trace_bytes: a study reads its trace from the server's "
        "data folder; set spec.base.workload.trace_path instead");
  }
  FLEETSIM_RETURN_IF_ERROR(study::ValidateStudySpec(*spec, "spec"));
  if (request.seeds() < 0 || request.seeds() > study::kMaxStudySeeds) {
    return absl::InvalidArgumentError(
        absl::StrCat("seeds: ", request.seeds(), " (must be in [0, ",
                     study::kMaxStudySeeds, "]; 0 = 1)"));
  }
  if (request.jobs() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("jobs: ", request.jobs(), " (must be >= 0; 0 = all)"));
  }
  if (spec->variants_size() > kMaxStudyVariants) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec.variants: ", spec->variants_size(), " variants, more than the ",
        kMaxStudyVariants, " a call may ask for"));
  }
  absl::StatusOr<v1::PlanRequest> base = CheckPlanRequest(spec->base(), limits);
  if (!base.ok()) {
    return absl::Status(base.status().code(),
                        absl::StrCat("spec.base.", base.status().message()));
  }
  *spec->mutable_base() = *std::move(base);
  for (int i = 0; i < spec->variants_size(); ++i) {
    v1::StudyVariant* variant = spec->mutable_variants(i);
    absl::StatusOr<v1::PlanRequest> plan =
        CheckPlanRequest(study::VariantRequest(*spec, *variant), limits);
    if (!plan.ok()) {
      return absl::Status(
          plan.status().code(),
          absl::StrCat("spec.variants[", i, "] ('", variant->name(),
                       "'): ", plan.status().message()));
    }
    if (!variant->slo_preset().empty())
      variant->set_slo_preset(plan->slo_preset());
  }
  return checked;
}

}  // namespace fleetsim::service
