// Request checks of the PlanningService (service/request_checks.h):
// path confinement to the data folder and field-naming errors.
#include "service/request_checks.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::service {
namespace {

namespace fs = std::filesystem;
using testutil::kData;
using testutil::SmallRequest;

// A private data folder: data/'s catalogs plus a trace, a symlink out of
// the folder and a symlink that stays inside it.
class ConfinedDataDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("svc_data_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "traces");
    for (const char* dir : {"chips", "models", "slos"}) {
      fs::copy(fs::path(kData) / dir, root_ / dir, fs::copy_options::recursive);
    }
    fs::copy(fs::path(kData) / "traces/splitwise_test_trace.csv",
             root_ / "traces/toy.csv");
    outside_ = fs::path(::testing::TempDir()) /
               ("svc_outside_" + std::to_string(getpid()) + ".csv");
    std::ofstream(outside_) << "secret\n";
    fs::create_symlink(outside_, root_ / "traces/escape.csv");
    fs::create_symlink(root_ / "traces/toy.csv", root_ / "traces/alias.csv");
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove(outside_);
  }

  // "" when resolved, else the code's name and the message.
  std::string Resolve(const std::string& path) {
    absl::StatusOr<std::string> resolved =
        ResolveDataPath(root_.string(), path, "workload.trace_path");
    if (resolved.ok()) return "";
    return absl::StatusCodeToString(resolved.status().code()) + ": " +
           std::string(resolved.status().message());
  }

  fs::path root_;
  fs::path outside_;
};

TEST_F(ConfinedDataDir, RelativeAndAbsolutePathsInsideResolve) {
  EXPECT_EQ(Resolve("traces/toy.csv"), "");
  EXPECT_EQ(Resolve((root_ / "traces/toy.csv").string()), "");
  EXPECT_EQ(Resolve("./traces/toy.csv"), "");
  EXPECT_EQ(Resolve("traces/alias.csv"), "");  // a symlink that stays inside
  absl::StatusOr<std::string> resolved =
      ResolveDataPath(root_.string(), "traces/alias.csv", "f");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(*resolved, fs::canonical(root_ / "traces/toy.csv").string());
}

TEST_F(ConfinedDataDir, EscapesAreRefusedWithPermissionDenied) {
  for (const std::string& path :
       {std::string("../../etc/passwd"), std::string("traces/../../x.csv"),
        std::string("traces/../traces/toy.csv"), std::string("/etc/passwd"),
        outside_.string(), std::string("traces/escape.csv")}) {
    std::string error = Resolve(path);
    EXPECT_EQ(error.rfind("PERMISSION_DENIED: workload.trace_path", 0), 0u)
        << path << " -> " << error;
  }
}

TEST_F(ConfinedDataDir, MissingOrOddPathsAreInvalidArguments) {
  EXPECT_EQ(Resolve("").rfind("INVALID_ARGUMENT: workload.trace_path", 0), 0u);
  EXPECT_EQ(Resolve("traces/nope.csv").rfind("INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(Resolve("traces").rfind("INVALID_ARGUMENT", 0), 0u);  // a folder
}

TEST_F(ConfinedDataDir, CheckSimulateRequestResolvesTheTracePath) {
  v1::SimulateRequest request = SmallRequest();
  request.clear_trace_bytes();
  request.mutable_workload()->set_trace_path("traces/toy.csv");
  RequestLimits limits{root_.string()};
  absl::StatusOr<v1::SimulateRequest> checked =
      CheckSimulateRequest(request, limits);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->workload().trace_path(),
            fs::canonical(root_ / "traces/toy.csv").string());
  request.mutable_workload()->set_trace_path("traces/escape.csv");
  EXPECT_EQ(CheckSimulateRequest(request, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.clear_cluster();
  request.set_cluster_path("../../etc/passwd");
  EXPECT_EQ(CheckSimulateRequest(request, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// A cluster's iteration table is a file the server opens: the same
// confinement, in a Simulate's cluster and a Plan's template and fleet.
TEST_F(ConfinedDataDir, IterationTablesStayInTheDataFolder) {
  RequestLimits limits{root_.string()};
  v1::SimulateRequest simulate = SmallRequest();
  simulate.clear_trace_bytes();
  simulate.mutable_workload()->set_trace_path("traces/toy.csv");
  simulate.mutable_cluster()->set_iteration_time_table("traces/toy.csv");
  absl::StatusOr<v1::SimulateRequest> checked =
      CheckSimulateRequest(simulate, limits);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->cluster().iteration_time_table(),
            fs::canonical(root_ / "traces/toy.csv").string());
  simulate.mutable_cluster()->set_iteration_time_table("traces/escape.csv");
  absl::Status escape = CheckSimulateRequest(simulate, limits).status();
  EXPECT_EQ(escape.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(escape.message().find("cluster.iteration_time_table"),
            std::string::npos)
      << escape;

  v1::PlanRequest plan;
  plan.set_model("bloom-176b");
  plan.mutable_workload()->set_trace_path("traces/toy.csv");
  plan.set_slo_preset("normal");
  plan.mutable_template_cluster()->set_iteration_time_table("/etc/passwd");
  EXPECT_EQ(CheckPlanRequest(plan, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
  plan.clear_template_cluster();
  plan.mutable_fixed_fleet()->set_iteration_time_table("../../x.csv");
  EXPECT_EQ(CheckPlanRequest(plan, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// The code and message of checking, then loading, `request`.
std::string Problem(const v1::SimulateRequest& request,
                    int64_t max_inline = 8 << 20) {
  RequestLimits limits{kData, max_inline};
  absl::StatusOr<v1::SimulateRequest> checked =
      CheckSimulateRequest(request, limits);
  absl::Status status = checked.status();
  if (checked.ok()) {
    status = ScenarioFromRequest(*checked, limits, "inline").status();
  }
  if (status.ok()) return "OK";
  return absl::StatusCodeToString(status.code()) + ": " +
         std::string(status.message());
}

TEST(SimulateRequestChecks, AGoodRequestPasses) {
  EXPECT_EQ(Problem(SmallRequest()), "OK");
  v1::SimulateRequest with_preset = SmallRequest();
  with_preset.set_slo_preset("normal");
  EXPECT_EQ(Problem(with_preset), "OK");
}

TEST(SimulateRequestChecks, EveryBadFieldIsAnInvalidArgumentNamingIt) {
  struct Case {
    std::string field;  // expected in the message
    std::function<void(v1::SimulateRequest*)> spoil;
  };
  std::vector<Case> cases = {
      {"cluster", [](v1::SimulateRequest* r) { r->clear_cluster(); }},
      {"model", [](v1::SimulateRequest* r) { r->clear_model(); }},
      {"no-such-model",
       [](v1::SimulateRequest* r) { r->set_model("no-such-model"); }},
      {"tpu9",
       [](v1::SimulateRequest* r) {
         r->mutable_cluster()->mutable_pools(0)->mutable_machine()->set_chip(
             "tpu9");
       }},
      {"rate_per_s",
       [](v1::SimulateRequest* r) {
         r->mutable_workload()->set_arrival(v1::ARRIVAL_PROCESS_POISSON);
         r->mutable_workload()->set_rate_per_s(-3);
       }},
      {"duration_s",
       [](v1::SimulateRequest* r) {
         r->mutable_workload()->set_duration_s(-1);
       }},
      {"slo_preset", [](v1::SimulateRequest* r) { r->set_slo_preset("../x"); }},
      {"slo_preset", [](v1::SimulateRequest* r) { r->set_slo_preset("nope"); }},
      {"workload.trace_path",
       [](v1::SimulateRequest* r) { r->clear_trace_bytes(); }},
      {"pool",
       [](v1::SimulateRequest* r) { r->add_pool_overrides("nosuch=3"); }},
      // Issue 16: finite values like these, in one inline request, once
      // made a latency overflow LogHistogram and killed the worker.
      {"framework_layer_overhead_us",
       [](v1::SimulateRequest* r) {
         r->mutable_cluster()->set_framework_layer_overhead_us(1e306);
       }},
      {"scale_out_gbytes_per_s",
       [](v1::SimulateRequest* r) {
         r->mutable_cluster()
             ->mutable_pools(0)
             ->mutable_machine()
             ->set_scale_out_gbytes_per_s(1e-300);
       }},
      {"scale_out_latency_us",
       [](v1::SimulateRequest* r) {
         r->mutable_cluster()
             ->mutable_pools(0)
             ->mutable_machine()
             ->set_scale_out_latency_us(1e306);
       }},
  };
  for (const Case& c : cases) {
    v1::SimulateRequest request = SmallRequest();
    c.spoil(&request);
    std::string problem = Problem(request);
    EXPECT_EQ(problem.rfind("INVALID_ARGUMENT: ", 0), 0u)
        << c.field << ": " << problem;
    EXPECT_NE(problem.find(c.field), std::string::npos)
        << c.field << ": " << problem;
  }
}

TEST(SimulateRequestChecks, InlineTracesAreBounded) {
  v1::SimulateRequest request = SmallRequest();
  std::string problem = Problem(request, /*max_inline=*/16);
  EXPECT_EQ(problem.rfind("INVALID_ARGUMENT: trace_bytes", 0), 0u) << problem;
}

TEST(SimulateRequestChecks, InlineSloIsValidated) {
  v1::SimulateRequest request = SmallRequest();
  v1::SloTarget* target = request.mutable_slo()->add_targets();
  target->set_percentile(250);
  std::string problem = Problem(request);
  EXPECT_EQ(problem.rfind("INVALID_ARGUMENT: ", 0), 0u) << problem;
  EXPECT_NE(problem.find("slo"), std::string::npos) << problem;
}

TEST(PlanRequestChecks, PathsAreConfinedAndResolved) {
  RequestLimits limits{kData};
  v1::PlanRequest request;
  request.set_model("bloom-176b");
  request.mutable_workload()->set_trace_path("traces/azure_2023_code.csv");
  request.set_slo_preset("normal");
  absl::StatusOr<v1::PlanRequest> checked = CheckPlanRequest(request, limits);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_TRUE(fs::path(checked->workload().trace_path()).is_absolute());
  request.set_slo_preset("../../etc/passwd");
  EXPECT_EQ(CheckPlanRequest(request, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.set_slo_preset("normal");
  request.mutable_workload()->set_trace_path("/etc/passwd");
  EXPECT_EQ(CheckPlanRequest(request, limits).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.mutable_workload()->set_trace_path("traces/azure_2023_code.csv");
  request.set_jobs(-1);
  EXPECT_EQ(CheckPlanRequest(request, limits).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PlanRequestChecks, BadFieldsAreInvalidArgumentsNamingThem) {
  RequestLimits limits{kData};
  v1::PlanRequest good;
  good.set_model("bloom-176b");
  good.mutable_workload()->set_trace_path("traces/azure_2023_code.csv");
  good.set_slo_preset("normal");
  good.add_chips("h100");
  absl::StatusOr<v1::PlanRequest> checked = CheckPlanRequest(good, limits);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->slo_preset(), kData + "/slos/normal.txtpb");

  std::vector<std::pair<std::string, std::function<void(v1::PlanRequest*)>>>
      cases = {
          {"model", [](v1::PlanRequest* r) { r->set_model("gpt-17"); }},
          {"chips", [](v1::PlanRequest* r) { r->add_chips("tpu9"); }},
          {"slo", [](v1::PlanRequest* r) { r->clear_slo_preset(); }},
          {"rate_per_s",
           [](v1::PlanRequest* r) {
             r->mutable_workload()->set_rate_per_s(-1);
           }},
          {"budget_machines",
           [](v1::PlanRequest* r) { r->set_budget_machines(-2); }},
          {"normalize_to",
           [](v1::PlanRequest* r) { r->set_normalize_to("a100x"); }},
          {"modes",
           [](v1::PlanRequest* r) {
             r->add_modes(static_cast<v1::ServingMode>(99));
           }},
          {"objective",
           [](v1::PlanRequest* r) {
             r->set_objective(static_cast<v1::PlanObjective>(99));
           }},
          {"tp", [](v1::PlanRequest* r) { r->add_tp(3); }},
          {"tp", [](v1::PlanRequest* r) { r->add_tp(-1); }},
          {"tp", [](v1::PlanRequest* r) { r->add_tp(0); }},
      };
  for (const auto& [field, spoil] : cases) {
    v1::PlanRequest request = good;
    spoil(&request);
    absl::Status status = CheckPlanRequest(request, limits).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << field << ": " << status;
    EXPECT_NE(status.message().find(field), absl::string_view::npos)
        << field << ": " << status;
  }
}

TEST(PlanRequestChecks, InlineTracesAreTakenWithinTheLimit) {
  v1::PlanRequest request;
  request.set_model("llama-2-7b");
  request.set_slo_preset("normal");
  request.set_trace_bytes(SmallRequest().trace_bytes());
  // A path next to inline bytes is ignored (and cleared), as in Simulate.
  request.mutable_workload()->set_trace_path("../../etc/passwd");
  RequestLimits limits{kData};
  absl::StatusOr<v1::PlanRequest> checked = CheckPlanRequest(request, limits);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->trace_bytes(), request.trace_bytes());
  EXPECT_EQ(checked->workload().trace_path(), "");

  // Workload fields are still validated with an inline trace.
  v1::PlanRequest bad_rate = request;
  bad_rate.mutable_workload()->set_rate_per_s(-1);
  absl::Status status = CheckPlanRequest(bad_rate, limits).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("rate_per_s"), absl::string_view::npos)
      << status;

  // Over the limit: the same error as Simulate's.
  limits.max_inline_trace_bytes =
      static_cast<int64_t>(request.trace_bytes().size()) - 1;
  status = CheckPlanRequest(request, limits).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message().rfind("trace_bytes: ", 0), 0u) << status;
  EXPECT_NE(status.message().find("--max-inline-trace-bytes"),
            absl::string_view::npos)
      << status;
  v1::SimulateRequest simulate = SmallRequest();
  EXPECT_EQ(Problem(simulate, limits.max_inline_trace_bytes),
            absl::StrCat("INVALID_ARGUMENT: ", status.message()));
}

}  // namespace
}  // namespace fleetsim::service
