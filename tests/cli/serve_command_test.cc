// `fleetsim serve` through the built binary: a --listen address beyond
// loopback prints a warning (the service has no authentication; issue 16),
// a loopback one does not, and SIGTERM stops the server with exit 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ServeRun {
  std::string output;  // stdout and stderr together
  int exit_code = -1;  // -1 when it died on a signal
};

// Starts `fleetsim serve --listen LISTEN` on the repository's data, reads its
// output up to the end of the "listening on" line (or its exit), then sends
// SIGTERM and reads the rest.
ServeRun ServeUntilListening(const std::string& listen) {
  ServeRun run;
  int fds[2];
  if (pipe(fds) != 0) return run;
  const std::string binary = std::string(FLEETSIM_BINARY_DIR) + "/fleetsim";
  const std::string data = std::string(FLEETSIM_SOURCE_DIR) + "/data";
  pid_t pid = fork();
  if (pid < 0) return run;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(binary.c_str(), "fleetsim", "serve", "--listen", listen.c_str(),
          "--data-dir", data.c_str(), "--max-concurrent", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buffer[4096];
  bool stopped = false;
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) {
    run.output.append(buffer, static_cast<size_t>(n));
    size_t listening = run.output.find("listening on");
    if (!stopped && listening != std::string::npos &&
        run.output.find('\n', listening) != std::string::npos) {
      kill(pid, SIGTERM);
      stopped = true;
    }
  }
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  return run;
}

TEST(ServeCommandTest, ListeningBeyondLoopbackWarns) {
  ServeRun run = ServeUntilListening("0.0.0.0:0");
  EXPECT_THAT(run.output, HasSubstr("listening on 0.0.0.0:")) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr("warning: listening on 0.0.0.0, beyond this machine; "
                        "the service has no authentication"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

TEST(ServeCommandTest, LoopbackDoesNotWarn) {
  ServeRun run = ServeUntilListening("127.0.0.1:0");
  EXPECT_THAT(run.output, HasSubstr("listening on 127.0.0.1:")) << run.output;
  EXPECT_THAT(run.output, Not(HasSubstr("warning")));
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

}  // namespace
}  // namespace fleetsim
