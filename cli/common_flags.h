// File: cli/common_flags.h
//
// Flags shared by several subcommands, and the helpers that resolve them
// (where the data folder is, how errors are printed). Command-specific flags
// are defined at the top of their own cli/<name>_command.cc.
#ifndef FLEETSIM_CLI_COMMON_FLAGS_H_
#define FLEETSIM_CLI_COMMON_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "sim/catalogs.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, trace);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, chip);
ABSL_DECLARE_FLAG(int32_t, tp);
ABSL_DECLARE_FLAG(std::string, framework);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(bool, skip_bad_rows);

namespace fleetsim::cli {

// The folder holding chips/, models/, clusters/, traces/: --data-dir if set,
// else $FLEETSIM_DATA_DIR, else an installed binary's own data folder
// (PREFIX/share/fleetsim/data for PREFIX/bin/fleetsim, so an install works
// without the source tree and can be moved), else the data/ folder of the
// source tree this binary was built from, else ./data.
std::string DataDir();

// The catalogs of DataDir(), loaded on first use and shared by everything
// the command does. Errors: the loaders' (file:line:field).
absl::StatusOr<std::shared_ptr<const sim::Catalogs>> CliCatalogs();

// The chip named by --chip from CliCatalogs(). Errors: the catalog's,
// NotFound prefixed "--chip: ".
absl::StatusOr<v1::Chip> ChipFromCatalog(const std::string& name);

// Prints "fleetsim: <message>" to stderr and returns exit code 1 (2 for a
// usage error).
int Fail(const absl::Status& status);
int UsageError(const std::string& message);

// For a command that takes no positional arguments: 0 when `args` is
// empty, else UsageError's exit code after naming the first stray word
// (a typo such as "--rate 5 10" must not be ignored).
int NoPositionalArgs(const std::string& command,
                     const std::vector<std::string>& args);

// Occurrences of a repeated flag (`--pool prefill=18 --pool decode=7`) that
// main() took out of argv before Abseil parsing, by flag name.
const std::vector<std::string>& RepeatedFlag(const std::string& name);
void SetRepeatedFlag(const std::string& name, std::vector<std::string> values);

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_COMMON_FLAGS_H_
