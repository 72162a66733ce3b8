// File: study/study_output.h
//
// The files a study writes: study.json (StudyResult in protobuf's JSON
// mapping, field names as in proto/fleetsim/v1/study.proto), summary.csv (one
// row per variant), variant-<name>.csv (one row per fleet compared),
// report.html (report/report_html.h) and report.pdf (printed by headless
// Chromium). Each appears only once complete (util/output_file.h).
#ifndef FLEETSIM_STUDY_STUDY_OUTPUT_H_
#define FLEETSIM_STUDY_STUDY_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/study.pb.h"

namespace fleetsim::study {

// study.json: the result's proto3 JSON (util/proto_json.h) with its schema.
absl::StatusOr<std::string> StudyJson(const v1::StudyResult& result);
std::string SummaryCsv(const v1::StudyResult& result);
std::string VariantCsv(const v1::StudyVariantResult& variant);

struct OutputOptions {
  bool pdf = true;  // print report.pdf (needs Chromium)
  double chromium_timeout_s = 180;
};

// Writes every file into `dir` (created if missing) and returns their
// names, in writing order. With `pdf`, Chromium is found first and its
// version recorded in the provenance; no Chromium is NotFound (naming the
// package) before anything is written. Errors: PermissionDenied for a file
// that cannot be created, DataLoss for one whose writing failed (a full
// disk); Chromium's (report/chromium.h).
absl::StatusOr<std::vector<std::string>> WriteStudyOutputs(
    v1::StudyResult result, const std::string& dir,
    const OutputOptions& options);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_STUDY_OUTPUT_H_
