// File: tests/fuzz/cluster_fuzzer.cc
//
// libFuzzer target for a cluster file (data/clusters/*.txtpb): read and
// resolved against the shipped catalogs for Llama-2-70B, as `fleetsim
// replay --cluster` does, then priced. A cluster may name an iteration
// table file; the fuzzer may reach any readable path that way, as a user
// can.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/cluster.pb.h"
#include "sim/fleet.h"
#include "tests/fuzz/fuzz_util.h"
#include "util/textproto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".txtpb");
  v1::Cluster cluster;
  if (!ReadTextProtoFile(path, &cluster).ok()) return 0;
  auto model = fuzz::Models().Find("llama-2-70b");
  if (!model.ok()) return 0;
  auto fleet = sim::ResolveFleet(cluster, path, **model,
                                 fuzz::Chips().entries(), {"decode=2"});
  if (!fleet.ok()) {
    fleet =
        sim::ResolveFleet(cluster, path, **model, fuzz::Chips().entries(), {});
    fuzz::RequireNamesFile(fleet.status(), path);
  }
  if (fleet.ok()) fuzz::ExerciseFleet(*fleet);
  return 0;
}
