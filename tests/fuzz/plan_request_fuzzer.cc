// File: tests/fuzz/plan_request_fuzzer.cc
//
// libFuzzer target for a plan request (text proto or wire format), as the
// service's Plan takes it and `fleetsim plan` builds it from flags:
// CheckPlanRequest with the repository's data folder as --data-dir (which
// runs planner::ValidatePlanRequest), then the planner's BuildPlanContext,
// everything short of simulating candidates.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/plan.pb.h"
#include "planner/candidate.h"
#include "service/request_checks.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  v1::PlanRequest request;
  if (!fuzz::ParseTextOrWire(data, size, &request)) return 0;
  service::RequestLimits limits;
  limits.data_dir = fuzz::DataDir();
  limits.catalogs = fuzz::Catalogs();
  limits.max_inline_trace_bytes = 4096;
  auto checked = service::CheckPlanRequest(request, limits);
  if (!checked.ok()) return 0;
  planner::BuildPlanContext(*checked, *limits.catalogs).IgnoreError();
  return 0;
}
