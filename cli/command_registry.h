// File: cli/command_registry.h
//
// Subcommands of the `fleetsim` binary ("catalog", "trace-stats", "replay",
// ...). Each lives in its own cli/<name>_command.cc and registers itself with
// FLEETSIM_REGISTER_COMMAND, so adding one touches no shared file.
#ifndef FLEETSIM_CLI_COMMAND_REGISTRY_H_
#define FLEETSIM_CLI_COMMAND_REGISTRY_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fleetsim::cli {

// `args` are the positional words after the subcommand name (flags have
// already been parsed into their ABSL_FLAGs). Returns the process exit code.
using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct Command {
  std::string usage;  // one line: "trace-stats --trace FILE [--format F]"
  CommandFn run;
};

// All registered commands by name.
std::map<std::string, Command>& CommandRegistry();

struct CommandRegistrar {
  CommandRegistrar(const std::string& name, const std::string& usage,
                   CommandFn run) {
    CommandRegistry()[name] = Command{usage, std::move(run)};
  }
};

}  // namespace fleetsim::cli

#define FLEETSIM_REGISTER_COMMAND(name, usage, fn)                      \
  static ::fleetsim::cli::CommandRegistrar fleetsim_command_registrar_( \
      name, usage, fn)

#endif  // FLEETSIM_CLI_COMMAND_REGISTRY_H_
