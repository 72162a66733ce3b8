// The instance actor on a real SimGrid engine (one per child process), with
// an affine latency model so every time is worked out by hand.
#include "sim/instance.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/platform.h"
#include "tests/sim/sim_test_util.h"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;
using testutil::AffineLatency;
using testutil::Observations;
using testutil::Req;
using testutil::RunInChild;
using testutil::TestPool;

// Records what the instance reports.
class Recorder final : public InstanceEvents {
 public:
  void OnPrefillDone(int, LiveRequestPtr) override { ++prefills_handed_off; }
  void OnComplete(LiveRequestPtr request) override {
    std::string id = absl::StrCat(request->id);
    observed[id + ".first_scheduled"] = request->first_scheduled_s;
    observed[id + ".first_token"] = request->first_token_s;
    observed[id + ".last_token"] = request->last_token_s;
    observed[id + ".completed"] = sg4::Engine::get_clock();
  }
  void OnTokenGaps(double gap_s, int64_t count) override {
    observed["gaps"] += static_cast<double>(count);
    observed["gap_sum"] += gap_s * static_cast<double>(count);
  }
  void OnIdle(int) override { observed["idle"] += 1; }
  void AfterIteration(int) override { observed["after_iteration"] += 1; }
  void CountEvent() override {}

  Observations observed;
  int prefills_handed_off = 0;
};

struct Arrival {
  double at_s;
  int64_t id;
  int32_t input;
  int32_t output;
};

// One colocated vLLM instance on one machine, fed `arrivals` by a feeder
// actor; returns what the recorder saw.
Observations RunInstance(const std::vector<Arrival>& arrivals) {
  sg4::Engine engine("instance_test");
  ConfigureEngine({});
  FleetSpec fleet;
  fleet.pools.push_back(TestPool(v1::POOL_ROLE_COLOCATED));
  Platform platform = BuildPlatform(fleet);
  AffineLatency latency;
  Recorder recorder;
  Instance instance(&recorder, 0, 0, &fleet.pools[0], {platform.machines[0][0]},
                    &latency, InstanceOptions{});
  sg4::Actor::create("instance", instance.host(), [&] {
    instance.Run();
  })->daemonize();
  sg4::Actor::create("feeder", platform.router, [&] {
    for (const Arrival& a : arrivals) {
      sg4::this_actor::sleep_until(a.at_s);
      instance.scheduler().Enqueue(Req(a.id, a.input, a.output, a.at_s));
      instance.Wake();
    }
    sg4::this_actor::sleep_until(100);  // outlive the work
  });
  engine.run();
  recorder.observed["handed_off"] = recorder.prefills_handed_off;
  return recorder.observed;
}

TEST(InstanceTest, LoneRequestPrefillsThenDecodesAtTheModelsTimes) {
  Observations o = RunInChild([] { return RunInstance({{0, 0, 100, 4}}); });
  // Prefill 10 ms + 100 x 10 us; then three decodes over contexts of 100,
  // 101 and 102 tokens, each reading its context and the new token's KV:
  // 10 ms + 100 us + (context + 1) x 0.1 us.
  EXPECT_NEAR(o["0.first_scheduled"], 0, 1e-12);
  EXPECT_NEAR(o["0.first_token"], 0.011, 1e-12);
  EXPECT_NEAR(o["0.last_token"], 0.011 + 0.0101101 + 0.0101102 + 0.0101103,
              1e-12);
  EXPECT_NEAR(o["0.completed"], o["0.last_token"], 1e-12);
  EXPECT_EQ(o["gaps"], 3);
  EXPECT_NEAR(o["gap_sum"], 0.0101101 + 0.0101102 + 0.0101103, 1e-12);
  EXPECT_EQ(o["handed_off"], 0);  // colocated: nothing leaves
  EXPECT_GE(o["idle"], 1);        // before the first arrival
}

TEST(InstanceTest, ArrivalCutsADecodeRunShortAtTheIterationInProgress) {
  // Request 0 decodes alone from 11 ms, iteration k (context 100 + k)
  // taking 10.1 ms + (101 + k) x 0.1 us; it runs as one interruptible
  // SimGrid wait. Request 1 arrives at 0.5 s, inside iteration 48, which
  // ends at 0.011 + 49 x 0.0101 + (49 x 101 + 48 x 49 / 2) x 1e-7.
  Observations o = RunInChild([] {
    return RunInstance({{0, 0, 100, 200}, {0.5, 1, 1000, 2}});
  });
  double iteration_48_end = 0.011 + 49 * 0.0101 + (4949 + 1176) * 1e-7;
  EXPECT_NEAR(o["1.first_scheduled"], iteration_48_end, 1e-9);
  // vLLM prefill-first: 1,000 prompt tokens alone, 20 ms.
  EXPECT_NEAR(o["1.first_token"], iteration_48_end + 0.020, 1e-9);
  // Then one decode of both: 10 ms + 2 x 100 us + (150 + 1001) x 0.1 us
  // (request 0 has 50 tokens by then: context 149).
  EXPECT_NEAR(o["1.last_token"], iteration_48_end + 0.020 + 0.0103151, 1e-9);
  // Request 0 paused for those two iterations; its 199 gaps still sum to
  // its whole decode span.
  EXPECT_NEAR(o["0.last_token"] - o["0.first_token"],
              199 * 0.0101 + (199 * 101 + 198 * 199 / 2) * 1e-7 + 0.020 +
                  (0.0103151 - 0.0101 - 150e-7),
              1e-9);
}

// An expert-parallel instance over the two machines of a pool whose NICs
// give 1 GB/s each way with 5 us of latency: ep 2, one rank per machine,
// one MoE layer dispatching 1 MB per batch token per rank and combining
// nothing, so an iteration of T tokens sends T x 0.5 MB each way
// (ExpertAllToAll::MachinePairBytes). `competing_bytes` > 0: a flow of that
// size from a third machine (as fast, as far) into machine 1 starts at 0, as
// a KV transfer would, sharing machine 1's incoming link with the exchange
// from machine 0.
Observations RunSpanningInstance(double competing_bytes) {
  sg4::Engine engine("instance_test");
  ConfigureEngine({});
  FleetSpec fleet;
  PoolSpec pool = TestPool(v1::POOL_ROLE_COLOCATED);
  pool.machines = 2;
  pool.machines_per_instance = 2;
  pool.all_to_all.ep = 2;
  pool.all_to_all.ranks_per_machine = 1;
  pool.all_to_all.moe_layers = 1;
  pool.all_to_all.dispatch_bytes_per_token = 1e6;
  fleet.pools.push_back(pool);
  fleet.pools.push_back(TestPool(v1::POOL_ROLE_PREFILL));
  Platform platform = BuildPlatform(fleet);
  AffineLatency latency;
  Recorder recorder;
  Instance instance(&recorder, 0, 0, &fleet.pools[0], platform.machines[0],
                    &latency, InstanceOptions{});
  sg4::Actor::create("instance", instance.host(), [&] {
    instance.Run();
  })->daemonize();
  sg4::Actor::create("feeder", platform.router, [&] {
    instance.scheduler().Enqueue(Req(0, 100, 1));
    instance.Wake();
    if (competing_bytes > 0) {
      sg4::Comm::sendto(platform.machines[1][0], platform.machines[0][1],
                        static_cast<uint64_t>(competing_bytes));
      recorder.observed["flow_end"] = sg4::Engine::get_clock();
    }
    sg4::this_actor::sleep_until(100);  // outlive the work
  });
  engine.run();
  recorder.observed["a2a_s"] =
      instance.scheduler().usage().all_to_all_scale_out_s;
  recorder.observed["a2a_bytes"] =
      instance.scheduler().usage().all_to_all_scale_out_bytes;
  return recorder.observed;
}

TEST(InstanceTest, AnInstanceAcrossMachinesExchangesTokensOverTheirLinks) {
  Observations alone = RunInChild([] { return RunSpanningInstance(0); });
  // The 100-token prompt: 11 ms of compute plus the iteration's second
  // phase's route latency (2 x 5 us), then 50 MB each way, 10 us + 50 ms.
  EXPECT_NEAR(alone["0.first_token"], 0.011 + 10e-6 + 10e-6 + 0.05, 1e-9);
  EXPECT_NEAR(alone["a2a_s"], 10e-6 + 10e-6 + 0.05, 1e-9);
  EXPECT_NEAR(alone["a2a_bytes"], 2 * 50e6, 1);
  // A 50 MB flow into machine 1 from t = 0 alone ends at 50 ms + 10 us; here
  // it shares that link with the exchange from machine 0 from 11 ms on,
  // and both slow down.
  Observations shared = RunInChild([] { return RunSpanningInstance(50e6); });
  EXPECT_GT(shared["flow_end"], 0.05001 + 0.02);
  EXPECT_GT(shared["0.first_token"], alone["0.first_token"] + 0.02);
  EXPECT_GT(shared["a2a_s"], alone["a2a_s"] + 0.02);
}

}  // namespace
}  // namespace fleetsim::sim
