// File: sim/trace_events.h
//
// TraceEventRecorder: a window of a run in the Trace Event format (Chrome's
// JSON trace, "JSON Object Format": https://docs.google.com/document/d/
// 1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU), which Perfetto
// (ui.perfetto.dev) and chrome://tracing open: replay --trace-events FILE.
// A RunObserver (sim/run_observer.h).
//
//   - one process per pool ("pool NAME (CHIP)"), one thread per instance;
//   - each iteration whose start lies in [start_s, start_s + window_s) is a
//     complete event ("ph":"X") named prefill, decode or mixed (chunked
//     prefill with decodes), with its batch in args (batch_requests,
//     prefill_tokens, decode_requests, kv_used_blocks after its run);
//   - each KV transfer starting in the window is an async span
//     ("ph":"b"/"e", id = request id) in a "KV transfers" process, on the
//     receiving instance's track, args from/to instance and bytes.
// Times are simulated microseconds. Bounded: only the window is kept, and
// at most `max_events` events (then truncated() is true, the rest is
// dropped, and the file says so in otherData). Events are written as they
// come, so memory does not grow with the window.
#ifndef FLEETSIM_SIM_TRACE_EVENTS_H_
#define FLEETSIM_SIM_TRACE_EVENTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "sim/fleet.h"
#include "sim/run_observer.h"
#include "util/output_file.h"

namespace fleetsim::sim {

class TraceEventRecorder final : public RunObserver {
 public:
  // Writes the opening and the process and thread names to `out` now;
  // `fleet` and `out` outlive this. REQUIRES: window_s > 0, max_events > 0.
  TraceEventRecorder(const FleetSpec& fleet, double start_s, double window_s,
                     int64_t max_events, OutputFile* out);

  void OnIterations(const IterationSpan& span) override;
  void OnIdle(int, int, double, int64_t) override {}
  void OnKvTransfer(const KvTransferSpan& span) override;

  // Writes the closing (with the window and whether it was truncated):
  // call once, after the run, before committing `out`.
  void Finish();

  int64_t events() const { return events_; }
  bool truncated() const { return truncated_; }

 private:
  bool InWindow(double t_s) const {
    return t_s >= start_s_ && t_s < start_s_ + window_s_;
  }
  // Whether one more event fits; counts it.
  bool Take(int64_t events);
  void Event(const std::string& json);

  const FleetSpec& fleet_;
  const double start_s_;
  const double window_s_;
  const int64_t max_events_;
  OutputFile* out_;
  int kv_pid_ = 0;
  int64_t events_ = 0;
  bool truncated_ = false;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_TRACE_EVENTS_H_
