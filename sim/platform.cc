#include "sim/platform.h"

#include "absl/strings/str_cat.h"

namespace fleetsim::sim {
namespace {

namespace sg4 = simgrid::s4u;

sg4::Host* AddMachine(sg4::NetZone* zone, const std::string& name,
                      double bytes_per_s, double latency_s) {
  sg4::Host* host = zone->create_host(name, 1e9);
  sg4::SplitDuplexLink* link =
      zone->create_split_duplex_link(name + "/nic", bytes_per_s);
  link->set_latency(latency_s);
  link->seal();
  // Symmetrical: traffic leaving the host uses the link's UP half, traffic
  // entering it the DOWN half.
  zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                  {{link, sg4::LinkInRoute::Direction::UP}}, true);
  return host;
}

}  // namespace

void ConfigureEngine(const std::vector<std::string>& extra_options) {
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/TCP-gamma:1e18");
  sg4::Engine::set_config("network/crosstraffic:0");
  // Actors here are shallow (no recursion, the cost model allocates no
  // stack arrays): every bundled example and plan (bench/output_digest.sh)
  // runs unchanged on 12 KiB stacks; 64 KiB leaves five times that. A guard
  // page turns an overflow into a crash, never a silent wrong answer. Stack
  // memory grows with the fleet: 4,000 + 4,000 machines peaked at 1.29 GB
  // RSS with 256 KiB stacks and no guard (SimGrid zero-fills those on
  // creation), 0.23 GB with these settings.
  sg4::Engine::set_config("contexts/stack-size:64");
  sg4::Engine::set_config("contexts/guard-size:4096");
  for (const std::string& option : extra_options)
    sg4::Engine::set_config(option);
}

Platform BuildPlatform(const FleetSpec& fleet) {
  Platform platform;
  auto* zone = sg4::create_star_zone("fleet");
  platform.router = AddMachine(zone, "router", 1e12, 0);
  for (const PoolSpec& pool : fleet.pools) {
    std::vector<sg4::Host*>& hosts = platform.machines.emplace_back();
    for (int m = 0; m < pool.machines; ++m) {
      hosts.push_back(AddMachine(zone, absl::StrCat(pool.name, "/", m),
                                 pool.scale_out_bytes_per_s,
                                 pool.scale_out_latency_s));
    }
  }
  zone->seal();
  return platform;
}

double RouteLatencySeconds(const PoolSpec& from, const PoolSpec& to) {
  return from.scale_out_latency_s + to.scale_out_latency_s;
}

}  // namespace fleetsim::sim
