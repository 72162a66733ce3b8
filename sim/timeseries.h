// File: sim/timeseries.h
//
// TimeSeriesRecorder: each instance's batch size and KV-cache use over a
// run, as timeseries.csv (replay --timeseries-interval-s). A RunObserver
// (sim/run_observer.h): an instance gets a row at its first iteration
// boundary (the end of an iteration or of a run of decode iterations) or
// idle moment at or after each multiple of the interval, so its state is
// sampled at the interval without a sampling actor (which would add
// simulator events) and a row's values hold until the instance's next row.
// Long decode runs (up to --max-decode-run iterations per wait) can skip
// ticks: their row comes when the run ends. Bounded: at most one row per
// instance per interval, i.e. instances x (simulated s / interval + 1)
// rows, and never more than `max_rows` (then truncated() is true and the
// rest is dropped).
//
// Columns (units in the names):
//   time_s                 the boundary, simulated seconds
//   instance, pool         instance index (pool by pool) and pool name
//   batch_requests         requests in the iteration that ended (0: idle)
//   prefill_tokens         prompt tokens it computed
//   decode_requests        of batch_requests, decoding
//   kv_used_blocks         blocks in use after it (cached prefixes no
//                          request pins not counted; vLLM's KV usage)
//   kv_used_fraction       of the instance's KV capacity
//   kv_used_gib            kv_used_blocks x the pool's bytes per block
#ifndef FLEETSIM_SIM_TIMESERIES_H_
#define FLEETSIM_SIM_TIMESERIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/fleet.h"
#include "sim/run_observer.h"
#include "util/output_file.h"

namespace fleetsim::sim {

class TimeSeriesRecorder final : public RunObserver {
 public:
  // Writes the header now and rows as they come to `out`; `fleet` and
  // `out` outlive this. REQUIRES: interval_s > 0.
  TimeSeriesRecorder(const FleetSpec& fleet, double interval_s,
                     int64_t max_rows, OutputFile* out);

  void OnIterations(const IterationSpan& span) override;
  void OnIdle(int instance, int pool, double now_s,
              int64_t kv_used_blocks) override;
  void OnKvTransfer(const KvTransferSpan&) override {}

  int64_t rows() const { return rows_; }
  bool truncated() const { return truncated_; }

 private:
  void Sample(int instance, int pool, double time_s,
              const hardware::BatchShape& batch, int64_t kv_used_blocks);

  const FleetSpec& fleet_;
  const double interval_s_;
  const int64_t max_rows_;
  OutputFile* out_;
  std::vector<double> next_tick_s_;  // per instance, grown on first sight
  int64_t rows_ = 0;
  bool truncated_ = false;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_TIMESERIES_H_
