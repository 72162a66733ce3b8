#include "sim/catalogs.h"

#include "hardware/reference_machine.h"
#include "util/status_macros.h"

namespace fleetsim::sim {

absl::StatusOr<std::shared_ptr<const Catalogs>> Catalogs::Load(
    const std::string& data_dir) {
  FLEETSIM_ASSIGN_OR_RETURN(hardware::ChipCatalog chips,
                            hardware::LoadChipCatalog(data_dir));
  FLEETSIM_ASSIGN_OR_RETURN(workloads::ModelCatalog models,
                            workloads::LoadModelCatalog(data_dir));
  return std::shared_ptr<const Catalogs>(
      new Catalogs(data_dir, std::move(chips), std::move(models)));
}

absl::StatusOr<const v1::Chip*> Catalogs::ReferenceChip() const {
  return chips_.Find(hardware::kReferenceChip);
}

absl::StatusOr<const v1::Chip*> Catalogs::SloReferenceChip(
    const v1::Slo& slo) const {
  return slo.reference_chip().empty() ? ReferenceChip()
                                      : chips_.Find(slo.reference_chip());
}

}  // namespace fleetsim::sim
