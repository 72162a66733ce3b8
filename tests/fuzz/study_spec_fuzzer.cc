// File: tests/fuzz/study_spec_fuzzer.cc
//
// libFuzzer target for a study file (proto/study.proto's StudySpec), as
// `fleetsim study` reads it: LoadStudySpec, then each variant's plan
// request; and the same spec through the service's Study request checks
// (CheckStudyRequest, the repository's data folder as --data-dir), which
// check every variant as a Plan.
#include <cstddef>
#include <cstdint>

#include "proto/planning_service.pb.h"
#include "service/request_checks.h"
#include "study/study_spec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string path = fuzz::WriteScratchFile(data, size, ".txtpb");
  absl::StatusOr<StudySpec> spec = study::LoadStudySpec(path);
  if (!spec.ok()) return 0;
  for (const StudyVariant& variant : spec->variants()) {
    study::VariantRequest(*spec, variant);
    study::DescribeChanges(variant);
  }
  StudyRequest request;
  *request.mutable_spec() = *spec;
  service::RequestLimits limits;
  limits.data_dir = fuzz::DataDir();
  limits.catalogs = fuzz::Catalogs();
  service::CheckStudyRequest(request, limits).IgnoreError();
  return 0;
}
