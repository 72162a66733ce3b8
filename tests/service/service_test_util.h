// Helpers shared by the PlanningService tests: process inspection through
// /proc, a health check over the wire, small requests.
#ifndef FLEETSIM_TESTS_SERVICE_SERVICE_TEST_UTIL_H_
#define FLEETSIM_TESTS_SERVICE_SERVICE_TEST_UTIL_H_

#include <dirent.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fleetsim/v1/planning_service.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "util/textproto.h"

namespace fleetsim::testutil {

inline const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

// Poisson arrivals at `rate_per_s` for `duration_s` simulated seconds, with
// the lengths of the bundled Azure 2023 conversation trace.
inline v1::Workload ConversationPoisson(double rate_per_s, double duration_s) {
  v1::Workload workload;
  workload.set_trace_path(kData + "/traces/azure_2023_conv.csv");
  workload.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload.set_rate_per_s(rate_per_s);
  workload.set_duration_s(duration_s);
  return workload;
}

// Live (non-zombie) processes whose parent is `parent`.
inline std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces, so go past ')'.
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') children.push_back(pid);
  }
  closedir(proc);
  return children;
}

// Waits up to `timeout` for `parent` to have no children; returns how many
// are left.
inline size_t WaitForNoChildren(
    pid_t parent, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t left = ChildrenOf(parent).size();
    if (left == 0 || std::chrono::steady_clock::now() > end) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Waits up to `timeout` (a bound for a loaded machine, not a timing) for
// `parent` to have at least `count` children; returns them (fewer when
// they did not come).
inline std::vector<pid_t> WaitForChildren(
    pid_t parent, size_t count = 1,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<pid_t> children = ChildrenOf(parent);
    if (children.size() >= count || std::chrono::steady_clock::now() > end) {
      return children;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Waits up to `timeout` for `condition` to hold; returns whether it does.
inline bool WaitUntil(
    const std::function<bool()>& condition,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Waits up to `timeout` for `pid` to be gone, reaped and not just a zombie
// (ChildrenOf skips zombies, so an empty ChildrenOf can come first); returns
// whether it is gone.
inline bool WaitForProcessGone(
    pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (kill(pid, 0) == 0) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// grpc.health.v1.Health/Check over the wire, without generated code:
// HealthCheckRequest{service} is field 1 (string); the response's status is
// field 1 (enum, SERVING = 1). Returns the status number, or -1 on an RPC
// error.
inline int HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& service = "") {
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0a);
    request.push_back(static_cast<char>(service.size()));
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request_buffer, &response_buffer,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) return -1;
  std::string response;
  for (const grpc::Slice& s : slices) {
    response.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (response.size() == 2 && response[0] == 0x08) return response[1];
  return response.empty() ? 0 : -1;  // UNKNOWN (0) encodes as nothing
}

// One H100 machine at TP1 serving llama-2-7b: small and quick.
inline v1::Cluster OneMachine() {
  v1::Cluster cluster;
  absl::Status status =
      ParseTextProto(R"pb(
                       name: "one"
                       pools {
                         name: "colocated"
                         role: POOL_ROLE_COLOCATED
                         machine { chip: "h100" chips_per_machine: 1 }
                         machines: 1
                         tp: 1
                       }
                       # The toy trace's 4,096-token prompt and the Azure
                       # ones pass Llama-2's 4,096: served, and counted.
                       context_limit: CONTEXT_LIMIT_ALLOW
                     )pb",
                     "test", &cluster);
  (void)status;
  return cluster;
}

// A small Simulate: the three-request SplitwiseSim toy trace, inline.
inline v1::SimulateRequest SmallRequest() {
  v1::SimulateRequest request;
  *request.mutable_cluster() = OneMachine();
  request.set_model("llama-2-7b");
  std::string trace;
  (void)ReadFileToString(kData + "/traces/splitwise_test_trace.csv", &trace);
  request.set_trace_bytes(trace);
  return request;
}

// A Simulate that runs for about a minute (8 req/s for 10^6 simulated
// seconds on one machine: ~5 s of wall time per 10^5 s here), for tests
// that stop it long before it ends.
inline v1::SimulateRequest LongRequest() {
  v1::SimulateRequest request;
  *request.mutable_cluster() = OneMachine();
  request.set_model("llama-2-7b");
  request.mutable_workload()->set_trace_path("traces/azure_2023_conv.csv");
  request.mutable_workload()->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  request.mutable_workload()->set_rate_per_s(8);
  request.mutable_workload()->set_duration_s(1e6);
  return request;
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_SERVICE_SERVICE_TEST_UTIL_H_
