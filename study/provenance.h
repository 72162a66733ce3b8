// File: study/provenance.h
//
// What produced a study's outputs, for the report's provenance table: the
// fleetsim build (git describe and commit, captured at build time by
// study/build_info.cmake), the command line, the seeds, and the SHA-256 of
// every input file, so a reader can check a report against its inputs.
#ifndef FLEETSIM_STUDY_PROVENANCE_H_
#define FLEETSIM_STUDY_PROVENANCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/study.pb.h"

namespace fleetsim::study {

// `git describe --always --dirty --tags` of the source tree at build time
// ("unknown" outside a git checkout).
const char* FleetsimVersion();
// The full commit hash at build time ("unknown" outside git).
const char* FleetsimCommit();

// `path` with `role`, its size and SHA-256. Errors: the file cannot be
// read (util/sha256.h).
absl::StatusOr<v1::InputFile> HashInputFile(const std::string& role,
                                            const std::string& path);

// Now, ISO 8601 UTC: "2026-12-07T01:02:03Z".
std::string UtcNow();

// Version, commit, `command_line`, `seeds`, the time, and the inputs with
// their hashes: the study file (when `spec_path` is empty, the spec's text
// format as sent, e.g. by the Study rpc), each trace
// the `requests` read, the SLO files they name, the template cluster, the
// site defaults, and every chip and model file of the catalogs in
// `data_dir`. Errors: a file that cannot be read.
absl::StatusOr<v1::Provenance> MakeProvenance(
    const v1::StudySpec& spec, const std::vector<v1::PlanRequest>& requests,
    const std::vector<uint64_t>& seeds, const std::string& data_dir,
    const std::string& spec_path, const std::string& command_line);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_PROVENANCE_H_
