// File: tests/fuzz/slo_fuzzer.cc
//
// libFuzzer target for an SLO as `--slo` takes it: a file (text proto) and,
// when the bytes look like one, an inline spec ("ttft_p99=2s,tpot_p90=50ms",
// sim/slo_spec.h); both through sim::LoadSlo, then, when valid, the
// evaluator built for the shipped default cluster and priced for a few
// request shapes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fleetsim/v1/cluster.pb.h"
#include "sim/fleet.h"
#include "sim/scenario.h"
#include "sim/slo_evaluator.h"
#include "sim/slo_spec.h"
#include "tests/fuzz/fuzz_util.h"
#include "util/textproto.h"

namespace {

const fleetsim::sim::FleetSpec& DefaultFleet() {
  using namespace fleetsim;
  static const sim::FleetSpec* fleet = [] {
    v1::Cluster cluster;
    if (!ReadTextProtoFile(fuzz::DataDir() + "/clusters/default.txtpb",
                           &cluster)
             .ok()) {
      std::abort();
    }
    auto model = fuzz::Models().Find("llama-2-70b");
    if (!model.ok()) std::abort();
    auto resolved = sim::ResolveFleet(cluster, "default.txtpb", **model,
                                      fuzz::Chips().entries(), {});
    if (!resolved.ok()) std::abort();
    return new sim::FleetSpec(*std::move(resolved));
  }();
  return *fleet;
}

void Evaluate(const fleetsim::v1::Slo& slo) {
  using namespace fleetsim;
  std::string reference =
      slo.reference_chip().empty() ? "h100" : slo.reference_chip();
  auto chip = fuzz::Chips().Find(reference);
  if (!chip.ok()) return;
  auto evaluator = sim::SloEvaluator::Create(slo, DefaultFleet(), **chip);
  if (!evaluator.ok()) return;
  bool slowdown = false;
  for (const auto& target : slo.targets()) {
    slowdown = slowdown || target.max_slowdown() > 0;
  }
  if (!slowdown) return;
  for (int32_t input : {1, 512, 32768}) {
    (*evaluator)->ReferenceFor(input, 256);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find('\0') == std::string::npos && sim::IsSloSpec(text)) {
    auto inline_slo = sim::LoadSlo(fuzz::DataDir(), text);
    if (inline_slo.ok()) Evaluate(*inline_slo);
  }
  auto file_slo = sim::LoadSlo(fuzz::DataDir(),
                               fuzz::WriteScratchFile(data, size, ".txtpb"));
  if (file_slo.ok()) Evaluate(*file_slo);
  return 0;
}
