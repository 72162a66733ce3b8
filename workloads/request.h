// File: workloads/request.h
//
// Request: one LLM inference request as it enters the simulated fleet. Trace
// readers (trace_reader.h) and generators (request_source.h) produce them;
// the router and instances in sim/ consume them.
#ifndef FLEETSIM_WORKLOADS_REQUEST_H_
#define FLEETSIM_WORKLOADS_REQUEST_H_

#include <cstdint>
#include <vector>

namespace fleetsim::workloads {

struct Request {
  // Sequential from 0 in the order a reader or source emits requests.
  int64_t id = 0;
  // Arrival time in simulated seconds. Readers report it relative to the
  // trace's first row; a RequestSource relative to the start of its window.
  double arrival_s = 0.0;
  int32_t input_tokens = 0;   // prompt length, tokens (>= 0)
  int32_t output_tokens = 0;  // generated tokens incl. the first one (>= 0)
  // Prefix-cache block hashes (Mooncake: one per 512-token block; equal
  // values mean shareable KV blocks). Empty when the trace has none.
  std::vector<uint64_t> prefix_block_hashes;
};

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_REQUEST_H_
