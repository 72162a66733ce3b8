// KV transfers on a real SimGrid platform (one engine per child process):
// a prefill instance hands each finished prompt to a decode instance over
// 1 GB/s NICs with 5 us of latency each, timed by an affine latency model.
#include "sim/kv_transfers.h"

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

constexpr int64_t kKvBytesPerToken = 10000;  // 100 tokens = 1 MB

PoolSpec Pool(v1::PoolRole role) {
  PoolSpec pool = TestPool(role);
  pool.kv_bytes_per_token = kKvBytesPerToken;
  return pool;
}

// Sends every prefilled request to the decode instance and records what
// comes out.
class Wiring final : public InstanceEvents {
 public:
  void OnPrefillDone(int, LiveRequestPtr request) override {
    decode->scheduler().ReserveForTransfer(*request);
    transfers->Start(prefill, decode, std::move(request));
  }
  void OnComplete(LiveRequestPtr request) override {
    std::string id = absl::StrCat(request->id);
    observed[id + ".first_token"] = request->first_token_s;
    observed[id + ".kv_transfer"] = request->kv_transfer_s;
    observed[id + ".last_token"] = request->last_token_s;
  }
  void OnTokenGaps(double, int64_t) override {}
  void OnIdle(int) override {}
  void AfterIteration(int) override {}
  void CountEvent() override {}

  Instance* prefill = nullptr;
  Instance* decode = nullptr;
  KvTransfers* transfers = nullptr;
  Observations observed;
};

struct Arrival {
  double at_s;
  int32_t input;  // prompt tokens; 3 output tokens each
};

// `state_bytes`: each request's recurrent state (SSM/CCA), one block.
// `stop_at_s` >= 0: the feeder calls KvTransfers::Stop() then (an early
// stop), and transfers still in flight must change nothing.
Observations RunTransfers(const std::vector<Arrival>& arrivals,
                          bool ttft_at_prefill_completion = false,
                          int64_t state_bytes = 0, double stop_at_s = -1) {
  sg4::Engine engine("kv_transfers_test");
  ConfigureEngine({});
  FleetSpec fleet;
  fleet.ttft_at_prefill_completion = ttft_at_prefill_completion;
  fleet.pools = {Pool(v1::POOL_ROLE_PREFILL), Pool(v1::POOL_ROLE_DECODE)};
  for (PoolSpec& pool : fleet.pools) {
    pool.state_bytes_per_request = state_bytes;
    pool.state_blocks_per_request = state_bytes > 0 ? 1 : 0;
  }
  Platform platform = BuildPlatform(fleet);
  AffineLatency latency;
  Wiring wiring;
  Instance prefill(&wiring, 0, 0, &fleet.pools[0], {platform.machines[0][0]},
                   &latency, InstanceOptions{});
  Instance decode(&wiring, 1, 1, &fleet.pools[1], {platform.machines[1][0]},
                  &latency, InstanceOptions{});
  int transfers_done = 0;
  KvTransfers transfers(fleet, [&](const KvTransferSpan&) {
    ++transfers_done;
    return true;
  });
  wiring.prefill = &prefill;
  wiring.decode = &decode;
  wiring.transfers = &transfers;
  for (Instance* instance : {&prefill, &decode}) {
    sg4::Actor::create(absl::StrCat("instance/", instance->index()),
                       instance->host(), [instance] { instance->Run(); })
        ->daemonize();
  }
  double actors = 0;
  sg4::Actor::create("feeder", platform.router, [&] {
    for (size_t i = 0; i < arrivals.size(); ++i) {
      sg4::this_actor::sleep_until(arrivals[i].at_s);
      prefill.scheduler().Enqueue(Req(i, arrivals[i].input, 3));
      prefill.Wake();
    }
    if (stop_at_s >= 0) {
      sg4::this_actor::sleep_until(stop_at_s);
      transfers.Stop();
    }
    sg4::this_actor::sleep_until(10);
    actors = static_cast<double>(engine.get_actor_count());
    sg4::this_actor::sleep_until(100);
  });
  engine.run();
  Observations o = wiring.observed;
  o["transfers_done"] = transfers_done;
  o["prefill_blocks_left"] = prefill.scheduler().used_blocks();
  o["actors"] = actors;  // instances and feeder: transfers need no actor
  return o;
}

// Two decode steps over contexts of 100 and 101 tokens (10 ms + 100 us +
// (context + 1) x 0.1 us each).
constexpr double kTwoDecodes = 0.0101101 + 0.0101102;

TEST(KvTransfersTest, TransferTakesBothLatenciesPlusBytesOverBandwidth) {
  Observations o = RunInChild([] { return RunTransfers({{0, 100}}); });
  // Prefill 11 ms, then 1 MB at 1 GB/s plus 2 x 5 us.
  double transfer = 1e-3 + 1e-5;
  EXPECT_NEAR(o["0.kv_transfer"], transfer, 1e-12);
  EXPECT_NEAR(o["0.first_token"], 0.011 + transfer, 1e-12);
  EXPECT_NEAR(o["0.last_token"], 0.011 + transfer + kTwoDecodes, 1e-12);
  EXPECT_EQ(o["transfers_done"], 1);
  EXPECT_EQ(o["prefill_blocks_left"], 0);  // released after the transfer
  EXPECT_EQ(o["actors"], 3);               // no mover actor
}

TEST(KvTransfersTest, RecurrentStateTravelsWithTheKv) {
  // 1 MB of KV plus 1 MB of state at 1 GB/s.
  Observations o = RunInChild([] {
    return RunTransfers({{0, 100}}, false, /*state_bytes=*/1000000);
  });
  EXPECT_NEAR(o["0.kv_transfer"], 2e-3 + 1e-5, 1e-12);
  EXPECT_EQ(o["prefill_blocks_left"], 0);  // KV and state blocks released
}

TEST(KvTransfersTest, FirstTokenAtPrefillCompletionWhenConfigured) {
  Observations o = RunInChild([] { return RunTransfers({{0, 100}}, true); });
  EXPECT_NEAR(o["0.first_token"], 0.011, 1e-12);
  EXPECT_NEAR(o["0.kv_transfer"], 1e-3 + 1e-5, 1e-12);
  // Decoding still waits for the KV to arrive.
  EXPECT_NEAR(o["0.last_token"], 0.011 + 1e-3 + 1e-5 + kTwoDecodes, 1e-12);
}

TEST(KvTransfersTest, ConcurrentTransfersShareTheSendersNic) {
  // Both prompts prefill in one 12 ms iteration; their 1 MB each then share
  // the prefill machine's 1 GB/s: 2 ms each, not 1 ms, with no actor
  // beside the two instances and the feeder.
  Observations o = RunInChild([] {
    return RunTransfers({{0, 100}, {0, 100}});
  });
  for (const char* id : {"0", "1"}) {
    EXPECT_NEAR(o[std::string(id) + ".kv_transfer"], 2e-3 + 1e-5, 1e-12) << id;
  }
  EXPECT_EQ(o["transfers_done"], 2);
  EXPECT_EQ(o["actors"], 3);
}

TEST(KvTransfersTest, TransfersOneAfterAnotherEachTakeTheirOwnTime) {
  Observations o = RunInChild([] {
    return RunTransfers({{0, 100}, {0.5, 100}, {1, 100}});
  });
  for (const char* id : {"0", "1", "2"}) {
    EXPECT_NEAR(o[std::string(id) + ".kv_transfer"], 1e-3 + 1e-5, 1e-12) << id;
  }
  EXPECT_EQ(o["transfers_done"], 3);
  EXPECT_EQ(o["actors"], 3);
}

TEST(KvTransfersTest, ATransferEndingAfterAStopChangesNothing) {
  // The prefill ends at 11 ms and its 1.01 ms transfer is in flight at the
  // 11.5 ms stop: SimGrid still finishes the flow, but nothing moves.
  Observations o = RunInChild([] {
    return RunTransfers({{0, 100}}, false, 0, /*stop_at_s=*/0.0115);
  });
  EXPECT_EQ(o["transfers_done"], 0);
  EXPECT_GT(o["prefill_blocks_left"], 0);  // never released
  EXPECT_EQ(o.count("0.last_token"), 0u);  // never decoded
}

TEST(KvTransfersTest, LayerwiseStreamingLeavesOnlyWhatThePrefillDidNotHide) {
  FleetSpec fleet;
  fleet.model.set_num_layers(70);
  PoolSpec fast = Pool(v1::POOL_ROLE_PREFILL);
  PoolSpec slow = Pool(v1::POOL_ROLE_DECODE);
  slow.scale_out_bytes_per_s = 5e8;
  KvTransfers transfers(fleet, nullptr);
  LiveRequestPtr request = Req(0, 100, 3);
  request->first_scheduled_s = 1.0;
  request->prefill_done_s = 1.001;
  EXPECT_DOUBLE_EQ(transfers.TransferBytes(*request, fast, slow), 1e6);
  fleet.layerwise_kv_transfer = true;
  // 1 ms of prefill at the slower NIC's 0.5 GB/s hides 0.5 MB.
  EXPECT_NEAR(transfers.TransferBytes(*request, fast, slow), 5e5, 1e-3);
  // A 10 ms prefill would hide it all but the last of 70 layers.
  request->prefill_done_s = 1.010;
  EXPECT_DOUBLE_EQ(transfers.TransferBytes(*request, fast, slow), 1e6 / 70);
}

}  // namespace
}  // namespace fleetsim::sim
