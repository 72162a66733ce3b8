// File: cli/command_line.h
//
// The `fleetsim` command line: finds the subcommand, refuses flags the
// subcommand does not read (and names the command that does), sets the
// Abseil flags it does read, and writes the per-command help and the
// version. A thin layer over Abseil flags rather than CLI11 (Debian
// libcli11-dev): the ~50 flags stay ABSL_FLAGs read where they are used and
// shared groups (workload, money, remote) stay defined once, so each command
// only lists the names it accepts; CLI11 would have meant redefining every
// flag per command and a new dependency for the same behaviour.
#ifndef FLEETSIM_CLI_COMMAND_LINE_H_
#define FLEETSIM_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/command_registry.h"

namespace fleetsim::cli {

struct CommandLine {
  std::string command_name;          // "replay", "calibrate fit"; "" = none
  const Command* command = nullptr;  // null when no command was named
  std::vector<std::string> args;     // positional words after the name
  bool help = false;                 // --help, -h or `fleetsim help [CMD]`
  bool version = false;              // --version or `fleetsim version`
};

// Parses the words after the program name and sets the command's flags.
// Flag names accept dashes or underscores; `--flag value` and
// `--flag=value` both work; a repeated flag (--pool) is collected
// (RepeatedFlag). Errors (InvalidArgument, a message for the user): an
// unknown command or subcommand, an unknown flag, a flag the command does
// not read, a flag without its value, a value Abseil cannot parse.
absl::StatusOr<CommandLine> ParseArgs(const std::vector<std::string>& words);

// `fleetsim help`: every command with its usage line.
std::string UsageText();
// `fleetsim COMMAND --help`: usage, summary, each flag with type, default
// and help text.
std::string HelpText(const std::string& name, const Command& command);
// "fleetsim 0.1.0 (commit 0123abcd..., git describe ...)".
std::string VersionText();

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_COMMAND_LINE_H_
