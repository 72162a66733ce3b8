// fleetsim: capacity-planning simulator for LLM-serving fleets.
// `fleetsim help` lists the subcommands; each is in cli/<name>_command.cc.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"

namespace fleetsim::cli {

std::map<std::string, Command>& CommandRegistry() {
  static auto* registry = new std::map<std::string, Command>();
  return *registry;
}

namespace {

// Flags that may be given several times; Abseil keeps only the last one, so
// main() collects them first.
constexpr const char* kRepeatedFlags[] = {"pool"};

std::string UsageText() {
  std::string text = "usage: fleetsim COMMAND [flags]\n\ncommands:\n";
  for (const auto& [name, command] : CommandRegistry()) {
    text += "  fleetsim " + command.usage + "\n";
  }
  text +=
      "\nFlag names accept dashes or underscores (--rate-scale, "
      "--rate_scale). `fleetsim --help` lists every flag.";
  return text;
}

// Rewrites "--rate-scale=2" as "--rate_scale=2" (Abseil flag names cannot
// contain dashes) and pulls repeated flags out of argv.
std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> args;
  std::map<std::string, std::vector<std::string>> repeated;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      size_t eq = arg.find('=');
      std::string name =
          arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      bool is_repeated = false;
      for (const char* r : kRepeatedFlags) is_repeated |= name == r;
      if (is_repeated) {
        if (eq != std::string::npos) {
          repeated[name].push_back(arg.substr(eq + 1));
        } else if (i + 1 < argc) {
          repeated[name].push_back(argv[++i]);
        }
        continue;
      }
      arg = "--" + name + (eq == std::string::npos ? "" : arg.substr(eq));
    }
    args.push_back(arg);
  }
  for (auto& [name, values] : repeated)
    SetRepeatedFlag(name, std::move(values));
  return args;
}

}  // namespace
}  // namespace fleetsim::cli

int main(int argc, char** argv) {
  using namespace fleetsim::cli;
  absl::SetProgramUsageMessage(UsageText());
  std::vector<std::string> normalized = NormalizeArgs(argc, argv);
  std::vector<char*> raw;
  for (std::string& arg : normalized) raw.push_back(arg.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(raw.size()), raw.data());
  if (positional.size() < 2 || std::strcmp(positional[1], "help") == 0) {
    std::cout << UsageText() << "\n";
    return positional.size() < 2 ? 2 : 0;
  }
  auto it = CommandRegistry().find(positional[1]);
  if (it == CommandRegistry().end()) {
    return UsageError(std::string("unknown command '") + positional[1] +
                      "'; run `fleetsim help`");
  }
  std::vector<std::string> args(positional.begin() + 2, positional.end());
  return it->second.run(args);
}
