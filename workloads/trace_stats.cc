#include "workloads/trace_stats.h"

#include <vector>

#include "util/distribution.h"
#include "util/status_macros.h"

namespace fleetsim::workloads {

namespace {

// Summarises one column, converting to double only for the duration.
v1::Distribution SummarizeColumn(std::vector<int32_t>* column) {
  std::vector<double> values(column->begin(), column->end());
  std::vector<int32_t>().swap(*column);  // free before the sort's work
  return Summarize(&values);
}

}  // namespace

absl::StatusOr<TraceStats> ComputeTraceStats(TraceReader* reader) {
  TraceStats stats;
  stats.format = reader->format();
  stats.has_timestamps = reader->has_timestamps();
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  Request request;
  double first_s = 0.0;
  double last_s = 0.0;
  while (true) {
    FLEETSIM_ASSIGN_OR_RETURN(bool got, reader->Next(&request));
    if (!got) break;
    if (inputs.empty()) first_s = request.arrival_s;
    last_s = request.arrival_s;
    inputs.push_back(request.input_tokens);
    outputs.push_back(request.output_tokens);
  }
  stats.requests = static_cast<int64_t>(inputs.size());
  stats.span_s = last_s - first_s;
  if (stats.requests > 1 && stats.span_s > 0) {
    stats.rate_per_s = static_cast<double>(stats.requests - 1) / stats.span_s;
  }
  stats.input_tokens = SummarizeColumn(&inputs);
  stats.output_tokens = SummarizeColumn(&outputs);
  stats.skipped_rows = reader->skipped_rows();
  stats.filtered_rows = reader->filtered_rows();
  return stats;
}

absl::StatusOr<TraceStats> ComputeTraceStats(const std::string& path,
                                             v1::TraceFormat format,
                                             const ReaderOptions& options) {
  FLEETSIM_ASSIGN_OR_RETURN(std::unique_ptr<TraceReader> reader,
                            TraceReader::Open(path, format, options));
  return ComputeTraceStats(reader.get());
}

}  // namespace fleetsim::workloads
