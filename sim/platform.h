// File: sim/platform.h
//
// The SimGrid side of a fleet: engine settings and the platform. One star
// zone: every machine is a host hanging off a non-blocking switch through
// its own split-duplex scale-out link (its NIC bandwidth and latency), so
// concurrent KV transfers from or to one machine share its link. Host
// speeds are unused: compute time comes from the LatencyModel.
#ifndef FLEETSIM_SIM_PLATFORM_H_
#define FLEETSIM_SIM_PLATFORM_H_

#include <string>
#include <vector>

#include "sim/fleet.h"
#include "simgrid/s4u.hpp"

namespace fleetsim::sim {

// Sets the engine's network model (CM02 without TCP windowing or cross
// traffic: a transfer takes latency + bytes / fair-share bandwidth, as the
// links are specified) and small actor stacks, then `extra_options`
// ("network/model:CM02" form). Requires an Engine and no platform yet.
void ConfigureEngine(const std::vector<std::string>& extra_options);

struct Platform {
  // Runs the arrivals (router) actor; sends no simulated bytes.
  simgrid::s4u::Host* router = nullptr;
  // machines[p][m]: machine m of fleet.pools[p], named "POOL/m".
  std::vector<std::vector<simgrid::s4u::Host*>> machines;
};

// Builds and seals the fleet's zone. Requires an Engine; once per engine.
Platform BuildPlatform(const FleetSpec& fleet);

// The latency of the route from a machine of `from` to one of `to`: it
// crosses the sender's link and the receiver's, s. What a transfer pays
// once before its bytes flow, and what the planner's bounds charge for it.
double RouteLatencySeconds(const PoolSpec& from, const PoolSpec& to);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_PLATFORM_H_
