// File: workloads/trace_reader.h
//
// TraceReader: streams the requests of one trace file, row by row, in
// constant memory (one line buffer; nothing is kept per row). Formats:
//
//   azure      Azure LLM inference 2023/2024 CSV: TIMESTAMP (wall clock,
//              "YYYY-MM-DD HH:MM:SS.fffffff"), ContextTokens, GeneratedTokens
//   burstgpt   BurstGPT CSV: Timestamp (s), Model, Request tokens,
//              Response tokens, Total tokens, Log Type. Rows with 0 response
//              tokens are failed requests in BurstGPT; they are dropped and
//              counted in filtered_rows() (the authors' "without_fails" files
//              drop them too), never emitted as 0-token requests.
//   mooncake   Mooncake FAST'25 JSONL: timestamp (ms), input_length,
//              output_length, hash_ids (kept as prefix_block_hashes)
//   vidur      Vidur processed CSV: arrived_at (s), num_prefill_tokens,
//              num_decode_tokens. Files without arrived_at (arxiv_*) are
//              lengths-only: has_timestamps() is false, every arrival_s is 0,
//              and arrivals must come from a generator (request_source.h).
//   splitwise  SplitwiseSim CSV: arrival_timestamp (s), prompt_size,
//              token_size (other columns ignored)
//
// The format is detected from the first line (a '{' means Mooncake JSONL,
// otherwise the CSV header's column names, matched case-insensitively and in
// any order) unless the caller forces one. arrival_s is relative to the first
// emitted row; timestamps must not decrease. Blank lines are ignored; a
// trailing '\r' (CRLF files) is stripped.
//
// Malformed rows (missing column, negative, non-numeric or out-of-range token
// count, input + output over kMaxRequestTokens, bad timestamp, time going
// backwards or past kMaxSimulatedSeconds after the first row (both in
// util/run_limits.h), invalid JSON, a line over 1 MiB) are InvalidArgument
// "path:LINE: field 'ContextTokens': ...". With ReaderOptions::skip_bad_rows
// they are skipped and counted instead.
#ifndef FLEETSIM_WORKLOADS_TRACE_READER_H_
#define FLEETSIM_WORKLOADS_TRACE_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/workload.pb.h"
#include "workloads/request.h"

namespace fleetsim::workloads {

namespace internal {
class LineReader;
class RowParser;
}  // namespace internal

struct ReaderOptions {
  // Skip malformed rows (counted in TraceReader::skipped_rows()) instead of
  // failing on the first one.
  bool skip_bad_rows = false;
};

// "azure", "burstgpt", "mooncake", "vidur", "splitwise" (case-insensitive);
// "" and "auto" mean TRACE_FORMAT_UNSPECIFIED (detect). InvalidArgument,
// listing the names, otherwise.
absl::StatusOr<v1::TraceFormat> ParseTraceFormat(const std::string& name);

// The name ParseTraceFormat accepts for `format` ("auto" for unspecified).
const char* TraceFormatName(v1::TraceFormat format);

// Reads one trace file front to back. Not thread-safe; one reader per thread.
class TraceReader final {
 public:
  // Opens `path` and reads its header (or, for JSONL, peeks at the first
  // line). `format` TRACE_FORMAT_UNSPECIFIED detects it.
  // Errors: NotFound if the file cannot be opened; InvalidArgument
  // "path:1: ..." for an empty file, an undetectable format or a header
  // lacking a column the format needs.
  static absl::StatusOr<std::unique_ptr<TraceReader>> Open(
      const std::string& path, v1::TraceFormat format,
      const ReaderOptions& options = {});

  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  // Fills `out` with the next request and returns true; false at the end of
  // the file. Ids are sequential from 0 over emitted requests. Errors:
  // InvalidArgument naming path, line and field for a malformed row (unless
  // skip_bad_rows); DataLoss on a read error. After an error the reader must
  // not be used again.
  absl::StatusOr<bool> Next(Request* out);

  // Malformed rows skipped so far (only with skip_bad_rows).
  int64_t skipped_rows() const { return skipped_rows_; }
  // Well-formed rows dropped on purpose so far (BurstGPT failed requests).
  int64_t filtered_rows() const { return filtered_rows_; }
  // False for lengths-only traces (Vidur arxiv_*): arrival_s is always 0.
  bool has_timestamps() const;
  // The format in use (detected or forced).
  v1::TraceFormat format() const { return format_; }
  const std::string& path() const { return path_; }

 private:
  TraceReader(std::string path, v1::TraceFormat format, ReaderOptions options,
              std::unique_ptr<internal::LineReader> lines,
              std::unique_ptr<internal::RowParser> parser);

  // Parses one non-blank data line into `out` (rebased, with its id).
  // False when the row was well-formed but filtered out.
  absl::StatusOr<bool> ParseDataLine(absl::string_view line, Request* out);

  const std::string path_;
  const v1::TraceFormat format_;
  const ReaderOptions options_;
  std::unique_ptr<internal::LineReader> lines_;
  std::unique_ptr<internal::RowParser> parser_;
  // A data line read by Open() (JSONL has no header) and not yet parsed.
  std::string pending_line_;
  bool has_pending_line_ = false;

  int64_t next_id_ = 0;
  int64_t skipped_rows_ = 0;
  int64_t filtered_rows_ = 0;
  bool seen_row_ = false;
  double first_time_s_ = 0.0;  // raw time of the first emitted row
  double last_time_s_ = 0.0;   // raw time of the last emitted row
};

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_TRACE_READER_H_
