// File: sim/scenario.h
//
// Resolves everything one simulation needs from names and files — model and
// chips from the loaded catalogs, cluster file, SLO preset or file — into
// SimulationInputs. Shared by the CLI (replay, plan) and the gRPC service,
// so they validate identically.
#ifndef FLEETSIM_SIM_SCENARIO_H_
#define FLEETSIM_SIM_SCENARIO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/slo.pb.h"
#include "fleetsim/v1/workload.pb.h"
#include "sim/catalogs.h"
#include "sim/simulation.h"

namespace fleetsim::sim {

struct ScenarioRequest {
  // Required: the catalogs; their data folder also holds slos/.
  std::shared_ptr<const Catalogs> catalogs;
  std::string cluster_path;  // a .txtpb file (or use `cluster`)
  v1::Cluster cluster;       // used when cluster_path is empty
  std::string model;         // catalog name
  v1::Workload workload;
  // "" = no SLO; a preset name in data_dir/slos ("normal"); a file; or an
  // inline spec ("ttft_p99=2s,tpot_p90=50ms").
  std::string slo;
  std::vector<std::string> pool_overrides;  // "NAME=COUNT"
  // Set: replaces the cluster's iteration_time_table.
  std::string iteration_table;
  // Set: replaces the cluster's context_limit.
  v1::ContextLimit context_limit = v1::CONTEXT_LIMIT_UNSPECIFIED;
};

// Errors: NotFound (unknown chip, model, preset, missing file) and
// InvalidArgument (bad cluster, SLO or workload, with file and field).
absl::StatusOr<SimulationInputs> LoadScenario(const ScenarioRequest& request);

// An SLO from a file path, an inline spec ("ttft_p99=2s,tpot_p90=50ms",
// sim/slo_spec.h), or a preset name from data_dir/slos/<name>.txtpb.
absl::StatusOr<v1::Slo> LoadSlo(const std::string& data_dir,
                                const std::string& name_or_path);

// The file LoadSlo reads for `name_or_path`: the path itself, or the
// preset's file in data_dir/slos; "" for an inline spec. NotFound: neither.
absl::StatusOr<std::string> SloFilePath(const std::string& data_dir,
                                        const std::string& name_or_path);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SCENARIO_H_
