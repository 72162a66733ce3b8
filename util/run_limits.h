// File: util/run_limits.h
//
// What one simulation may cost, and the largest values the inputs may hold.
// Loaders refuse inputs past these limits with an error naming the field
// (before any engine or worker process starts), and the simulator stops a
// run that reaches them anyway, so no input can make a run, a planner worker
// or the service grow without bound or hand SimGrid an infinite time.
// docs/limits.md explains each figure; raise one there and here together.
#ifndef FLEETSIM_UTIL_RUN_LIMITS_H_
#define FLEETSIM_UTIL_RUN_LIMITS_H_

#include <cstdint>

namespace fleetsim {

// Tokens of one request, input + output. Far above any model's context
// window (10M tokens is the largest published, Llama 4 Scout, April 2025),
// and small enough that every per-request token sum fits an int32.
inline constexpr int64_t kMaxRequestTokens = 100'000'000;

// Simulated time, seconds: trace spans, arrivals, every wait handed to
// SimGrid (about 3.2 years; the week-long Azure 2024 traces span 6e5 s).
inline constexpr double kMaxSimulatedSeconds = 1e8;

// Requests one run may emit (replayed or generated). Memory follows the
// requests in flight, about 170 bytes each, so even a burst of all of them
// at once stays under 2 GB; about 80 us of CPU each on an overloaded fleet
// (docs/limits.md has the measurements).
inline constexpr int64_t kMaxRequestsPerRun = 10'000'000;

// Machines of one fleet, all pools together, and the model instances they
// hold: each instance is a SimGrid actor with its stack and scheduler state,
// about 150 KB resident, so 20,000 instances take about 3 GB.
inline constexpr int64_t kMaxMachinesPerFleet = 10'000;
inline constexpr int64_t kMaxInstancesPerFleet = 20'000;

// Simulation events (actor wake-ups: iterations, arrivals, transfers) of one
// run, about 8 us each; a run past this many is stopped with an error. The
// bundled replays take 4 to 7 events per request.
inline constexpr int64_t kMaxEventsPerRun = 500'000'000;

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_RUN_LIMITS_H_
