// File: tests/fuzz/model_fuzzer.cc
//
// libFuzzer target for a model catalog file (data/models/*.txtpb): read and
// validated as the catalog loader does, then, when valid, resolved on the
// shipped default cluster (H100, TP 8) and priced.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "sim/fleet.h"
#include "tests/fuzz/fuzz_util.h"
#include "util/textproto.h"
#include "workloads/model_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".txtpb");
  v1::Model model;
  if (!ReadTextProtoFile(path, &model).ok()) return 0;
  absl::Status valid = workloads::ValidateModel(model, path);
  fuzz::RequireNamesFile(valid, path);
  if (!valid.ok()) return 0;
  v1::Cluster cluster;
  if (!ReadTextProtoFile(fuzz::DataDir() + "/clusters/default.txtpb", &cluster)
           .ok()) {
    return 0;
  }
  auto fleet = sim::ResolveFleet(cluster, "default.txtpb", model,
                                 fuzz::Chips().entries(), {});
  if (fleet.ok()) fuzz::ExerciseFleet(*fleet);
  return 0;
}
