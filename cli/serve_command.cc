// `fleetsim serve`: the gRPC PlanningService (docs/service.md).
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "service/planning_service.h"
#include "service/request_checks.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "serve: host:port to listen on (port 0 = any free port). Loopback "
          "by default: the service has no authentication");
ABSL_FLAG(int32_t, max_concurrent, 0,
          "serve: simulations that may run at once, over all calls; more "
          "fail with RESOURCE_EXHAUSTED (0 = CPU cores)");
ABSL_FLAG(int64_t, max_inline_trace_bytes,
          fleetsim::service::kDefaultMaxInlineTraceBytes,
          "serve: largest inline trace (SimulateRequest/PlanRequest "
          "trace_bytes), bytes");
ABSL_FLAG(bool, request_log, true,
          "serve: one line per call on stderr: method, peer, status code, "
          "duration (service/request_log.h)");
ABSL_FLAG(int32_t, max_message_bytes, 0,
          "serve: largest request message, bytes (0 = the inline-trace limit "
          "+ 1 MiB)");

namespace fleetsim::cli {
namespace {

int RunServe(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("serve", args)) return code;
  // SIGINT/SIGTERM are taken by sigwait below; block them before any thread
  // (and the worker helper) exists so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  service::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.backend.limits.data_dir = DataDir();
  options.backend.limits.max_inline_trace_bytes =
      absl::GetFlag(FLAGS_max_inline_trace_bytes);
  options.backend.max_concurrent = absl::GetFlag(FLAGS_max_concurrent);
  if (absl::GetFlag(FLAGS_request_log)) {
    // One write per line, under a lock: calls finish on many threads.
    options.request_log =
        [mutex = std::make_shared<std::mutex>()](const std::string& line) {
          std::lock_guard<std::mutex> lock(*mutex);
          std::cerr << "fleetsim serve: " << line << std::endl;
        };
  }
  absl::StatusOr<std::unique_ptr<service::PlanningServer>> server =
      service::PlanningServer::Start(options);
  if (!server.ok()) return Fail(server.status());

  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    std::cerr << "fleetsim serve: warning: listening on " << host
              << ", beyond this machine; the service has no authentication "
                 "and runs simulations for anyone who reaches it\n";
  }
  std::cout << absl::StrFormat(
                   "fleetsim serve: listening on %s:%d (data %s, %d "
                   "concurrent simulations)",
                   host, (*server)->port(), options.backend.limits.data_dir,
                   (*server)->backend()->max_concurrent())
            << std::endl;

  service::PlanningServer* running = server->get();
  std::thread stopper([running, stop_signals]() {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (!running->helper_died()) {
      std::cerr << "fleetsim serve: " << strsignal(signal_number)
                << ", shutting down\n";
    }
    running->Shutdown();
  });
  running->Wait();
  bool helper_died = running->helper_died();
  if (helper_died) kill(getpid(), SIGTERM);  // releases the stopper's sigwait
  stopper.join();
  server->reset();  // stops the worker helper, killing any job left
  if (helper_died) {
    std::cerr << "fleetsim serve: the worker helper process died; exiting "
                 "so that a supervisor restarts the server\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "serve",
    {"serve [--listen HOST:PORT] [flags]",
     "Runs the gRPC PlanningService (docs/service.md) on the data folder.",
     {"listen", "data_dir", "max_concurrent", "max_inline_trace_bytes",
      "max_message_bytes", "request_log"},
     fleetsim::cli::RunServe});
