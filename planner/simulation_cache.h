// File: planner/simulation_cache.h
//
// SimulationCache keeps finished simulations by what they simulated, so
// that plans asking the same question at other prices (a study's price,
// energy and site variants, its sensitivity swings, a seed's fleets
// re-checked for another variant) re-price a result with
// economics::PriceSimulation instead of simulating again. Prices never
// enter a simulation, so they are left out of the key: a hit is exactly the
// result the simulation would have produced.
//
// Not thread-safe; a study shares one between its plans, one at a time.
#ifndef FLEETSIM_PLANNER_SIMULATION_CACHE_H_
#define FLEETSIM_PLANNER_SIMULATION_CACHE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/slo.pb.h"
#include "fleetsim/v1/workload.pb.h"

namespace fleetsim::planner {

// Everything a planner simulation depends on (the planner's simulation
// settings are fixed). `chips` are the catalog entries the pools and the
// SLO reference use.
struct SimulationKeyInputs {
  const v1::Cluster* cluster = nullptr;
  const v1::Model* model = nullptr;
  std::vector<const v1::Chip*> chips;
  const v1::Workload* workload = nullptr;
  const v1::Slo* slo = nullptr;
  // sim::SimulationInputs.stop_when_slo_missed: a stopped run's metrics
  // differ from a full one's.
  bool stop_when_slo_missed = false;
};

class SimulationCache final {
 public:
  // SHA-256 of the inputs' deterministic serialisation, with every chip's
  // prices (pricing, manufacturing_cost_usd, die_cost) cleared.
  static std::string Key(const SimulationKeyInputs& inputs);

  // The stored result, or nullptr. Counts a hit. Only finished
  // simulations are stored: a failed one (a worker that died) is retried.
  const v1::SimulationResult* Find(const std::string& key);
  // Whether Find would hit, without counting one.
  bool Contains(const std::string& key) const {
    return entries_.count(key) > 0;
  }
  void Insert(const std::string& key, v1::SimulationResult result);

  size_t size() const { return entries_.size(); }
  int64_t hits() const { return hits_; }

 private:
  std::unordered_map<std::string, v1::SimulationResult> entries_;
  int64_t hits_ = 0;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_SIMULATION_CACHE_H_
