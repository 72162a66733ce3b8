// Tests for planner/local_simulation_pool.h: a crashed simulation is run once
// more, then reported as an Internal error saying so. Crashes are made by
// SIGKILL from the pool's own polling hook, so the test waits on the pool's
// events, not on the clock.
#include "planner/local_simulation_pool.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/catalogs.h"
#include "sim/scenario.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::planner {
namespace {

using ::testing::HasSubstr;

// One H100 serving Llama-2-7B for 10^6 simulated seconds: about a minute of
// wall time, so the child is always caught running.
sim::SimulationInputs LongSimulation() {
  sim::ScenarioRequest request;
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs =
      sim::Catalogs::Load(testutil::kData);
  EXPECT_TRUE(catalogs.ok()) << catalogs.status();
  request.catalogs = *catalogs;
  request.cluster = testutil::OneMachine();
  request.model = "llama-2-7b";
  request.workload = testutil::ConversationPoisson(8, 1e6);
  absl::StatusOr<sim::SimulationInputs> inputs = sim::LoadScenario(request);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  return *std::move(inputs);
}

TEST(LocalSimulationPoolTest, ACrashIsRetriedOnceThenAnInternalErrorSayingSo) {
  sim::SimulationInputs inputs = LongSimulation();
  LocalSimulationPool pool(1);
  int killed = 0;
  pool.set_cancelled([&killed] {
    for (pid_t child : testutil::ChildrenOf(getpid())) {
      kill(child, SIGKILL);
      ++killed;
    }
    return false;
  });
  auto results = pool.RunBatch({{&inputs, nullptr}});
  ASSERT_TRUE(results.ok()) << results.status();
  const absl::StatusOr<v1::SimulationResult>& result = (*results)[0];
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), HasSubstr("signal 9"));
  EXPECT_THAT(result.status().message(), HasSubstr("2 attempts"));
  // A child is signalled again while it is still dying (not yet a
  // zombie), so `killed` counts calls, not children.
  EXPECT_GE(killed, SimulationPool::kAttempts);
  EXPECT_EQ(pool.simulations(), SimulationPool::kAttempts);
}

TEST(LocalSimulationPoolTest, ASimulationDiesWithItsParent) {
  pid_t planner = fork();
  ASSERT_GE(planner, 0);
  if (planner == 0) {  // a planner with one long simulation running
    sim::SimulationInputs inputs = LongSimulation();
    LocalSimulationPool pool(1);
    (void)pool.RunBatch({{&inputs, nullptr}});
    _exit(0);
  }
  std::vector<pid_t> simulations;
  while (simulations.empty()) {
    ASSERT_EQ(waitpid(planner, nullptr, WNOHANG), 0) << "planner ended";
    simulations = testutil::ChildrenOf(planner);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(planner, SIGKILL);
  waitpid(planner, nullptr, 0);
  EXPECT_TRUE(
      testutil::WaitForProcessGone(simulations[0], std::chrono::seconds(30)));
}

}  // namespace
}  // namespace fleetsim::planner
