// File: sim/catalogs.h
//
// The chip and model catalogs of one data folder, loaded once (per command
// in the CLI, per server in `fleetsim serve`) and handed to everything that
// looks chips or models up by name: scenario loading, the planner, the
// service's request checks, `estimate` and `catalog`. Read-only after
// loading and safe to share across threads and forked workers.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(std::shared_ptr<const Catalogs> catalogs,
//                             Catalogs::Load("data"));
//   FLEETSIM_ASSIGN_OR_RETURN(const Chip* h100, catalogs->ReferenceChip());
#ifndef FLEETSIM_SIM_CATALOGS_H_
#define FLEETSIM_SIM_CATALOGS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "fleetsim/v1/slo.pb.h"
#include "hardware/chip_catalog.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {

class Catalogs final {
 public:
  // Loads data_dir/chips and data_dir/models. Errors: the catalog loaders'
  // (NotFound for a missing folder, InvalidArgument naming file, line and
  // field).
  static absl::StatusOr<std::shared_ptr<const Catalogs>> Load(
      const std::string& data_dir);

  // The folder they came from; it also holds slos/, clusters/, economics/.
  const std::string& data_dir() const { return data_dir_; }
  const hardware::ChipCatalog& chips() const { return chips_; }
  const workloads::ModelCatalog& models() const { return models_; }

  // hardware::kReferenceChip. NotFound when the folder lacks it.
  absl::StatusOr<const v1::Chip*> ReferenceChip() const;
  // The chip an SLO's slowdowns are measured on: slo.reference_chip when
  // set, else the reference chip. NotFound for an unknown name.
  absl::StatusOr<const v1::Chip*> SloReferenceChip(const v1::Slo& slo) const;

 private:
  Catalogs(std::string data_dir, hardware::ChipCatalog chips,
           workloads::ModelCatalog models)
      : data_dir_(std::move(data_dir)),
        chips_(std::move(chips)),
        models_(std::move(models)) {}

  const std::string data_dir_;
  const hardware::ChipCatalog chips_;
  const workloads::ModelCatalog models_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_CATALOGS_H_
