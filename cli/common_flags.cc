#include "cli/common_flags.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(bool, json, false, "Print machine-readable JSON instead of a table");
ABSL_FLAG(std::string, trace, "", "Request trace file (CSV or JSONL)");
ABSL_FLAG(std::string, format, "",
          "Trace format: azure, burstgpt, mooncake, vidur, splitwise "
          "(default: detect from the header)");
ABSL_FLAG(std::string, model, "", "Model catalog name, e.g. llama-2-70b");
ABSL_FLAG(std::string, chip, "", "Chip catalog name, e.g. h100");
ABSL_FLAG(int32_t, tp, 1, "Tensor-parallel degree");
ABSL_FLAG(std::string, framework, "",
          "Serving framework whose fitted kernel set prices the operators "
          "(trtllm, vllm, sglang: a chip's efficiency entries for it over its "
          "framework-free ones). calibrate eval/fit: empty = framework-free "
          "entries only; estimate: empty = the cost model's default (vllm), "
          "as a cluster's serving_framework");
ABSL_FLAG(uint64_t, seed, 1, "Random seed (runs are deterministic per seed)");
ABSL_FLAG(std::string, out, "", "Output folder");
ABSL_FLAG(std::string, data_dir, "",
          "Folder with chips/, models/, clusters/ (default: "
          "$FLEETSIM_DATA_DIR, else the installed share/fleetsim/data beside "
          "the binary, else the source tree's data/)");
ABSL_FLAG(bool, skip_bad_rows, false,
          "Skip malformed trace rows and report how many, instead of failing");

#ifndef FLEETSIM_SOURCE_DATA_DIR
#define FLEETSIM_SOURCE_DATA_DIR "data"
#endif
#ifndef FLEETSIM_DATA_DIR_FROM_BINARY
#define FLEETSIM_DATA_DIR_FROM_BINARY "../share/fleetsim/data"
#endif

namespace fleetsim::cli {
namespace {

// The installed data folder beside this binary (PREFIX/bin/fleetsim ->
// PREFIX/share/fleetsim/data), or "" when there is none, as in a build tree.
std::string InstalledDataDir() {
  std::error_code ec;
  const std::filesystem::path binary =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::filesystem::path data =
      (binary.parent_path() / FLEETSIM_DATA_DIR_FROM_BINARY).lexically_normal();
  return std::filesystem::is_directory(data, ec) ? data.string() : "";
}

}  // namespace

std::string DataDir() {
  std::string flag = absl::GetFlag(FLAGS_data_dir);
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("FLEETSIM_DATA_DIR"); env && *env)
    return env;
  if (std::string installed = InstalledDataDir(); !installed.empty())
    return installed;
  std::error_code ec;
  if (std::filesystem::is_directory(FLEETSIM_SOURCE_DATA_DIR, ec)) {
    return FLEETSIM_SOURCE_DATA_DIR;
  }
  return "data";
}

absl::StatusOr<std::shared_ptr<const sim::Catalogs>> CliCatalogs() {
  // One command per process: the data folder cannot change once loaded.
  static const auto* catalogs =
      new absl::StatusOr<std::shared_ptr<const sim::Catalogs>>(
          sim::Catalogs::Load(DataDir()));
  return *catalogs;
}

absl::StatusOr<v1::Chip> ChipFromCatalog(const std::string& name) {
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return catalogs.status();
  absl::StatusOr<const v1::Chip*> chip = (*catalogs)->chips().Find(name);
  if (!chip.ok())
    return absl::NotFoundError(
        absl::StrCat("--chip: ", chip.status().message()));
  return **chip;
}

int Fail(const absl::Status& status) {
  std::cerr << "fleetsim: " << status.message() << "\n";
  return 1;
}

int UsageError(const std::string& message) {
  std::cerr << "fleetsim: " << message << "\n";
  return 2;
}

int NoPositionalArgs(const std::string& command,
                     const std::vector<std::string>& args) {
  if (args.empty()) return 0;
  return UsageError(command + " takes no positional arguments, got '" +
                    args[0] + "'");
}

namespace {
std::map<std::string, std::vector<std::string>>& RepeatedFlags() {
  static auto* flags = new std::map<std::string, std::vector<std::string>>();
  return *flags;
}
}  // namespace

const std::vector<std::string>& RepeatedFlag(const std::string& name) {
  return RepeatedFlags()[name];
}

void SetRepeatedFlag(const std::string& name, std::vector<std::string> values) {
  RepeatedFlags()[name] = std::move(values);
}

}  // namespace fleetsim::cli
