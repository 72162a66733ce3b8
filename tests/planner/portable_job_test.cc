// Tests for planner/portable_job.h: a simulation split into its context and
// task, sent as bytes and joined again, runs to exactly the result of the
// original inputs (what an MPI worker rank relies on), with a disaggregated
// fleet of two chips so the task carries each chip once.
#include "planner/portable_job.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/catalogs.h"
#include "sim/isolated_run.h"
#include "sim/scenario.h"
#include "tests/service/service_test_util.h"
#include "util/textproto.h"

namespace fleetsim::planner {
namespace {

v1::Cluster TwoChipFleet() {
  v1::Cluster cluster;
  absl::Status status = ParseTextProto(
      R"pb(
        name: "prefill:h100x1@tp8+decode:a100x2@tp8"
        # Conversation prompts past llama-2-70b's 4096-token context are
        # served cut, so the early stop does not end the run at the first.
        context_limit: CONTEXT_LIMIT_TRUNCATE
        pools {
          role: POOL_ROLE_PREFILL
          machine { chip: "h100" chips_per_machine: 8 }
          machines: 1
          tp: 8
        }
        pools {
          role: POOL_ROLE_DECODE
          machine { chip: "a100" chips_per_machine: 8 }
          machines: 2
          tp: 8
        }
      )pb",
      "test", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

TEST(PortableJobTest, RebuiltInputsSimulateToTheSameResult) {
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs =
      sim::Catalogs::Load(testutil::kData);
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  sim::ScenarioRequest request;
  request.catalogs = *catalogs;
  request.cluster = TwoChipFleet();
  request.model = "llama-2-70b";
  request.workload = testutil::ConversationPoisson(2, 30);
  request.workload.set_seed(7);
  request.slo = "normal";
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(request);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  inputs->stop_when_slo_missed = true;  // the planner's setting travels too

  absl::StatusOr<v1::SimulationTask> task =
      TaskOf({&*inputs, &request.cluster});
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->chips_size(), 2);
  v1::SimulationContext context;
  ASSERT_TRUE(context.ParseFromString(ContextOf(*inputs).SerializeAsString()));
  v1::SimulationTask sent;
  ASSERT_TRUE(sent.ParseFromString(task->SerializeAsString()));
  absl::StatusOr<sim::SimulationInputs> rebuilt = InputsOf(context, sent);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_TRUE(rebuilt->stop_when_slo_missed);

  absl::StatusOr<v1::SimulationResult> original =
      sim::RunSimulationInChild(*inputs);
  absl::StatusOr<v1::SimulationResult> again =
      sim::RunSimulationInChild(*rebuilt);
  ASSERT_TRUE(original.ok()) << original.status();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT(original->completed(), 0);
  original->clear_wall_s();  // host time, the one field that may differ
  again->clear_wall_s();
  EXPECT_EQ(original->SerializeAsString(), again->SerializeAsString());
}

TEST(PortableJobTest, AJobWithoutItsClusterCannotTravel) {
  sim::SimulationInputs inputs;
  absl::StatusOr<v1::SimulationTask> task = TaskOf({&inputs, nullptr});
  EXPECT_EQ(task.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetsim::planner
