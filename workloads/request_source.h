// File: workloads/request_source.h
//
// RequestSource: turns a fleetsim::v1::Workload
// (proto/fleetsim/v1/workload.proto) into the stream of Requests the simulator
// consumes, in arrival order, ids sequential from 0. Two modes:
//
// Replay (arrival = ARRIVAL_PROCESS_UNSPECIFIED): the trace's own
//   timestamps. The window [start_s, start_s + duration_s) is taken in trace
//   seconds after the trace's first arrival (duration_s 0 = to the end);
//   emitted times are (t - start_s) / rate_scale, so the window starts at 0
//   and a rate_scale of 2 plays it twice as fast. Streams in constant memory.
//
// Resampling (arrival = POISSON or GAMMA): reads the trace's (input, output)
//   pairs into a pool — the one place memory grows with the trace, 8 bytes
//   per row — then draws pairs uniformly with replacement, with independent
//   inter-arrival gaps at rate_per_s: exponential (Poisson process) or gamma
//   with coefficient of variation gamma_cv (shape 1/cv^2; cv > 1 is burstier
//   than Poisson). Arrivals are the cumulative sum of gaps, so the first one
//   is at the first gap, and generation stops at the first arrival
//   >= duration_s or after max_requests. Pairs keep each request's input and
//   output together; note that SplitwiseSim's generate_trace.py samples the
//   two columns independently (same marginals, correlation lost). Resampled
//   requests carry no prefix-block hashes.
//
// Images (Workload.images, a detector's requests): resampling from a pool
//   of one pair, the image's encoder_tokens in and one output, with no
//   trace to read.
//
// Determinism: the same Workload (seed included) gives the same stream on
// every platform with IEEE doubles and a correctly behaving libm: draws come
// from std::mt19937_64 (fully specified by the C++ standard) through this
// file's own inverse-CDF exponential, Box-Muller normal and Marsaglia-Tsang
// gamma, never std::*_distribution, whose algorithms differ between standard
// libraries.
#ifndef FLEETSIM_WORKLOADS_REQUEST_SOURCE_H_
#define FLEETSIM_WORKLOADS_REQUEST_SOURCE_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/workload.pb.h"
#include "util/field_checks.h"
#include "workloads/request.h"
#include "workloads/trace_reader.h"

namespace fleetsim::workloads {

// The sanity ranges of Workload's numeric fields (util/field_checks.h),
// bounded by util/run_limits.h; RequestSource::Validate applies them.
const FieldRanges& WorkloadFieldRanges();

// Not thread-safe; one source per simulation.
class RequestSource final {
 public:
  // Checks `workload` without opening the trace. InvalidArgument listing
  // every problem, each naming its field: trace_path missing (or set with
  // images; images without a generator or encoder_tokens); negative or
  // non-finite rate_scale, rate_per_s, gamma_cv, start_s, duration_s;
  // negative max_requests; a generator with rate_per_s <= 0 or with neither
  // duration_s nor max_requests (an endless stream); rate_per_s without a
  // generator; rate_scale or start_s with a generator (they apply to replay);
  // gamma_cv without ARRIVAL_PROCESS_GAMMA; a generator whose rate_per_s x
  // duration_s exceeds kMaxRequestsPerRun (util/run_limits.h) without a
  // max_requests within it; then any field outside its sanity range
  // (util/field_checks.h; bounds in request_source.cc).
  static absl::Status Validate(const v1::Workload& workload);

  // Validates, opens the trace and (resampling) reads its pool. Errors:
  // Validate's; the reader's (NotFound, InvalidArgument path:line); replay
  // of a lengths-only trace; resampling a trace with no rows.
  static absl::StatusOr<std::unique_ptr<RequestSource>> Create(
      const v1::Workload& workload, const ReaderOptions& options = {});

  ~RequestSource();
  RequestSource(const RequestSource&) = delete;
  RequestSource& operator=(const RequestSource&) = delete;

  // Fills `out` with the next request and returns true; false when the
  // stream ends. Replay passes on the reader's errors. InvalidArgument,
  // ending the stream, for a request past kMaxRequestsPerRun or arriving
  // after kMaxSimulatedSeconds (util/run_limits.h).
  absl::StatusOr<bool> Next(Request* out);

  // Malformed trace rows skipped (ReaderOptions::skip_bad_rows).
  int64_t skipped_rows() const { return skipped_rows_; }
  // Requests emitted so far.
  int64_t emitted() const { return next_id_; }
  // Resampling pool size (trace rows read); 0 in replay mode.
  size_t pool_size() const { return pool_.size(); }

 private:
  // One (input, output) pair of the resampling pool: 8 bytes.
  struct Lengths {
    int32_t input_tokens;
    int32_t output_tokens;
  };

  explicit RequestSource(const v1::Workload& workload);
  absl::StatusOr<bool> NextReplay(Request* out);
  bool NextResampled(Request* out);
  double NextGap_s();

  const v1::Workload workload_;
  std::unique_ptr<TraceReader> reader_;  // replay only
  std::vector<Lengths> pool_;            // resampling only
  std::mt19937_64 rng_;
  double scale_ = 1.0;      // replay: rate_scale, 0 read as 1
  double gamma_shape_ = 1;  // gamma: 1 / cv^2
  double clock_s_ = 0.0;    // resampling: last arrival
  int64_t next_id_ = 0;
  int64_t skipped_rows_ = 0;
  bool done_ = false;
};

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_REQUEST_SOURCE_H_
