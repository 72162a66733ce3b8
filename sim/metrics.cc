#include "sim/metrics.h"

#include <cstdio>

namespace fleetsim::sim {

RequestRecord MetricsCollector::MakeRecord(const LiveRequest& request,
                                           double now_s) {
  RequestRecord record;
  record.id = request.id;
  record.arrival_s = request.arrival_s;
  record.input_tokens = request.input_tokens;
  record.output_tokens = request.output_tokens;
  record.rejected = request.rejected;
  record.completion_s = now_s;
  record.preemptions = request.preemptions;
  record.prefill_instance = request.prefill_instance;
  record.decode_instance = request.decode_instance;
  record.kv_transfer_s = request.kv_transfer_s;
  if (request.rejected) {
    record.met_slo = false;
    return record;
  }
  record.queue_s = request.first_scheduled_s - request.arrival_s;
  record.ttft_s = request.first_token_s - request.arrival_s;
  record.e2e_s = request.last_token_s - request.arrival_s;
  if (request.output_tokens > 1) {
    record.tpot_s =
        (record.e2e_s - record.ttft_s) / (request.output_tokens - 1);
  }
  return record;
}

void MetricsCollector::AddRecord(const RequestRecord& record) {
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
  if (record.output_tokens > 1) tpot_.Add(record.tpot_s);
}

void MetricsCollector::FillResult(SimulationResult* result) const {
  result->set_completed(completed_);
  *result->mutable_ttft_s() = ttft_.ToDistribution();
  *result->mutable_tbt_s() = tbt_.ToDistribution();
  *result->mutable_tpot_s() = tpot_.ToDistribution();
  *result->mutable_e2e_s() = e2e_.ToDistribution();
  *result->mutable_queue_s() = queue_.ToDistribution();
  *result->mutable_kv_transfer_s() = kv_transfer_.ToDistribution();
  result->set_kv_transfer_count(kv_transfer_.count());
}

std::string RequestCsvHeader() {
  return "id,arrival_s,input_tokens,output_tokens,queue_s,ttft_s,tpot_s,e2e_s,"
         "completion_s,kv_transfer_s,preemptions,prefill_instance,decode_"
         "instance,"
         "rejected,met_slo\n";
}

std::string RequestCsvRow(const RequestRecord& r) {
  char buf[512];
  std::snprintf(
      buf, sizeof(buf),
      "%lld,%.9g,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d,%d,%d,%d\n",
      static_cast<long long>(r.id), r.arrival_s, r.input_tokens,
      r.output_tokens, r.queue_s, r.ttft_s, r.tpot_s, r.e2e_s, r.completion_s,
      r.kv_transfer_s, r.preemptions, r.prefill_instance, r.decode_instance,
      r.rejected ? 1 : 0, r.met_slo ? 1 : 0);
  return buf;
}

}  // namespace fleetsim::sim
