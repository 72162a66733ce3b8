#include "sim/scenario.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "sim/image_serving.h"
#include "sim/slo_evaluator.h"
#include "sim/slo_spec.h"
#include "sim/speculative_decoding.h"
#include "util/status_macros.h"
#include "util/textproto.h"
#include "workloads/request_source.h"

namespace fleetsim::sim {

absl::StatusOr<std::string> SloFilePath(const std::string& data_dir,
                                        const std::string& name_or_path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(name_or_path, ec)) return name_or_path;
  if (IsSloSpec(name_or_path)) return std::string();
  const std::string preset =
      absl::StrCat(data_dir, "/slos/", name_or_path, ".txtpb");
  if (std::filesystem::is_regular_file(preset, ec)) return preset;
  return absl::NotFoundError(
      absl::StrCat("SLO '", name_or_path,
                   "' is neither a file nor a preset in ", data_dir, "/slos"));
}

absl::StatusOr<v1::Slo> LoadSlo(const std::string& data_dir,
                                const std::string& name_or_path) {
  FLEETSIM_ASSIGN_OR_RETURN(const std::string path,
                            SloFilePath(data_dir, name_or_path));
  if (path.empty()) {
    FLEETSIM_ASSIGN_OR_RETURN(v1::Slo slo, ParseSloSpec(name_or_path));
    FLEETSIM_RETURN_IF_ERROR(ValidateSlo(slo, "--slo"));
    return slo;
  }
  v1::Slo slo;
  FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(path, &slo));
  FLEETSIM_RETURN_IF_ERROR(ValidateSlo(slo, path));
  return slo;
}

absl::StatusOr<SimulationInputs> LoadScenario(const ScenarioRequest& request) {
  if (request.catalogs == nullptr) {
    return absl::InvalidArgumentError("LoadScenario: no catalogs");
  }
  const Catalogs& catalogs = *request.catalogs;
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Model* model,
                            catalogs.models().Find(request.model));

  v1::Cluster cluster = request.cluster;
  std::string origin = "cluster";
  if (!request.cluster_path.empty()) {
    origin = request.cluster_path;
    FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(request.cluster_path, &cluster));
  }
  if (!request.iteration_table.empty()) {
    cluster.set_iteration_time_table(request.iteration_table);
  }
  if (request.context_limit != v1::CONTEXT_LIMIT_UNSPECIFIED)
    cluster.set_context_limit(request.context_limit);
  FLEETSIM_RETURN_IF_ERROR(
      ResolveDraftModel(catalogs.models(), origin, &cluster));
  SimulationInputs inputs;
  inputs.cluster = cluster;
  FLEETSIM_ASSIGN_OR_RETURN(
      inputs.fleet,
      ResolveFleet(cluster, origin, *model, catalogs.chips().entries(),
                   request.pool_overrides));
  inputs.workload = request.workload;
  FLEETSIM_RETURN_IF_ERROR(ResolveImageWorkload(*model, &inputs.workload));
  FLEETSIM_RETURN_IF_ERROR(workloads::RequestSource::Validate(inputs.workload));
  FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* h100, catalogs.ReferenceChip());
  inputs.h100 = *h100;
  if (!request.slo.empty()) {
    FLEETSIM_ASSIGN_OR_RETURN(inputs.slo,
                              LoadSlo(catalogs.data_dir(), request.slo));
    FLEETSIM_ASSIGN_OR_RETURN(const v1::Chip* chip,
                              catalogs.SloReferenceChip(inputs.slo));
    inputs.slo_reference_chip = *chip;
    // The reference latencies must be computable before an engine starts.
    FLEETSIM_RETURN_IF_ERROR(
        SloEvaluator::Create(inputs.slo, inputs.fleet, *chip).status());
  }
  return inputs;
}

}  // namespace fleetsim::sim
