#include "sim/timeseries.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "util/csv.h"

namespace fleetsim::sim {

TimeSeriesRecorder::TimeSeriesRecorder(const FleetSpec& fleet,
                                       double interval_s, int64_t max_rows,
                                       OutputFile* out)
    : fleet_(fleet), interval_s_(interval_s), max_rows_(max_rows), out_(out) {
  out_->Write(
      "time_s,instance,pool,batch_requests,prefill_tokens,decode_requests,"
      "kv_used_blocks,kv_used_fraction,kv_used_gib\n");
}

void TimeSeriesRecorder::OnIterations(const IterationSpan& span) {
  Sample(span.instance, span.pool, span.end_s[span.iterations - 1], span.batch,
         span.kv_used_blocks);
}

void TimeSeriesRecorder::OnIdle(int instance, int pool, double now_s,
                                int64_t kv_used_blocks) {
  Sample(instance, pool, now_s, hardware::BatchShape(), kv_used_blocks);
}

void TimeSeriesRecorder::Sample(int instance, int pool, double time_s,
                                const hardware::BatchShape& batch,
                                int64_t kv_used_blocks) {
  if (static_cast<size_t>(instance) >= next_tick_s_.size())
    next_tick_s_.resize(instance + 1, 0.0);
  if (time_s < next_tick_s_[instance]) return;
  next_tick_s_[instance] = (std::floor(time_s / interval_s_) + 1) * interval_s_;
  if (rows_ >= max_rows_) {
    truncated_ = true;
    return;
  }
  ++rows_;
  const PoolSpec& spec = fleet_.pools[pool];
  const double capacity = static_cast<double>(spec.kv_capacity_blocks);
  const double used = static_cast<double>(kv_used_blocks);
  out_->Write(absl::StrFormat(
      "%.9g,%d,%s,%d,%d,%d,%d,%.6g,%.6g\n", time_s, instance,
      CsvQuoted(spec.name), batch.prefill_requests + batch.decode_requests,
      batch.prefill_tokens, batch.decode_requests, kv_used_blocks,
      capacity > 0 ? used / capacity : 0,
      used * spec.block_bytes() / (1024.0 * 1024.0 * 1024.0)));
}

}  // namespace fleetsim::sim
