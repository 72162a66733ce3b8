// PlanningService round trips in-process: a PlanningServer on an ephemeral
// loopback port and a generated C++ client. Each test runs in its own
// process (gtest_discover_tests), so the server's worker helper is always
// forked before any gRPC thread exists.
#include "service/planning_service.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "economics/tco.h"
#include "gtest/gtest.h"
#include "service/request_checks.h"
#include "sim/isolated_run.h"
#include "sim/scenario.h"
#include "tests/cli/fleetsim_cli.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::service {
namespace {

using testutil::ChildrenOf;
using testutil::HealthStatus;
using testutil::kData;
using testutil::LongRequest;
using testutil::SmallRequest;
using testutil::WaitForChildren;
using testutil::WaitForNoChildren;
using testutil::WaitForProcessGone;
using testutil::WaitUntil;

// A stand-in planner for the Plan plumbing: reports progress, and with
// budget_machines = 99 starts a child simulation-like process and never
// finishes (to be cancelled).
absl::StatusOr<v1::PlanResult> FakePlanner(const v1::PlanRequest& request,
                                           const std::string& data_dir,
                                           const PlanProgressSink& progress) {
  if (request.budget_machines() == 99) {
    if (fork() == 0) {
      while (true) pause();
    }
    v1::PlanProgress event;
    event.set_message("started a simulation");
    progress(event);
    while (true) pause();
  }
  if (request.budget_machines() == 98) {
    // Reads the trace the way the planner's simulations do: in this job and
    // in two forked children, which must see the same bytes.
    std::string trace;
    absl::Status read =
        ReadFileToString(request.workload().trace_path(), &trace);
    if (!read.ok()) return read;
    int same = 0;
    for (int i = 0; i < 2; ++i) {
      pid_t child = fork();
      if (child == 0) {
        std::string seen;
        _exit(ReadFileToString(request.workload().trace_path(), &seen).ok() &&
                      seen == trace
                  ? 0
                  : 1);
      }
      int status = 0;
      if (child > 0 && waitpid(child, &status, 0) == child &&
          WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        ++same;
      }
    }
    v1::PlanResult result;
    result.set_feasible(request.trace_bytes().empty());  // cleared for us
    result.set_simulations(same);
    result.set_explanation(trace);
    return result;
  }
  for (int i = 1; i <= 3; ++i) {
    v1::PlanProgress event;
    event.set_evaluated(i);
    event.set_planned(3);
    event.set_message(absl::StrCat("jobs=", request.jobs()));
    progress(event);
  }
  v1::PlanResult result;
  result.set_feasible(true);
  result.set_simulations(3);
  result.set_explanation(request.workload().trace_path());
  return result;
}

// A real planner search small enough for a test: llama-2-7b on at most two
// H100 machines, 60 s of Poisson arrivals (seeded) with the toy trace's
// lengths, named by its data-dir path.
v1::PlanRequest SmallPlan() {
  v1::PlanRequest request;
  request.set_model("llama-2-7b");
  request.add_chips("h100");
  request.set_budget_machines(2);
  request.set_jobs(2);
  request.set_slo_preset("relaxed");
  v1::Workload* workload = request.mutable_workload();
  workload->set_trace_path("traces/splitwise_test_trace.csv");
  workload->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload->set_rate_per_s(2);
  workload->set_duration_s(60);
  workload->set_seed(7);
  return request;
}

// `request` with its trace sent inline instead of by path.
v1::PlanRequest Inline(v1::PlanRequest request) {
  std::string trace;
  EXPECT_TRUE(
      ReadFileToString(kData + "/" + request.workload().trace_path(), &trace)
          .ok());
  request.set_trace_bytes(trace);
  request.mutable_workload()->clear_trace_path();
  return request;
}

// Host wall times, the only part of a plan that differs between runs.
void ClearWallTimes(v1::PlanResult* plan) {
  plan->clear_wall_s();
  auto clear = [](v1::PlannedFleet* fleet) {
    if (fleet->has_result()) fleet->mutable_result()->clear_wall_s();
  };
  for (v1::PlannedFleet& fleet : *plan->mutable_fleets()) clear(&fleet);
  for (v1::PlannedFleet& fleet : *plan->mutable_pareto()) clear(&fleet);
  for (v1::PlannedFleet& fleet : *plan->mutable_best_per_system())
    clear(&fleet);
  clear(plan->mutable_cheapest());
  clear(plan->mutable_lowest_tdp());
  clear(plan->mutable_recommended());
  clear(plan->mutable_reallocation());
}

class PlanningServerTest : public ::testing::Test {
 protected:
  // `planner` null = the real one (RunPlanner).
  void Start(int max_concurrent = 4, PlannerFn planner = FakePlanner) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.backend.limits.data_dir = kData;
    options.backend.max_concurrent = max_concurrent;
    options.backend.TEST_planner = std::move(planner);
    absl::StatusOr<std::unique_ptr<PlanningServer>> server =
        PlanningServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::PlanningService::NewStub(channel_);
  }

  // Calls Simulate; `result` gets the reply's result.
  grpc::Status Simulate(
      const v1::SimulateRequest& request, v1::SimulationResult* result,
      std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    v1::SimulateResponse response;
    grpc::Status status = stub_->Simulate(&context, request, &response);
    *result = std::move(*response.mutable_result());
    return status;
  }

  // Runs a Plan to its end; appends its events to `events`.
  grpc::Status Plan(const v1::PlanRequest& request,
                    std::vector<v1::PlanResponse>* events,
                    std::chrono::seconds deadline = std::chrono::seconds(120)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    std::unique_ptr<grpc::ClientReader<v1::PlanResponse>> reader =
        stub_->Plan(&context, request);
    v1::PlanResponse event;
    while (reader->Read(&event)) events->push_back(event);
    return reader->Finish();
  }

  pid_t helper() { return server_->backend()->worker_helper_pid(); }

  std::unique_ptr<PlanningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PlanningService::Stub> stub_;
};

TEST_F(PlanningServerTest, SimulateMatchesALocalRun) {
  Start();
  v1::SimulateRequest request = SmallRequest();
  request.set_slo_preset("normal");
  v1::SimulationResult remote;
  grpc::Status status = Simulate(request, &remote);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(remote.requests(), 3);
  EXPECT_EQ(remote.completed(), 3);
  EXPECT_GT(remote.ttft_s().p50(), 0);
  EXPECT_EQ(remote.slo_size(), 4);

  // The same scenario run the CLI's way (in a forked child here).
  absl::StatusOr<v1::SimulateRequest> checked =
      CheckSimulateRequest(request, RequestLimits{kData});
  ASSERT_TRUE(checked.ok());
  std::string trace =
      ::testing::TempDir() + "/svc_trace_" + std::to_string(getpid()) + ".csv";
  std::ofstream(trace) << request.trace_bytes();
  absl::StatusOr<sim::SimulationInputs> inputs =
      ScenarioFromRequest(*checked, RequestLimits{kData}, trace);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  inputs->operator_totals = true;  // as replay and the Simulate rpc
  absl::StatusOr<v1::SimulationResult> local =
      sim::RunSimulationInChild(*inputs);
  ASSERT_TRUE(local.ok()) << local.status();
  // Priced as the server prices it: list prices, the shipped assumptions.
  EXPECT_EQ(remote.tco().cost_basis(), v1::COST_BASIS_LIST);
  absl::StatusOr<economics::TcoSettings> tco = economics::LoadTcoSettings(
      kData, v1::COST_BASIS_UNSPECIFIED, v1::SiteAssumptions(), "site");
  ASSERT_TRUE(tco.ok()) << tco.status();
  ASSERT_TRUE(
      economics::PriceSimulation(inputs->fleet, inputs->h100, *tco, &*local)
          .ok());
  remote.clear_wall_s();
  local->clear_wall_s();
  EXPECT_EQ(remote.SerializeAsString(), local->SerializeAsString());
  EXPECT_EQ(WaitForNoChildren(helper()), 0u);
}

TEST_F(PlanningServerTest, SimulateReadsATracePathInsideTheDataFolder) {
  Start();
  v1::SimulateRequest request = SmallRequest();
  request.clear_trace_bytes();
  request.mutable_workload()->set_trace_path("traces/splitwise_test_trace.csv");
  v1::SimulationResult result;
  grpc::Status status = Simulate(request, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.completed(), 3);
  request.clear_cluster();
  request.set_cluster_path("clusters/colocated_h100.txtpb");
  request.set_model("llama-2-70b");
  status = Simulate(request, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.pools(0).machines(), 36);
}

TEST_F(PlanningServerTest, PathTraversalIsRefused) {
  Start();
  for (const std::string& path :
       {std::string("../../../../etc/passwd"), std::string("/etc/passwd"),
        std::string("traces/../../CMakeLists.txt")}) {
    v1::SimulateRequest request = SmallRequest();
    request.clear_trace_bytes();
    request.mutable_workload()->set_trace_path(path);
    v1::SimulationResult result;
    grpc::Status status = Simulate(request, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << path << ": " << status.error_message();
    request = SmallRequest();
    request.clear_cluster();
    request.set_cluster_path(path);
    status = Simulate(request, &result);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << path << ": " << status.error_message();
  }
}

TEST_F(PlanningServerTest, BadFieldsAreInvalidArgumentsAndTheServerLives) {
  Start();
  v1::SimulateRequest request = SmallRequest();
  request.set_model("gpt-17");
  v1::SimulationResult result;
  grpc::Status status = Simulate(request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("gpt-17"), std::string::npos);

  request = SmallRequest();
  request.set_trace_bytes("this is not a trace\n1,2,3\n");
  status = Simulate(request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_NE(status.error_message().find("trace_bytes"), std::string::npos)
      << status.error_message();

  request = SmallRequest();
  request.mutable_cluster()->mutable_pools(0)->set_tp(3);
  status = Simulate(request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();

  EXPECT_EQ(HealthStatus(channel_), 1);
  EXPECT_TRUE(Simulate(SmallRequest(), &result).ok());
}

TEST_F(PlanningServerTest, OversizedMessagesAreRefused) {
  Start();
  v1::SimulateRequest request = SmallRequest();
  request.set_trace_bytes(std::string(10 << 20, 'x'));  // over 8 MiB + 1 MiB
  v1::SimulationResult result;
  grpc::Status status = Simulate(request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  request.set_trace_bytes(std::string((8 << 20) + 10, 'x'));  // over 8 MiB
  status = Simulate(request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(HealthStatus(channel_), 1);
}

TEST(PlanningServerStartTest, BadListenAddressesAreRefused) {
  for (const char* listen : {"127.0.0.1:99999", "127.0.0.1", "host:port"}) {
    ServerOptions options;
    options.listen = listen;
    options.backend.limits.data_dir = kData;
    EXPECT_EQ(PlanningServer::Start(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << listen;
  }
}

// The message limit is derived from the inline-trace limit (+ 1 MiB); a
// limit near INT64_MAX used to overflow that sum (a UBSan report) instead of
// being refused.
TEST(PlanningServerStartTest, MessageLimitsBeyondWhatGrpcCarriesAreRefused) {
  for (int64_t trace_bytes : {int64_t{-1}, kMaxInlineTraceBytes + 1,
                              std::numeric_limits<int64_t>::max()}) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.backend.limits.data_dir = kData;
    options.backend.limits.max_inline_trace_bytes = trace_bytes;
    absl::Status status = PlanningServer::Start(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << trace_bytes;
    EXPECT_TRUE(absl::StrContains(status.message(), "max_inline_trace_bytes"))
        << status;
  }
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.backend.limits.data_dir = kData;
  options.max_message_bytes = -1;
  EXPECT_EQ(PlanningServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.max_message_bytes = 0;
  options.backend.limits.max_inline_trace_bytes = kMaxInlineTraceBytes;
  EXPECT_TRUE(PlanningServer::Start(options).ok());
}

TEST_F(PlanningServerTest, HealthAndCatalogs) {
  Start();
  EXPECT_EQ(HealthStatus(channel_), 1);
  EXPECT_EQ(HealthStatus(channel_, kServiceName), 1);
  grpc::ClientContext chips_context;
  v1::ListChipsResponse chips;
  ASSERT_TRUE(stub_->ListChips(&chips_context, {}, &chips).ok());
  std::vector<std::string> names;
  for (const v1::Chip& chip : chips.chips()) names.push_back(chip.name());
  EXPECT_NE(std::find(names.begin(), names.end(), "h100"), names.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  grpc::ClientContext models_context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub_->ListModels(&models_context, {}, &models).ok());
  EXPECT_GE(models.models_size(), 5);
}

// The minute-long run ends by its deadline (the status says so, whatever
// the machine's speed), and its worker with it.
TEST_F(PlanningServerTest, AnExpiredDeadlineKillsTheWorker) {
  Start();
  v1::SimulationResult result;
  grpc::Status status =
      Simulate(LongRequest(), &result, std::chrono::seconds(2));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(WaitForNoChildren(helper(), std::chrono::seconds(60)), 0u);
  EXPECT_TRUE(WaitUntil([this] { return server_->backend()->running() == 0; }));
}

TEST_F(PlanningServerTest, ACancelledCallKillsTheWorker) {
  Start();
  grpc::ClientContext context;
  v1::SimulateResponse response;
  std::atomic<bool> done{false};
  grpc::Status status;
  std::thread call([&]() {
    status = stub_->Simulate(&context, LongRequest(), &response);
    done = true;
  });
  // Wait until the worker runs, then cancel.
  std::vector<pid_t> workers = WaitForChildren(helper());
  EXPECT_EQ(workers.size(), 1u);
  context.TryCancel();
  call.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(WaitForNoChildren(helper(), std::chrono::seconds(60)), 0u);
  // Capacity comes back once the handler has noticed.
  EXPECT_TRUE(WaitUntil([this] { return server_->backend()->running() == 0; }));
}

// Four calls hold every slot (their workers seen running), so a fifth is
// refused whatever the machine's speed; the slots come back after cancels.
TEST_F(PlanningServerTest, ConcurrentCallsBeyondTheLimitAreTurnedAway) {
  Start(/*max_concurrent=*/4);
  constexpr int kHolders = 4;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<grpc::Status> statuses(kHolders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kHolders; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    threads.emplace_back([this, i, &contexts, &statuses]() {
      v1::SimulateResponse response;
      statuses[i] =
          stub_->Simulate(contexts[i].get(), LongRequest(), &response);
    });
  }
  EXPECT_EQ(WaitForChildren(helper(), kHolders).size(), size_t{kHolders});
  v1::SimulationResult result;
  EXPECT_EQ(Simulate(SmallRequest(), &result).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(HealthStatus(channel_), 1);
  for (auto& context : contexts) context->TryCancel();
  for (std::thread& t : threads) t.join();
  for (const grpc::Status& status : statuses) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_EQ(WaitForNoChildren(helper(), std::chrono::seconds(60)), 0u);
  EXPECT_TRUE(WaitUntil([this] { return server_->backend()->running() == 0; }));
  EXPECT_TRUE(Simulate(SmallRequest(), &result).ok());
}

TEST_F(PlanningServerTest, PlanStreamsProgressThenTheResult) {
  Start(/*max_concurrent=*/3);
  v1::PlanRequest request;
  request.set_model("llama-2-7b");
  request.mutable_workload()->set_trace_path("traces/azure_2023_code.csv");
  request.set_slo_preset("normal");
  std::vector<v1::PlanResponse> events;
  grpc::Status status = Plan(request, &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(events[i].has_progress());
    EXPECT_EQ(events[i].progress().evaluated(), i + 1);
    EXPECT_EQ(events[i].progress().message(), "jobs=3");  // the slots taken
  }
  ASSERT_TRUE(events[3].has_result());
  EXPECT_TRUE(events[3].result().feasible());
  EXPECT_EQ(events[3].result().explanation(),
            std::filesystem::canonical(kData + "/traces/azure_2023_code.csv")
                .string());
}

TEST_F(PlanningServerTest, PlanWithAnInlineTraceEqualsThePlanFromItsPath) {
  Start(/*max_concurrent=*/2, /*planner=*/nullptr);
  std::vector<v1::PlanResponse> from_path;
  grpc::Status status = Plan(SmallPlan(), &from_path);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<v1::PlanResponse> inline_events;
  status = Plan(Inline(SmallPlan()), &inline_events);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Progress events, then exactly one result, as with a path.
  ASSERT_GE(inline_events.size(), 2u);
  for (size_t i = 0; i + 1 < inline_events.size(); ++i) {
    EXPECT_TRUE(inline_events[i].has_progress()) << i;
  }
  ASSERT_TRUE(inline_events.back().has_result());
  ASSERT_TRUE(from_path.back().has_result());
  v1::PlanResult inline_plan = inline_events.back().result();
  v1::PlanResult path_plan = from_path.back().result();
  EXPECT_TRUE(inline_plan.feasible()) << inline_plan.explanation();
  EXPECT_GT(inline_plan.simulations(), 1);  // forked simulations, one trace
  EXPECT_GT(inline_plan.cheapest().pools_size(), 0);
  // Same seed, same bytes: the same fleets, metric for metric.
  ClearWallTimes(&inline_plan);
  ClearWallTimes(&path_plan);
  EXPECT_EQ(inline_plan.SerializeAsString(), path_plan.SerializeAsString())
      << inline_plan.DebugString() << "\nvs\n"
      << path_plan.DebugString();
  EXPECT_EQ(WaitForNoChildren(helper()), 0u);
}

TEST_F(PlanningServerTest, ThePlannersForkedProcessesReadTheSameInlineBytes) {
  Start();
  v1::PlanRequest request = Inline(SmallPlan());
  request.set_budget_machines(98);  // FakePlanner: read it here and in 2 forks
  std::vector<v1::PlanResponse> events;
  grpc::Status status = Plan(request, &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(events.size(), 1u);
  const v1::PlanResult& result = events[0].result();
  EXPECT_TRUE(result.feasible());  // the planner got a path, not the bytes
  EXPECT_EQ(result.simulations(), 2);
  EXPECT_EQ(result.explanation(), request.trace_bytes());
}

TEST_F(PlanningServerTest, PlanRefusesInlineTracesOverTheLimit) {
  Start();
  v1::PlanRequest request = SmallPlan();
  request.clear_workload();
  request.set_trace_bytes(std::string((8 << 20) + 10, 'x'));  // over 8 MiB
  std::vector<v1::PlanResponse> events;
  grpc::Status status = Plan(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(status.error_message().rfind("trace_bytes: ", 0), 0u)
      << status.error_message();
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(server_->backend()->running(), 0);
  EXPECT_EQ(HealthStatus(channel_), 1);
}

TEST_F(PlanningServerTest, AMalformedInlineTraceNamesTraceBytesAndTheLine) {
  Start(/*max_concurrent=*/2, /*planner=*/nullptr);
  std::string trace;
  ASSERT_TRUE(
      ReadFileToString(kData + "/traces/splitwise_test_trace.csv", &trace)
          .ok());
  trace += "3,2,0,five,1,2048,16\n";  // line 5: not a number
  v1::PlanRequest plan = SmallPlan();
  plan.clear_workload();  // the trace's own arrivals
  plan.set_trace_bytes(trace);
  std::vector<v1::PlanResponse> events;
  grpc::Status planned = Plan(plan, &events);
  ASSERT_FALSE(planned.ok());
  EXPECT_NE(planned.error_message().find("trace_bytes:5"), std::string::npos)
      << planned.error_message();
  EXPECT_EQ(planned.error_message().find("/proc/"), std::string::npos)
      << planned.error_message();
  // The code is the trace reader's, as Simulate reports it.
  v1::SimulateRequest simulate = SmallRequest();
  simulate.set_trace_bytes(trace);
  v1::SimulationResult result;
  grpc::Status simulated = Simulate(simulate, &result);
  EXPECT_EQ(planned.error_code(), simulated.error_code())
      << planned.error_message() << " vs " << simulated.error_message();
  EXPECT_NE(simulated.error_message().find("trace_bytes:5"), std::string::npos)
      << simulated.error_message();
  EXPECT_EQ(WaitForNoChildren(helper()), 0u);
}

TEST_F(PlanningServerTest, PlanServerFlagSendsATraceOutsideTheDataFolder) {
  Start(/*max_concurrent=*/2, /*planner=*/nullptr);
  // A copy of the toy trace outside the data folder.
  std::string trace = ::testing::TempDir() + "/plan_inline_" +
                      std::to_string(getpid()) + ".csv";
  std::filesystem::copy_file(kData + "/traces/splitwise_test_trace.csv", trace,
                             std::filesystem::copy_options::overwrite_existing);
  std::string args = absl::StrCat(
      "plan --model llama-2-7b --trace ", trace,
      " --rate 2 --duration 60 --seed 7 --slo relaxed --chips h100 "
      "--budget-machines 2 --jobs 2 --data-dir ",
      kData);
  // The search's wall-time line differs between runs. Under ASan, each
  // local simulation process warns once that it cannot follow SimGrid's
  // stack switching (google/sanitizers#189); that is no plan output either.
  auto plan_lines = [](const std::string& output) {
    std::string kept;
    for (absl::string_view line : absl::StrSplit(output, '\n')) {
      if (!absl::StrContains(line, " simulations in ") &&
          !absl::StartsWith(line, "[plan]") && !absl::StrContains(line, "\r") &&
          !absl::StrContains(line, "ASan is ignoring") &&
          !absl::StrContains(line, "False positive error reports") &&
          !absl::StrContains(line, "google/sanitizers/issues/189")) {
        absl::StrAppend(&kept, line, "\n");
      }
    }
    return kept;
  };
  testutil::FleetsimRun local = testutil::RunFleetsim(args);
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_NE(local.output.find("cheapest"), std::string::npos) << local.output;
  testutil::FleetsimRun remote = testutil::RunFleetsim(
      absl::StrCat(args, " --server 127.0.0.1:", server_->port()));
  ASSERT_EQ(remote.exit_code, 0) << remote.output;
  EXPECT_EQ(plan_lines(remote.output), plan_lines(local.output));
  std::filesystem::remove(trace);
  EXPECT_EQ(WaitForNoChildren(helper()), 0u);
}

TEST_F(PlanningServerTest, CancellingMidPlanLeavesNoProcessBehind) {
  Start();
  v1::PlanRequest request;
  request.set_model("llama-2-7b");
  request.mutable_workload()->set_trace_path("traces/azure_2023_code.csv");
  request.set_slo_preset("normal");
  request.set_budget_machines(99);  // FakePlanner: fork a child, never end
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::PlanResponse>> reader =
      stub_->Plan(&context, request);
  v1::PlanResponse event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.has_progress());
  // The plan job and its child simulation are running.
  std::vector<pid_t> jobs = ChildrenOf(helper());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(ChildrenOf(jobs[0]).size(), 1u);
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(WaitForNoChildren(helper()), 0u);
  EXPECT_TRUE(WaitForProcessGone(jobs[0]));
}

TEST_F(PlanningServerTest, PlanRefusesPathsOutsideTheDataFolder) {
  Start();
  v1::PlanRequest request;
  request.set_model("llama-2-7b");
  request.mutable_workload()->set_trace_path("../../etc/passwd");
  grpc::ClientContext context;
  auto reader = stub_->Plan(&context, request);
  v1::PlanResponse event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PlanningServerTest, ShutdownStopsRunningWorkers) {
  Start();
  pid_t helper_pid = helper();
  std::thread call([this]() {
    v1::SimulationResult result;
    Simulate(LongRequest(), &result);
  });
  std::vector<pid_t> workers = WaitForChildren(helper_pid);
  EXPECT_EQ(workers.size(), 1u) << "the worker never started";
  server_.reset();
  call.join();
  EXPECT_TRUE(WaitForProcessGone(helper_pid));
  for (pid_t worker : workers) EXPECT_TRUE(WaitForProcessGone(worker));
}

// A dead worker helper leaves the server unable to run anything: it shuts
// itself down (NOT_SERVING, then gone) for a supervisor to restart, instead
// of answering SERVING while every call fails.
TEST_F(PlanningServerTest, AHelperDeathShutsTheServerDown) {
  Start();
  EXPECT_EQ(HealthStatus(channel_), 1);
  ASSERT_EQ(kill(helper(), SIGKILL), 0);
  server_->Wait();  // returns once the watcher has shut the server down
  EXPECT_TRUE(server_->helper_died());
  EXPECT_NE(HealthStatus(channel_), 1);
}

}  // namespace
}  // namespace fleetsim::service
