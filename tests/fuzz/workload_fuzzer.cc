// File: tests/fuzz/workload_fuzzer.cc
//
// libFuzzer target for a workload (proto/fleetsim/v1/workload.proto, as a text
// proto or the wire format a client sends): validated and opened by
// RequestSource, then up to kMaxPulls requests drawn, the generators included.
// The trace is always one of the shipped ones (picked by the basename the input
// names), so the fuzzer cannot wander into /dev/stdin and hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fleetsim/v1/workload.pb.h"
#include "tests/fuzz/fuzz_util.h"
#include "workloads/request.h"
#include "workloads/request_source.h"

namespace {

constexpr int kMaxPulls = 20000;

std::string ShippedTrace(const std::string& named) {
  const std::string dir = fleetsim::fuzz::DataDir() + "/traces/";
  for (const char* name :
       {"azure_2023_code.csv", "mooncake_synthetic.jsonl",
        "splitwise_test_trace.csv", "vidur_splitwise_conv.csv"}) {
    if (named.find(name) != std::string::npos) return dir + name;
  }
  return dir + "splitwise_test_trace.csv";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim;
  v1::Workload workload;
  if (!fuzz::ParseTextOrWire(data, size, &workload)) return 0;
  workload.set_trace_path(ShippedTrace(workload.trace_path()));
  auto source = workloads::RequestSource::Create(workload);
  if (!source.ok()) return 0;
  workloads::Request request;
  for (int i = 0; i < kMaxPulls; ++i) {
    auto more = (*source)->Next(&request);
    if (!more.ok() || !*more) break;
  }
  return 0;
}
