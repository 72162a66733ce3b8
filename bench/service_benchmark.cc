// Where a small Simulate call's time goes, without gRPC: a bare fork-server
// round trip (fork a job process, one frame each way, reap), the request
// checks and scenario load done before a slot is taken, and a whole
// PlanningBackend::Simulate of the 3-request toy trace (fork + load +
// SimGrid run + answer). bench/service_bench.py measures the same over gRPC
// and against the CLI.
#include <memory>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "service/fork_server.h"
#include "service/planning_backend.h"
#include "service/request_checks.h"
#include "util/textproto.h"

namespace fleetsim::service {
namespace {

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

v1::SimulateRequest ToyRequest() {
  v1::SimulateRequest request;
  (void)ParseTextProto(R"pb(
                         name: "one"
                         pools {
                           name: "colocated"
                           role: POOL_ROLE_COLOCATED
                           machine { chip: "h100" chips_per_machine: 1 }
                           machines: 1
                           tp: 1
                         }
                       )pb",
                       "bench", request.mutable_cluster());
  request.set_model("llama-2-7b");
  (void)ReadFileToString(kData + "/traces/splitwise_test_trace.csv",
                         request.mutable_trace_bytes());
  return request;
}

absl::Status Go() { return absl::OkStatus(); }

// Started once, before Google Benchmark runs anything (single-threaded).
ForkServer* Echo() {
  static ForkServer* server = [] {
    auto started = ForkServer::Start([](int fd) {
      absl::StatusOr<Frame> request = ReadFrame(fd);
      if (request.ok()) (void)WriteFrame(fd, 1, request->payload);
    });
    return started.ok() ? started->release() : nullptr;
  }();
  return server;
}

PlanningBackend* Backend() {
  static PlanningBackend* backend = [] {
    BackendOptions options;
    options.limits.data_dir = kData;
    options.max_concurrent = 1;
    auto created = PlanningBackend::Create(options);
    return created.ok() ? created->release() : nullptr;
  }();
  return backend;
}

void BM_ForkServerRoundTrip(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Job> job = Echo()->Submit();
    if (!job.ok() || !job->Send("ping").ok() || !job->Next(Go).ok()) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
}
BENCHMARK(BM_ForkServerRoundTrip)->Unit(benchmark::kMillisecond);

void BM_CheckAndLoadScenario(benchmark::State& state) {
  v1::SimulateRequest request = ToyRequest();
  RequestLimits limits{kData};
  // As the server runs it: catalogs loaded once (PlanningBackend::Create).
  auto catalogs = sim::Catalogs::Load(kData);
  if (!catalogs.ok()) {
    state.SkipWithError("catalogs failed to load");
    return;
  }
  limits.catalogs = *catalogs;
  for (auto _ : state) {
    absl::StatusOr<v1::SimulateRequest> checked =
        CheckSimulateRequest(request, limits);
    if (!checked.ok() ||
        !ScenarioFromRequest(*checked, limits, "inline").ok()) {
      state.SkipWithError("check failed");
      break;
    }
  }
}
BENCHMARK(BM_CheckAndLoadScenario)->Unit(benchmark::kMillisecond);

void BM_BackendSimulateToy(benchmark::State& state) {
  v1::SimulateRequest request = ToyRequest();
  for (auto _ : state) {
    absl::StatusOr<v1::SimulationResult> result =
        Backend()->Simulate(request, Go);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_BackendSimulateToy)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fleetsim::service

int main(int argc, char** argv) {
  // Fork the helpers while this process is still single-threaded.
  fleetsim::service::Echo();
  fleetsim::service::Backend();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
