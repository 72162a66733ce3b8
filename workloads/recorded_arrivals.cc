#include "workloads/recorded_arrivals.h"

#include "util/status_macros.h"
#include "workloads/request_source.h"

namespace fleetsim::workloads {

absl::StatusOr<std::shared_ptr<const RecordedArrivals>>
RecordedArrivals::Record(const v1::Workload& workload, int64_t max_requests) {
  FLEETSIM_ASSIGN_OR_RETURN(std::unique_ptr<RequestSource> source,
                            RequestSource::Create(workload));
  auto recorded = std::make_shared<RecordedArrivals>();
  Request request;
  while (true) {
    FLEETSIM_ASSIGN_OR_RETURN(bool more, source->Next(&request));
    if (!more) break;
    if (recorded->size() >= max_requests ||
        !request.prefix_block_hashes.empty()) {
      return nullptr;
    }
    // Ids are sequential from 0 (RequestSource): the index.
    recorded->requests_.push_back(
        {request.arrival_s, request.input_tokens, request.output_tokens});
    if (request.output_tokens >= 2) ++recorded->multi_token_requests_;
  }
  recorded->requests_.shrink_to_fit();
  return recorded;
}

void RecordedArrivals::Get(int64_t index, Request* out) const {
  const Arrival& arrival = requests_[index];
  out->id = index;
  out->arrival_s = arrival.arrival_s;
  out->input_tokens = arrival.input_tokens;
  out->output_tokens = arrival.output_tokens;
  out->prefix_block_hashes.clear();
}

}  // namespace fleetsim::workloads
