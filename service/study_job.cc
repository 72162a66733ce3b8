#include "service/study_job.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "study/study_output.h"
#include "study/study_runner.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::service {

absl::Status RunStudyJob(const v1::StudyRequest& checked,
                         const RequestLimits& limits,
                         const StudyProgressSink& progress,
                         const ReportFileSink& file) {
  study::StudyOptions options;
  options.data_dir = limits.data_dir;
  options.catalogs = limits.catalogs;
  options.seeds = checked.seeds() > 0 ? checked.seeds() : 1;
  options.jobs = checked.jobs();
  options.command_line = "PlanningService.Study rpc (fleetsim serve)";
  options.progress = progress;
  FLEETSIM_ASSIGN_OR_RETURN(v1::StudyResult result,
                            study::RunStudy(checked.spec(), options));
  std::error_code ec;
  std::string dir =
      (std::filesystem::temp_directory_path(ec) / "fleetsim-study-XXXXXX")
          .string();
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        "cannot create a temporary folder for the "
        "study's outputs");
  }
  study::OutputOptions output;
  output.pdf = checked.pdf();
  absl::StatusOr<std::vector<std::string>> names =
      study::WriteStudyOutputs(std::move(result), dir, output);
  absl::Status status = names.status();
  for (size_t i = 0; status.ok() && i < names->size(); ++i) {
    v1::ReportFile report;
    report.set_name((*names)[i]);
    status =
        ReadFileToString(dir + "/" + (*names)[i], report.mutable_content());
    if (status.ok()) file(report);
  }
  std::filesystem::remove_all(dir, ec);
  return status;
}

}  // namespace fleetsim::service
