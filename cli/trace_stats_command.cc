// `fleetsim trace-stats`: one-pass summary of a request trace as JSON
// (requests, span_s, rate_per_s, input/output token mean/p50/p99).
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "util/json_writer.h"
#include "workloads/trace_reader.h"
#include "workloads/trace_stats.h"

namespace fleetsim::cli {
namespace {

void WriteTokens(const std::string& key, const v1::Distribution& d,
                 JsonWriter* json) {
  json->Key(key);
  json->BeginObject();
  json->Field("mean", d.mean());
  json->Field("p50", d.p50());
  json->Field("p99", d.p99());
  json->EndObject();
}

int RunTraceStats(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("trace-stats", args)) return code;
  const std::string path = absl::GetFlag(FLAGS_trace);
  if (path.empty()) return UsageError("trace-stats needs --trace FILE");
  absl::StatusOr<v1::TraceFormat> format =
      workloads::ParseTraceFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) return Fail(format.status());
  workloads::ReaderOptions options;
  options.skip_bad_rows = absl::GetFlag(FLAGS_skip_bad_rows);
  absl::StatusOr<workloads::TraceStats> stats =
      workloads::ComputeTraceStats(path, *format, options);
  if (!stats.ok()) return Fail(stats.status());

  JsonWriter json;
  json.BeginObject();
  json.Field("format", workloads::TraceFormatName(stats->format));
  json.Field("requests", stats->requests);
  json.Field("span_s", stats->span_s);
  json.Field("rate_per_s", stats->rate_per_s);
  WriteTokens("input_tokens", stats->input_tokens, &json);
  WriteTokens("output_tokens", stats->output_tokens, &json);
  if (!stats->has_timestamps) json.Field("has_timestamps", false);
  if (options.skip_bad_rows) json.Field("skipped_rows", stats->skipped_rows);
  if (stats->filtered_rows > 0) {
    json.Field("failed_requests_dropped", stats->filtered_rows);
  }
  json.EndObject();
  std::cout << json.str();
  return 0;
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "trace-stats",
    {"trace-stats --trace FILE [--format F] [--skip-bad-rows]",
     "One-pass summary of a request trace as JSON: requests, span, rate, "
     "input and output token mean/p50/p99.",
     {"trace", "format", "skip_bad_rows"},
     fleetsim::cli::RunTraceStats});
