// File: workloads/recorded_arrivals.h
//
// RecordedArrivals: a workload's whole request stream, generated once by a
// RequestSource and kept, so that many simulations of the same workload
// (the planner's candidate fleets, each in its own forked child) replay it
// from memory instead of each parsing the trace and drawing the stream
// again - twice, since a run that may stop early first counts its window
// (sim/simulation.cc). The requests are those RequestSource::Create and
// Next give, in the same order, so a run replaying them is the same run.
//
// Compact (16 bytes a request): only streams without prefix-block hashes
// are recorded (Record declines the others, which then run from their
// trace as before).
#ifndef FLEETSIM_WORKLOADS_RECORDED_ARRIVALS_H_
#define FLEETSIM_WORKLOADS_RECORDED_ARRIVALS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/workload.pb.h"
#include "workloads/request.h"

namespace fleetsim::workloads {

class RecordedArrivals final {
 public:
  // The stream of `workload`, or null when it is not recorded: more than
  // `max_requests` requests (the memory bound), or prefix-block hashes.
  // Errors: RequestSource's (Create, or Next at the request that fails).
  static absl::StatusOr<std::shared_ptr<const RecordedArrivals>> Record(
      const v1::Workload& workload, int64_t max_requests);

  int64_t size() const { return static_cast<int64_t>(requests_.size()); }
  // Requests with two or more output tokens.
  int64_t multi_token_requests() const { return multi_token_requests_; }
  // Request `index` (< size()), as the source emitted it.
  void Get(int64_t index, Request* out) const;

 private:
  struct Arrival {
    double arrival_s;
    int32_t input_tokens;
    int32_t output_tokens;
  };
  std::vector<Arrival> requests_;
  int64_t multi_token_requests_ = 0;
};

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_RECORDED_ARRIVALS_H_
