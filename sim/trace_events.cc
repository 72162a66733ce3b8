#include "sim/trace_events.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/json_writer.h"

namespace fleetsim::sim {
namespace {

double Micros(double seconds) { return seconds * 1e6; }

// The name a metadata event gives its process or thread.
std::string NameEvent(const char* what, int pid, int tid,
                      const std::string& name) {
  return absl::StrFormat(
      R"({"name":"%s","ph":"M","pid":%d,"tid":%d,"args":{"name":%s}})", what,
      pid, tid, JsonQuote(name));
}

const char* IterationName(const hardware::BatchShape& batch) {
  if (batch.prefill_requests == 0) return "decode";
  return batch.decode_requests == 0 ? "prefill" : "mixed";
}

}  // namespace

TraceEventRecorder::TraceEventRecorder(const FleetSpec& fleet, double start_s,
                                       double window_s, int64_t max_events,
                                       OutputFile* out)
    : fleet_(fleet),
      start_s_(start_s),
      window_s_(window_s),
      max_events_(max_events),
      out_(out) {
  out_->Write("{\"traceEvents\":[\n");
  // Names are metadata, not counted against max_events.
  bool first = true;
  auto name = [&](const std::string& json) {
    out_->Write(first ? json : absl::StrCat(",\n", json));
    first = false;
  };
  int instance = 0;
  for (size_t p = 0; p < fleet.pools.size(); ++p) {
    const PoolSpec& pool = fleet.pools[p];
    const int pid = static_cast<int>(p) + 1;
    name(NameEvent(
        "process_name", pid, 0,
        absl::StrCat("pool ", pool.name, " (", pool.chip.name(), ")")));
    for (int i = 0; i < pool.instances(); ++i, ++instance) {
      name(NameEvent("thread_name", pid, instance,
                     absl::StrCat("instance ", instance)));
    }
  }
  kv_pid_ = static_cast<int>(fleet.pools.size()) + 1;
  if (fleet.disaggregated)
    name(NameEvent("process_name", kv_pid_, 0, "KV transfers"));
}

bool TraceEventRecorder::Take(int64_t events) {
  // Once cut, nothing more: a later, smaller event fitting under the bound
  // would leave a gap in a file that says it holds the first events.
  if (truncated_ || events_ + events > max_events_) {
    truncated_ = true;
    return false;
  }
  events_ += events;
  return true;
}

void TraceEventRecorder::Event(const std::string& json) {
  out_->Write(",\n");
  out_->Write(json);
}

void TraceEventRecorder::OnIterations(const IterationSpan& span) {
  double start = span.start_s;
  for (int i = 0; i < span.iterations; ++i) {
    const double end = span.end_s[i];
    if (InWindow(start)) {
      if (!Take(1)) return;
      const hardware::BatchShape& b = span.batch;
      Event(absl::StrFormat(
          R"({"name":"%s","cat":"iteration","ph":"X","ts":%.3f,"dur":%.3f,)"
          R"("pid":%d,"tid":%d,"args":{"batch_requests":%d,)"
          R"("prefill_tokens":%d,"decode_requests":%d,"kv_used_blocks":%d}})",
          IterationName(b), Micros(start), Micros(end - start), span.pool + 1,
          span.instance, b.prefill_requests + b.decode_requests,
          b.prefill_tokens, b.decode_requests, span.kv_used_blocks));
    }
    start = end;
  }
}

void TraceEventRecorder::OnKvTransfer(const KvTransferSpan& span) {
  if (!InWindow(span.start_s) || !Take(2)) return;
  Event(absl::StrFormat(
      R"({"name":"kv transfer","cat":"kv","ph":"b","id":%d,"ts":%.3f,)"
      R"("pid":%d,"tid":%d,"args":{"request":%d,"from_instance":%d,)"
      R"("to_instance":%d,"bytes":%.0f}})",
      span.request_id, Micros(span.start_s), kv_pid_, span.to_instance,
      span.request_id, span.from_instance, span.to_instance, span.bytes));
  Event(absl::StrFormat(
      R"({"name":"kv transfer","cat":"kv","ph":"e","id":%d,"ts":%.3f,)"
      R"("pid":%d,"tid":%d})",
      span.request_id, Micros(span.end_s), kv_pid_, span.to_instance));
}

void TraceEventRecorder::Finish() {
  out_->Write(absl::StrFormat(
      "\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"generator\":"
      "\"fleetsim\",\"clock\":\"simulated\",\"window_start_s\":%.9g,"
      "\"window_s\":%.9g,\"events\":%d,\"max_events\":%d,\"truncated\":%s}}\n",
      start_s_, window_s_, events_, max_events_,
      truncated_ ? "true" : "false"));
}

}  // namespace fleetsim::sim
