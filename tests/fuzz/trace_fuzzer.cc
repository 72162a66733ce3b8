// File: tests/fuzz/trace_fuzzer.cc
//
// libFuzzer target for one trace format's reader (the format is a compile
// definition, FLEETSIM_FUZZ_TRACE_FORMAT, so each format has its own target
// and corpus): the whole file read through ComputeTraceStats, as
// `fleetsim trace-stats` does, strictly and skipping bad rows, and once
// more with the format detected from the header.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"
#include "workloads/trace_reader.h"
#include "workloads/trace_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleetsim::workloads;
  const std::string path =
      fleetsim::fuzz::WriteScratchFile(data, size, ".trace");
  for (bool skip : {false, true}) {
    ReaderOptions options;
    options.skip_bad_rows = skip;
    ComputeTraceStats(path, fleetsim::v1::FLEETSIM_FUZZ_TRACE_FORMAT, options)
        .IgnoreError();
  }
  ComputeTraceStats(path, fleetsim::v1::TRACE_FORMAT_UNSPECIFIED).IgnoreError();
  return 0;
}
