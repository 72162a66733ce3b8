#include "study/provenance.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "economics/site_assumptions.h"
#include "google/protobuf/text_format.h"
#include "planner/candidate.h"
#include "study/build_info.h"  // generated: FLEETSIM_GIT_DESCRIBE, _COMMIT
#include "util/sha256.h"
#include "util/status_macros.h"

namespace fleetsim::study {
namespace {

absl::Status AddFile(const std::string& role, const std::string& path,
                     v1::Provenance* provenance) {
  FLEETSIM_ASSIGN_OR_RETURN(*provenance->add_inputs(),
                            HashInputFile(role, path));
  return absl::OkStatus();
}

// Every *.txtpb of a catalog folder, sorted.
absl::Status AddFolder(const std::string& role, const std::string& dir,
                       v1::Provenance* provenance) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    if (item.path().extension() == ".txtpb") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& path : files)
    FLEETSIM_RETURN_IF_ERROR(AddFile(role, path, provenance));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::InputFile> HashInputFile(const std::string& role,
                                            const std::string& path) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string digest, Sha256FileHex(path));
  std::error_code ec;
  v1::InputFile file;
  file.set_role(role);
  file.set_path(path);
  file.set_sha256(digest);
  file.set_bytes(static_cast<int64_t>(std::filesystem::file_size(path, ec)));
  return file;
}

const char* FleetsimVersion() { return FLEETSIM_GIT_DESCRIBE; }
const char* FleetsimCommit() { return FLEETSIM_GIT_COMMIT; }

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

absl::StatusOr<v1::Provenance> MakeProvenance(
    const v1::StudySpec& spec, const std::vector<v1::PlanRequest>& requests,
    const std::vector<uint64_t>& seeds, const std::string& data_dir,
    const std::string& spec_path, const std::string& command_line) {
  v1::Provenance provenance;
  provenance.set_fleetsim_version(FleetsimVersion());
  provenance.set_commit(FleetsimCommit());
  provenance.set_command_line(command_line);
  for (uint64_t seed : seeds) provenance.add_seeds(seed);
  provenance.set_generated_utc(UtcNow());
  if (!spec_path.empty()) {
    FLEETSIM_RETURN_IF_ERROR(AddFile("study", spec_path, &provenance));
  } else {
    std::string text;
    google::protobuf::TextFormat::PrintToString(spec, &text);
    v1::InputFile* file = provenance.add_inputs();
    file->set_role("study");
    file->set_path("(sent inline, hashed as text format)");
    file->set_sha256(Sha256Hex(text));
    file->set_bytes(static_cast<int64_t>(text.size()));
  }
  std::set<std::string> traces, slos;
  bool default_template = false;
  for (const v1::PlanRequest& request : requests) {
    traces.insert(request.workload().trace_path());
    if (!request.slo_preset().empty()) {
      std::error_code ec;
      slos.insert(std::filesystem::is_regular_file(request.slo_preset(), ec)
                      ? request.slo_preset()
                      : absl::StrCat(data_dir, "/slos/", request.slo_preset(),
                                     ".txtpb"));
    }
    default_template |= !request.has_template_cluster();
  }
  for (const std::string& path : traces)
    FLEETSIM_RETURN_IF_ERROR(AddFile("trace", path, &provenance));
  for (const std::string& path : slos)
    FLEETSIM_RETURN_IF_ERROR(AddFile("slo", path, &provenance));
  if (default_template) {
    FLEETSIM_RETURN_IF_ERROR(
        AddFile("template cluster",
                absl::StrCat(data_dir, "/", planner::kDefaultTemplateCluster),
                &provenance));
  }
  FLEETSIM_RETURN_IF_ERROR(
      AddFile("site defaults",
              absl::StrCat(data_dir, "/", economics::kDefaultSiteAssumptions),
              &provenance));
  FLEETSIM_RETURN_IF_ERROR(
      AddFolder("chip catalog", absl::StrCat(data_dir, "/chips"), &provenance));
  FLEETSIM_RETURN_IF_ERROR(AddFolder(
      "model catalog", absl::StrCat(data_dir, "/models"), &provenance));
  return provenance;
}

}  // namespace fleetsim::study
