// File: tests/fuzz/chip_fuzzer.cc
//
// libFuzzer target for a chip catalog file (data/chips/*.txtpb): read and
// validated as the catalog loader does, then, when valid, put in the
// shipped default cluster in place of the H100 and priced (latency models,
// SLO reference, manufacturing cost and idle power).
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/cluster.pb.h"
#include "hardware/chip_catalog.h"
#include "sim/fleet.h"
#include "tests/fuzz/fuzz_util.h"
#include "util/textproto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".txtpb");
  v1::Chip chip;
  if (!ReadTextProtoFile(path, &chip).ok()) return 0;
  absl::Status valid = hardware::ValidateChip(chip, path);
  fuzz::RequireNamesFile(valid, path);
  if (!valid.ok()) return 0;
  hardware::ManufacturingCostUsd(chip);
  hardware::IdlePowerW(chip);
  v1::Cluster cluster;
  if (!ReadTextProtoFile(fuzz::DataDir() + "/clusters/default.txtpb", &cluster)
           .ok()) {
    return 0;
  }
  for (v1::Pool& pool : *cluster.mutable_pools()) {
    pool.mutable_machine()->set_chip(chip.name());
  }
  auto model = fuzz::Models().Find("llama-2-70b");
  if (!model.ok()) return 0;
  auto fleet = sim::ResolveFleet(cluster, "default.txtpb", **model, {&chip},
                                 /*pool_overrides=*/{});
  if (fleet.ok()) fuzz::ExerciseFleet(*fleet);
  return 0;
}
