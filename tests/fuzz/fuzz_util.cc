// File: tests/fuzz/fuzz_util.cc
#include "tests/fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fleetsim/v1/slo.pb.h"
#include "hardware/latency_model.h"
#include "sim/pool_latency.h"
#include "sim/scenario.h"
#include "sim/slo_evaluator.h"
#include "util/textproto.h"

namespace fleetsim::fuzz {

const std::string& DataDir() {
  static const std::string* dir =
      new std::string(std::string(FLEETSIM_SOURCE_DIR) + "/data");
  return *dir;
}

const std::shared_ptr<const sim::Catalogs>& Catalogs() {
  static const auto* catalogs = [] {
    auto loaded = sim::Catalogs::Load(DataDir());
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
      std::abort();
    }
    return new std::shared_ptr<const sim::Catalogs>(*std::move(loaded));
  }();
  return *catalogs;
}

const hardware::ChipCatalog& Chips() { return Catalogs()->chips(); }

const workloads::ModelCatalog& Models() { return Catalogs()->models(); }

std::string WriteScratchFile(const uint8_t* data, size_t size,
                             const std::string& suffix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp != nullptr ? tmp : "/tmp") +
                     "/fleetsim_fuzz_" + std::to_string(getpid()) + suffix;
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr ||
      (size > 0 && std::fwrite(data, 1, size, file) != size) ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

bool ParseTextOrWire(const uint8_t* data, size_t size,
                     google::protobuf::Message* message) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (ParseTextProto(text, "fuzz", message).ok()) return true;
  message->Clear();
  return message->ParseFromString(text);
}

void RequireNamesFile(const absl::Status& status, const std::string& path) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return;
  if (status.message().find(path) != absl::string_view::npos) return;
  std::fprintf(stderr, "config error without its file '%s': %s\n", path.c_str(),
               status.ToString().c_str());
  std::abort();
}

void ExerciseFleet(const sim::FleetSpec& fleet) {
  for (const sim::PoolSpec& pool : fleet.pools) {
    auto model = sim::CreateLatencyModel(fleet, pool.chip, pool.tp, pool.pp);
    if (!model.ok()) continue;
    hardware::BatchShape prefill;
    prefill.AddPrefillChunk(2048, 0);
    hardware::BatchShape mixed = prefill;
    for (int i = 0; i < 64; ++i) mixed.AddDecode(4096);
    hardware::BatchShape decode;
    decode.AddDecode(1);
    for (const hardware::BatchShape& shape : {prefill, mixed, decode}) {
      (*model)->IterationSeconds(shape);
      (*model)->Explain(shape);
    }
  }
  auto slo = sim::LoadSlo(DataDir(), "normal");
  if (!slo.ok()) std::abort();  // the shipped preset must load
  auto h100 = Chips().Find("h100");
  if (!h100.ok()) std::abort();
  sim::SloEvaluator::Create(*slo, fleet, **h100).IgnoreError();
}

}  // namespace fleetsim::fuzz
