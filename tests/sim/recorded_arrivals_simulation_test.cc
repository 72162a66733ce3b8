// A run that replays a recorded stream (SimulationInputs.arrivals, what the
// planner shares among its candidates) is the run that reads its trace.
#include <string>

#include "gtest/gtest.h"
#include "sim/isolated_run.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "tests/sim/sim_test_util.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

// The planner's SPAD setting: BLOOM-176B on `prompt` + `token` H100
// machines, 70 req/s resampled from the coding trace for 60 s, SPAD's
// normal SLO, stopping at a certain miss.
SimulationInputs SpadInputs(int prompt, int token) {
  ScenarioRequest request;
  request.catalogs = testutil::ShippedCatalogs();
  EXPECT_TRUE(ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb",
                                &request.cluster)
                  .ok());
  request.cluster.mutable_pools(0)->set_machines(prompt);
  request.cluster.mutable_pools(1)->set_machines(token);
  request.model = "bloom-176b";
  request.workload.set_trace_path(kData + "/traces/azure_2023_code.csv");
  request.workload.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  request.workload.set_rate_per_s(70);
  request.workload.set_duration_s(60);
  request.workload.set_seed(1);
  request.slo = "normal";
  absl::StatusOr<SimulationInputs> inputs = LoadScenario(request);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  if (!inputs.ok()) return {};
  inputs->stop_when_slo_missed = true;
  return *std::move(inputs);
}

// A fleet that meets the SLO (whole window) and one that misses (stopped
// early, at the same request): byte-identical results. The trace is moved
// away once recorded, so the replaying run shows it reads none.
TEST(RecordedArrivalsSimulationTest, ReplayingTheRecordIsTheSameRun) {
  for (auto [prompt, token] : {std::pair{20, 12}, {6, 3}}) {
    SCOPED_TRACE(testing::Message() << prompt << "+" << token);
    SimulationInputs inputs = SpadInputs(prompt, token);
    absl::StatusOr<v1::SimulationResult> read = RunSimulationInChild(inputs);
    ASSERT_TRUE(read.ok()) << read.status();
    auto recorded =
        workloads::RecordedArrivals::Record(inputs.workload, 1'000'000);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    ASSERT_NE(*recorded, nullptr);
    inputs.arrivals = *recorded;
    inputs.workload.set_trace_path(kData + "/traces/no_such_trace.csv");
    absl::StatusOr<v1::SimulationResult> replayed =
        RunSimulationInChild(inputs);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_EQ(replayed->has_early_stop(), prompt < 10);
    read->clear_wall_s();
    replayed->clear_wall_s();
    EXPECT_EQ(replayed->SerializeAsString(), read->SerializeAsString());
  }
}

}  // namespace
}  // namespace fleetsim::sim
