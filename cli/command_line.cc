#include "cli/command_line.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "cli/common_flags.h"
#include "study/provenance.h"  // the build's git commit and describe

#ifndef FLEETSIM_VERSION
#define FLEETSIM_VERSION "unknown"
#endif

namespace fleetsim::cli {

std::map<std::string, Command>& CommandRegistry() {
  static auto* registry = new std::map<std::string, Command>();
  return *registry;
}

FlagNames Flags(std::initializer_list<FlagNames> groups) {
  FlagNames out;
  for (const FlagNames& group : groups) {
    for (const std::string& name : group) {
      if (std::find(out.begin(), out.end(), name) == out.end())
        out.push_back(name);
    }
  }
  return out;
}

namespace {

// Flags that may be given several times; Abseil keeps only the last one, so
// they are not ABSL_FLAGs but collected here (RepeatedFlag).
struct RepeatedFlagInfo {
  const char* name;
  const char* help;
};
constexpr RepeatedFlagInfo kRepeatedFlags[] = {
    {"pool",
     "NAME=COUNT: sets the machines of the pool (or role) NAME of the "
     "cluster; repeat for several pools"},
};

const RepeatedFlagInfo* FindRepeated(const std::string& name) {
  for (const RepeatedFlagInfo& r : kRepeatedFlags) {
    if (name == r.name) return &r;
  }
  return nullptr;
}

bool IsRepeated(const std::string& name) {
  return FindRepeated(name) != nullptr;
}

std::string Dashed(const std::string& name) {
  return absl::StrReplaceAll(name, {{"_", "-"}});
}

// The commands that read flag `name`, for the message that refuses it.
std::vector<std::string> CommandsReading(const std::string& name) {
  std::vector<std::string> commands;
  for (const auto& [command_name, command] : CommandRegistry()) {
    if (std::find(command.flags.begin(), command.flags.end(), name) !=
        command.flags.end())
      commands.push_back(command_name);
  }
  return commands;
}

// A command's subcommands ("calibrate" -> "fit", "import", ...).
std::vector<std::string> Subcommands(const std::string& name) {
  std::vector<std::string> subs;
  const std::string prefix = name + " ";
  for (const auto& [command_name, command] : CommandRegistry()) {
    if (command_name.rfind(prefix, 0) == 0)
      subs.push_back(command_name.substr(prefix.size()));
  }
  return subs;
}

struct FlagUse {
  std::string name;   // underscores; a bool's "no" prefix removed
  std::string value;  // what follows '=' (or the next word)
  bool has_value = false;
  bool negated = false;  // --noname
};

}  // namespace

absl::StatusOr<CommandLine> ParseArgs(const std::vector<std::string>& words) {
  CommandLine line;
  std::vector<std::string> positional;
  std::vector<FlagUse> flags;
  std::map<std::string, std::vector<std::string>> repeated;
  bool only_positional = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (only_positional || word.size() < 2 || word[0] != '-') {
      positional.push_back(word);
      continue;
    }
    if (word == "--") {
      only_positional = true;
      continue;
    }
    if (word == "-h") {
      line.help = true;
      continue;
    }
    const size_t dashes = word[1] == '-' ? 2 : 1;
    const size_t eq = word.find('=');
    FlagUse use;
    use.name = absl::StrReplaceAll(
        word.substr(dashes,
                    eq == std::string::npos ? std::string::npos : eq - dashes),
        {{"-", "_"}});
    if (eq != std::string::npos) {
      use.value = word.substr(eq + 1);
      use.has_value = true;
    }
    if (use.name == "help" || use.name == "helpfull") {
      line.help = true;
      continue;
    }
    if (use.name == "version") {
      line.version = true;
      continue;
    }
    if (IsRepeated(use.name)) {
      if (!use.has_value) {
        if (i + 1 >= words.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag --", Dashed(use.name), " needs a value"));
        }
        use.value = words[++i];
        use.has_value = true;
      }
      repeated[use.name].push_back(use.value);
      flags.push_back(use);
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(use.name);
    if (flag == nullptr && use.name.rfind("no", 0) == 0) {
      absl::CommandLineFlag* base =
          absl::FindCommandLineFlag(use.name.substr(2));
      if (base != nullptr && base->IsOfType<bool>()) {
        flag = base;
        use.name = use.name.substr(2);
        use.negated = true;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", word,
                       "'; `fleetsim help` lists the "
                       "commands and `fleetsim COMMAND --help` their flags"));
    }
    if (!use.has_value && !flag->IsOfType<bool>()) {
      if (i + 1 >= words.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", Dashed(use.name), " needs a value"));
      }
      use.value = words[++i];
      use.has_value = true;
    }
    flags.push_back(use);
  }

  // The command: the first word, or the first two for a subcommand.
  if (!positional.empty() && positional[0] == "version") line.version = true;
  if (line.version) return line;
  size_t consumed = 0;
  if (!positional.empty() && positional[0] == "help") {
    line.help = true;
    consumed = 1;
  }
  if (consumed < positional.size()) {
    std::string name = positional[consumed];
    if (CommandRegistry().count(name) == 0 && Subcommands(name).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown command '", name, "'; run `fleetsim help`"));
    }
    ++consumed;
    std::vector<std::string> subs = Subcommands(name);
    if (!subs.empty()) {
      if (consumed >= positional.size() ||
          CommandRegistry().count(name + " " + positional[consumed]) == 0) {
        if (line.help && consumed >= positional.size()) return line;
        return absl::InvalidArgumentError(absl::StrCat(
            name, " needs a subcommand: ", absl::StrJoin(subs, ", "),
            consumed < positional.size()
                ? absl::StrCat(" (got '", positional[consumed], "')")
                : ""));
      }
      name += " " + positional[consumed++];
    }
    line.command_name = name;
    line.command = &CommandRegistry()[name];
  }
  line.args.assign(positional.begin() + consumed, positional.end());
  if (line.command == nullptr) {
    if (!flags.empty() && !line.help) {
      return absl::InvalidArgumentError(
          "flags need a command first: fleetsim COMMAND [flags]; run "
          "`fleetsim help`");
    }
    return line;
  }

  // Only the command's own flags; then Abseil sets them.
  const FlagNames& allowed = line.command->flags;
  std::vector<std::string> absl_args = {"fleetsim"};
  for (const FlagUse& use : flags) {
    if (std::find(allowed.begin(), allowed.end(), use.name) == allowed.end()) {
      std::vector<std::string> readers = CommandsReading(use.name);
      return absl::InvalidArgumentError(absl::StrCat(
          line.command_name, " does not take --", Dashed(use.name),
          readers.empty()
              ? ""
              : absl::StrCat(" (a flag of ", absl::StrJoin(readers, ", "), ")"),
          "; see `fleetsim ", line.command_name, " --help`"));
    }
    if (IsRepeated(use.name)) continue;
    absl_args.push_back(absl::StrCat("--", use.negated ? "no" : "", use.name,
                                     use.has_value ? "=" : "", use.value));
  }
  for (auto& [name, values] : repeated)
    SetRepeatedFlag(name, std::move(values));
  if (line.help) return line;
  std::vector<char*> raw;
  for (std::string& arg : absl_args) raw.push_back(arg.data());
  // Every flag is known by now; Abseil still reports bad values (and exits 1
  // with its message, the way Abseil-based tools do).
  absl::ParseCommandLine(static_cast<int>(raw.size()), raw.data());
  return line;
}

std::string UsageText() {
  std::string text = "usage: fleetsim COMMAND [flags]\n\ncommands:\n";
  for (const auto& [name, command] : CommandRegistry()) {
    absl::StrAppend(&text, "  fleetsim ", command.usage, "\n");
  }
  absl::StrAppend(&text,
                  "\n`fleetsim COMMAND --help` lists a command's flags; flag "
                  "names accept dashes or underscores (--rate-scale, "
                  "--rate_scale). `fleetsim --version` prints the release and "
                  "commit.\n");
  return text;
}

namespace {

std::string TypeName(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return "";
  if (flag.IsOfType<std::string>()) return "=STRING";
  if (flag.IsOfType<double>()) return "=NUMBER";
  return "=INT";
}

}  // namespace

std::string HelpText(const std::string& name, const Command& command) {
  std::string text = absl::StrCat("usage: fleetsim ", command.usage, "\n\n",
                                  command.summary, "\n");
  if (!command.flags.empty()) absl::StrAppend(&text, "\nflags:\n");
  for (const std::string& flag_name : command.flags) {
    if (const RepeatedFlagInfo* repeated = FindRepeated(flag_name)) {
      absl::StrAppend(&text, "  --", Dashed(flag_name),
                      "=STRING (repeated)\n      ", repeated->help, "\n");
      continue;
    }
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(flag_name);
    if (flag == nullptr) continue;  // a registration typo; tests catch it
    std::string default_value = flag->DefaultValue();
    if (flag->IsOfType<std::string>())
      default_value = "\"" + default_value + "\"";
    absl::StrAppend(&text, "  --", Dashed(flag_name), TypeName(*flag),
                    "  (default ", default_value, ")\n      ", flag->Help(),
                    "\n");
  }
  absl::StrAppend(&text, "  --help\n      Print this help and exit\n");
  return text;
}

std::string VersionText() {
  return absl::StrCat("fleetsim ", FLEETSIM_VERSION, " (commit ",
                      study::FleetsimCommit(), ", git describe ",
                      study::FleetsimVersion(), ")");
}

}  // namespace fleetsim::cli
