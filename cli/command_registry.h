// File: cli/command_registry.h
//
// Subcommands of the `fleetsim` binary ("catalog", "trace-stats", "replay",
// "calibrate fit", ...). Each lives in its own cli/<name>_command.cc and
// registers itself with FLEETSIM_REGISTER_COMMAND, naming the flags it
// accepts, so adding one touches no shared file. main.cc refuses any other
// flag for that command and prints its help (cli/command_line.h).
#ifndef FLEETSIM_CLI_COMMAND_REGISTRY_H_
#define FLEETSIM_CLI_COMMAND_REGISTRY_H_

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace fleetsim::cli {

// `args` are the positional words after the command's name (flags have
// already been parsed into their ABSL_FLAGs). Returns the process exit code.
using CommandFn = std::function<int(const std::vector<std::string>& args)>;

// Flag names as Abseil defines them (underscores: "rate_scale").
using FlagNames = std::vector<std::string>;

// The union of several flag lists, in order, without repeats.
FlagNames Flags(std::initializer_list<FlagNames> groups);

struct Command {
  // One line: "trace-stats --trace FILE [--format F]".
  std::string usage;
  // What it does, a sentence or two for `fleetsim COMMAND --help`.
  std::string summary;
  // Every flag it reads; main() refuses the others.
  FlagNames flags;
  CommandFn run;
};

// All registered commands by name; a subcommand's name has a space
// ("calibrate fit").
std::map<std::string, Command>& CommandRegistry();

struct CommandRegistrar {
  CommandRegistrar(const std::string& name, Command command) {
    CommandRegistry()[name] = std::move(command);
  }
};

}  // namespace fleetsim::cli

// FLEETSIM_REGISTER_COMMAND("replay", {usage, summary, flags, RunReplay});
#define FLEETSIM_REGISTER_COMMAND_IMPL2(name, line, ...)            \
  static ::fleetsim::cli::CommandRegistrar fleetsim_command_##line( \
      name, __VA_ARGS__)
#define FLEETSIM_REGISTER_COMMAND_IMPL(name, line, ...) \
  FLEETSIM_REGISTER_COMMAND_IMPL2(name, line, __VA_ARGS__)
#define FLEETSIM_REGISTER_COMMAND(name, ...) \
  FLEETSIM_REGISTER_COMMAND_IMPL(name, __LINE__, __VA_ARGS__)

#endif  // FLEETSIM_CLI_COMMAND_REGISTRY_H_
