#include "planner/simulation_cache.h"

#include <algorithm>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "util/sha256.h"

namespace fleetsim::planner {
namespace {

// Appends `message` to `out`, length-prefixed so concatenations are
// unambiguous, with map order fixed.
void AppendDeterministic(const google::protobuf::Message& message,
                         std::string* out) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  out->append(std::to_string(bytes.size())).append(":").append(bytes);
}

}  // namespace

std::string SimulationCache::Key(const SimulationKeyInputs& inputs) {
  std::string bytes;
  AppendDeterministic(*inputs.cluster, &bytes);
  AppendDeterministic(*inputs.model, &bytes);
  AppendDeterministic(*inputs.workload, &bytes);
  AppendDeterministic(*inputs.slo, &bytes);
  std::vector<v1::Chip> chips;
  for (const v1::Chip* chip : inputs.chips) {
    v1::Chip unpriced = *chip;
    unpriced.clear_pricing();
    unpriced.clear_manufacturing_cost_usd();
    unpriced.clear_die_cost();
    chips.push_back(std::move(unpriced));
  }
  std::sort(
      chips.begin(), chips.end(),
      [](const v1::Chip& a, const v1::Chip& b) { return a.name() < b.name(); });
  for (const v1::Chip& chip : chips) AppendDeterministic(chip, &bytes);
  bytes.push_back(inputs.stop_when_slo_missed ? 's' : 'f');
  return Sha256Hex(bytes);
}

const v1::SimulationResult* SimulationCache::Find(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  ++hits_;
  return &it->second;
}

void SimulationCache::Insert(const std::string& key,
                             v1::SimulationResult result) {
  entries_.insert_or_assign(key, std::move(result));
}

}  // namespace fleetsim::planner
