// File: tests/fuzz/simulate_request_fuzzer.cc
//
// libFuzzer target for the service's Simulate request checks (text proto or
// wire format): CheckSimulateRequest with the repository's data folder as
// --data-dir, then ScenarioFromRequest, what a worker runs before its
// simulation, and the resolved fleet priced.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/planning_service.pb.h"
#include "service/request_checks.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  v1::SimulateRequest request;
  if (!fuzz::ParseTextOrWire(data, size, &request)) return 0;
  service::RequestLimits limits;
  limits.data_dir = fuzz::DataDir();
  limits.catalogs = fuzz::Catalogs();
  limits.max_inline_trace_bytes = 4096;
  auto checked = service::CheckSimulateRequest(request, limits);
  if (!checked.ok()) return 0;
  auto inputs = service::ScenarioFromRequest(
      *checked, limits, fuzz::DataDir() + "/traces/README.md");
  if (inputs.ok()) fuzz::ExerciseFleet(inputs->fleet);
  return 0;
}
