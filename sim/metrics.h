// File: sim/metrics.h
//
// Per-request records and fleet-level metric aggregation. Definitions (also
// in docs/metrics.md, and followed by tests/sim):
//   TTFT  = first token time - arrival. The first token comes at prefill
//           completion (colocated); disaggregated, when the decode instance
//           holds the KV cache (default) or at prefill completion
//           (Cluster.ttft_at_prefill_completion, SplitwiseSim's choice).
//   TBT   = every gap between consecutive tokens of a request, pooled over
//           all requests (token-weighted).
//   TPOT  = per request, (E2E - TTFT) / (output_tokens - 1): the mean gap;
//           SplitwiseSim and SPAD call this per-request figure "TBT".
//   E2E   = last token time - arrival.
//   queue = first scheduled (first prefill chunk starts) - arrival.
// Distributions are kept in LogHistograms (util/histogram.h): memory is
// bounded whatever the trace length; percentiles are within 0.05 %.
#ifndef FLEETSIM_SIM_METRICS_H_
#define FLEETSIM_SIM_METRICS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "fleetsim/v1/result.pb.h"
#include "sim/live_request.h"
#include "util/histogram.h"

namespace fleetsim::sim {

// One finished (or rejected) request, as written to requests.csv.
struct RequestRecord {
  int64_t id = 0;
  double arrival_s = 0;
  int32_t input_tokens = 0;
  int32_t output_tokens = 0;
  double queue_s = 0;
  double ttft_s = 0;
  // The longest sequence's output tokens (SequenceTokens): output_tokens,
  // or under test-time scaling the longest sample's.
  int32_t sequence_tokens = 0;
  double tpot_s = 0;  // per sequence; 0 when sequence_tokens == 1
  double e2e_s = 0;
  double completion_s = 0;
  double kv_transfer_s = 0;
  int preemptions = 0;
  int prefill_instance = -1;
  int decode_instance = -1;
  bool rejected = false;
  bool met_slo = true;  // every per-request SLO bound held
  // Not in requests.csv, whose token counts are those served.
  ContextOutcome context_outcome = ContextOutcome::kWithin;
  int32_t samples_over_context = 0;  // LiveRequest's
};

using RequestSink = std::function<void(const RequestRecord&)>;

// Header and row of requests.csv.
std::string RequestCsvHeader();
std::string RequestCsvRow(const RequestRecord& record);

class MetricsCollector final {
 public:
  // Builds the record for a request that just finished at `now_s`.
  static RequestRecord MakeRecord(const LiveRequest& request, double now_s);

  void AddRecord(const RequestRecord& record);
  void AddTokenGaps(double gap_s, int64_t count) { tbt_.Add(gap_s, count); }
  void AddKvTransfer(double seconds) { kv_transfer_.Add(seconds); }

  int64_t completed() const { return completed_; }
  int64_t rejected() const { return rejected_; }
  int64_t output_tokens() const { return output_tokens_; }
  int64_t good_requests() const { return good_; }
  double last_completion_s() const { return last_completion_s_; }
  const LogHistogram& tbt() const { return tbt_; }

  // Fills the latency distributions and counters of `result`.
  void FillResult(v1::SimulationResult* result) const;

 private:
  LogHistogram ttft_, tbt_, tpot_, e2e_, queue_, kv_transfer_;
  int64_t completed_ = 0;
  int64_t rejected_ = 0;
  int64_t context_outcomes_[4] = {};  // by ContextOutcome
  int64_t samples_over_context_ = 0;
  int64_t output_tokens_ = 0;
  int64_t good_ = 0;
  double last_completion_s_ = 0;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_METRICS_H_
