// The SimGrid platform built for a fleet (in a child process: one engine
// per process).
#include "sim/platform.h"

#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"
#include "xbt/config.hpp"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;
using testutil::Observations;
using testutil::RunInChild;

TEST(PlatformTest, OneHostAndNicPerMachineBehindOneSwitch) {
  Observations o = RunInChild([] {
    sg4::Engine engine("platform_test");
    ConfigureEngine({"network/TCP-gamma:5"});
    FleetSpec fleet;
    for (auto [name, machines, bytes_per_s, latency_s] :
         {std::tuple<const char*, int, double, double>{"prefill", 2, 1e9, 5e-6},
          {"decode", 1, 2e9, 1e-5}}) {
      PoolSpec& pool = fleet.pools.emplace_back();
      pool.name = name;
      pool.machines = machines;
      pool.scale_out_bytes_per_s = bytes_per_s;
      pool.scale_out_latency_s = latency_s;
    }
    Platform platform = BuildPlatform(fleet);
    Observations seen;
    seen["hosts"] = static_cast<double>(engine.get_host_count());
    seen["prefill_machines"] = platform.machines[0].size();
    seen["decode_machines"] = platform.machines[1].size();
    seen["names_match"] = platform.router->get_name() == "router" &&
                          platform.machines[0][1]->get_name() == "prefill/1" &&
                          platform.machines[1][0]->get_name() == "decode/0";
    std::vector<sg4::Link*> links;
    double latency = 0;
    platform.machines[0][1]->route_to(platform.machines[1][0], links, &latency);
    seen["route_links"] = links.size();
    seen["route_latency"] = latency;
    seen["out_bandwidth"] = links.front()->get_bandwidth();
    seen["in_bandwidth"] = links.back()->get_bandwidth();
    links.clear();
    platform.machines[0][0]->route_to(platform.machines[0][1], links, &latency);
    seen["same_pool_links"] = links.size();
    seen["tcp_gamma"] = simgrid::config::get_value<double>("network/TCP-gamma");
    return seen;
  });
  EXPECT_EQ(o["hosts"], 4);  // the router's and three machines
  EXPECT_EQ(o["prefill_machines"], 2);
  EXPECT_EQ(o["decode_machines"], 1);
  EXPECT_EQ(o["names_match"], 1);
  // Out through the sender's NIC, in through the receiver's.
  EXPECT_EQ(o["route_links"], 2);
  EXPECT_DOUBLE_EQ(o["route_latency"], 5e-6 + 1e-5);
  EXPECT_EQ(o["out_bandwidth"], 1e9);
  EXPECT_EQ(o["in_bandwidth"], 2e9);
  EXPECT_EQ(o["same_pool_links"], 2);  // no shortcut within a pool
  EXPECT_EQ(o["tcp_gamma"], 5);        // extra options come last
}

}  // namespace
}  // namespace fleetsim::sim
