// File: tests/fuzz/iteration_table_fuzzer.cc
//
// libFuzzer target for an iteration-time table (SplitwiseSim's
// perf_model.csv, Cluster.iteration_time_table): read row by row, then,
// when it reads, named by the shipped Splitwise cluster and resolved for
// Llama-2-70B, which fits SplitwiseSim's predictor to it, and priced.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/cluster.pb.h"
#include "hardware/splitwise_perf_model.h"
#include "sim/fleet.h"
#include "tests/fuzz/fuzz_util.h"
#include "util/textproto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".csv");
  if (!hardware::ReadSplitwisePerfRows(path).ok()) return 0;
  v1::Cluster cluster;
  if (!ReadTextProtoFile(fuzz::DataDir() + "/clusters/splitwise_h100.txtpb",
                         &cluster)
           .ok()) {
    return 0;
  }
  cluster.set_iteration_time_table(path);
  auto model = fuzz::Models().Find("llama-2-70b");
  if (!model.ok()) return 0;
  auto fleet = sim::ResolveFleet(cluster, "splitwise_h100.txtpb", **model,
                                 fuzz::Chips().entries(), {});
  if (fleet.ok()) fuzz::ExerciseFleet(*fleet);
  return 0;
}
