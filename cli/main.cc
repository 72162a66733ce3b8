// fleetsim: capacity-planning simulator for LLM-serving fleets.
// `fleetsim help` lists the subcommands; each is in cli/<name>_command.cc.
#include <csignal>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "cli/distributed.h"

int main(int argc, char** argv) {
  using namespace fleetsim::cli;
  // Under mpirun/srun, ranks other than 0 serve simulations and end here.
  if (std::optional<int> worker_exit = StartDistributed(&argc, &argv))
    return *worker_exit;
  // A reader that goes away (`fleetsim replay ... | head`) makes writes to
  // stdout fail with EPIPE, which ends the printing, instead of killing the
  // process: result files are written before stdout (util/output_file.h).
  std::signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<CommandLine> line =
      ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!line.ok()) return UsageError(std::string(line.status().message()));
  if (line->version) {
    std::cout << VersionText() << "\n";
    return 0;
  }
  if (line->command == nullptr) {
    std::cout << UsageText();
    return line->help ? 0 : 2;
  }
  if (line->help) {
    std::cout << HelpText(line->command_name, *line->command);
    return 0;
  }
  return line->command->run(line->args);
}
