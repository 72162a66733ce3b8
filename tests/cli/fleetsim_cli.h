// File: tests/cli/fleetsim_cli.h
//
// Runs the `fleetsim` binary built alongside the tests (FLEETSIM_BINARY_DIR)
// so CLI tests can check exit codes and messages, the way a user sees them.
#ifndef FLEETSIM_TESTS_CLI_FLEETSIM_CLI_H_
#define FLEETSIM_TESTS_CLI_FLEETSIM_CLI_H_

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::testutil {

struct FleetsimRun {
  int exit_code = -1;  // -1 when it could not run or died on a signal
  std::string output;  // stdout and stderr together
};

// Runs `fleetsim ARGS` (ARGS as typed on a shell command line).
inline FleetsimRun RunFleetsim(const std::string& args) {
  const std::string command =
      std::string(FLEETSIM_BINARY_DIR) + "/fleetsim " + args + " 2>&1";
  FleetsimRun run;
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// The same, returning the exit code and replacing `*output`.
inline int RunFleetsim(const std::string& args, std::string* output) {
  FleetsimRun run = RunFleetsim(args);
  *output = std::move(run.output);
  return run.exit_code;
}

// One bad invocation: the flags added to a command line, and the exit code
// and message part it must give.
struct CliErrorCase {
  std::string flags;
  int exit_code;
  std::string message;
};

// Runs `fleetsim BASE FLAGS` for each case and checks its exit code and
// that its output holds the message.
inline void ExpectCliErrors(const std::string& base,
                            const std::vector<CliErrorCase>& cases) {
  for (const CliErrorCase& c : cases) {
    SCOPED_TRACE(c.flags);
    FleetsimRun run = RunFleetsim(base + c.flags);
    EXPECT_EQ(run.exit_code, c.exit_code) << run.output;
    EXPECT_THAT(run.output, ::testing::HasSubstr(c.message));
  }
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_CLI_FLEETSIM_CLI_H_
