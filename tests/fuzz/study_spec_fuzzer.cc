// File: tests/fuzz/study_spec_fuzzer.cc
//
// libFuzzer target for a study file (proto/fleetsim/v1/study.proto's
// StudySpec), as `fleetsim study` reads it: LoadStudySpec, then each variant's
// plan request; and the same spec through the service's Study request checks
// (CheckStudyRequest, the repository's data folder as --data-dir), which
// check every variant as a Plan.
#include <cstddef>
#include <cstdint>

#include "fleetsim/v1/planning_service.pb.h"
#include "service/request_checks.h"
#include "study/study_spec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".txtpb");
  absl::StatusOr<v1::StudySpec> spec = study::LoadStudySpec(path);
  if (!spec.ok()) return 0;
  for (const v1::StudyVariant& variant : spec->variants()) {
    study::VariantRequest(*spec, variant);
    study::DescribeChanges(variant);
  }
  v1::StudyRequest request;
  *request.mutable_spec() = *spec;
  service::RequestLimits limits;
  limits.data_dir = fuzz::DataDir();
  limits.catalogs = fuzz::Catalogs();
  service::CheckStudyRequest(request, limits).IgnoreError();
  return 0;
}
