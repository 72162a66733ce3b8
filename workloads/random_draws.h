// File: workloads/random_draws.h
//
// Draws from std::mt19937_64 (fully specified by the C++ standard) by
// formulas written here rather than std:: distributions, whose algorithms
// the standard leaves to the library: the same seed gives the same draws
// on every platform. Shared by the arrival generators
// (workloads/request_source.h) and the simulator's per-sample output
// lengths (sim/test_time_scaling.h).
#ifndef FLEETSIM_WORKLOADS_RANDOM_DRAWS_H_
#define FLEETSIM_WORKLOADS_RANDOM_DRAWS_H_

#include <cmath>
#include <random>

namespace fleetsim::workloads {

// Uniform in the open interval (0, 1) from the top 53 bits of one draw.
inline double UniformOpen(std::mt19937_64* rng) {
  return (static_cast<double>((*rng)() >> 11) + 0.5) * 0x1.0p-53;
}

// Standard normal (Box-Muller, one value per two uniforms, no cached spare
// so each call's draws are independent of call history).
inline double Normal(std::mt19937_64* rng) {
  constexpr double kPi = 3.14159265358979323846;
  double u1 = UniformOpen(rng);
  double u2 = UniformOpen(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_RANDOM_DRAWS_H_
