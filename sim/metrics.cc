#include "sim/metrics.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace fleetsim::sim {

RequestRecord MetricsCollector::MakeRecord(const LiveRequest& request,
                                           double now_s) {
  RequestRecord record;
  record.id = request.id;
  record.arrival_s = request.arrival_s;
  record.input_tokens = request.input_tokens;
  record.output_tokens = request.output_tokens;
  record.sequence_tokens = SequenceTokens(request);
  record.rejected = request.rejected;
  record.completion_s = now_s;
  record.preemptions = request.preemptions;
  record.prefill_instance = request.prefill_instance;
  record.decode_instance = request.decode_instance;
  record.kv_transfer_s = request.kv_transfer_s;
  record.context_outcome = request.context_outcome;
  record.samples_over_context = request.samples_over_context;
  if (request.rejected) {
    record.met_slo = false;
    return record;
  }
  // SimGrid's clock lands on an arrival time only to within rounding
  // (sleep_until adds a difference to the clock), so a request scheduled at
  // once could show a wait of -1e-13 s; a wait is never negative.
  record.queue_s = std::max(0.0, request.first_scheduled_s - request.arrival_s);
  record.ttft_s = request.first_token_s - request.arrival_s;
  record.e2e_s = request.last_token_s - request.arrival_s;
  if (record.sequence_tokens > 1) {
    record.tpot_s =
        (record.e2e_s - record.ttft_s) / (record.sequence_tokens - 1);
  }
  return record;
}

void MetricsCollector::AddRecord(const RequestRecord& record) {
  ++context_outcomes_[static_cast<int>(record.context_outcome)];
  samples_over_context_ += record.samples_over_context;
  if (record.rejected) {
    ++rejected_;
    return;
  }
  ++completed_;
  output_tokens_ += record.output_tokens;
  good_ += record.met_slo ? 1 : 0;
  last_completion_s_ = std::max(last_completion_s_, record.completion_s);
  ttft_.Add(record.ttft_s);
  e2e_.Add(record.e2e_s);
  queue_.Add(record.queue_s);
  if (record.sequence_tokens > 1) tpot_.Add(record.tpot_s);
}

void MetricsCollector::FillResult(v1::SimulationResult* result) const {
  result->set_completed(completed_);
  *result->mutable_ttft_s() = ttft_.ToDistribution();
  *result->mutable_tbt_s() = tbt_.ToDistribution();
  *result->mutable_tpot_s() = tpot_.ToDistribution();
  *result->mutable_e2e_s() = e2e_.ToDistribution();
  *result->mutable_queue_s() = queue_.ToDistribution();
  *result->mutable_kv_transfer_s() = kv_transfer_.ToDistribution();
  result->set_kv_transfer_count(kv_transfer_.count());
  auto count = [this](ContextOutcome outcome) {
    return context_outcomes_[static_cast<int>(outcome)];
  };
  result->set_rejected_over_context(count(ContextOutcome::kRejected));
  result->set_truncated_over_context(count(ContextOutcome::kTruncated));
  result->set_served_over_context(count(ContextOutcome::kServedOver));
  result->set_samples_over_context(samples_over_context_);
}

std::string RequestCsvHeader() {
  return "id,arrival_s,input_tokens,output_tokens,queue_s,ttft_s,tpot_s,e2e_s,"
         "completion_s,kv_transfer_s,preemptions,prefill_instance,decode_"
         "instance,"
         "rejected,met_slo\n";
}

namespace {

// Appends `value` as printf's "%.9g" would (std::to_chars with a precision
// is specified to match printf in the C locale; much faster than snprintf,
// which this row's writing was dominated by).
char* AppendG9(char* out, char* end, double value) {
  return std::to_chars(out, end, value, std::chars_format::general, 9).ptr;
}

char* AppendInt(char* out, char* end, int64_t value) {
  return std::to_chars(out, end, value).ptr;
}

}  // namespace

std::string RequestCsvRow(const RequestRecord& r) {
  // Same bytes as snprintf("%lld,%.9g,%d,%d,%.9g,...") (tested).
  char buf[512];
  char* const end = buf + sizeof(buf);
  char* out = buf;
  auto comma = [&out] { *out++ = ','; };
  out = AppendInt(out, end, r.id);
  comma();
  out = AppendG9(out, end, r.arrival_s);
  comma();
  out = AppendInt(out, end, r.input_tokens);
  comma();
  out = AppendInt(out, end, r.output_tokens);
  for (double value : {r.queue_s, r.ttft_s, r.tpot_s, r.e2e_s, r.completion_s,
                       r.kv_transfer_s}) {
    comma();
    out = AppendG9(out, end, value);
  }
  for (int value : {r.preemptions, r.prefill_instance, r.decode_instance,
                    r.rejected ? 1 : 0, r.met_slo ? 1 : 0}) {
    comma();
    out = AppendInt(out, end, value);
  }
  *out++ = '\n';
  return std::string(buf, out);
}

}  // namespace fleetsim::sim
