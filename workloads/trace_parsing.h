// File: workloads/trace_parsing.h
//
// Internal pieces shared by the trace readers (trace_reader.h is the public
// API): a buffered line reader, the per-format row parsers, and the number
// parsers every CSV format uses (rows are split by util/csv.h). Error messages
// from these helpers name the field ("field 'ContextTokens': ...") but not the
// location; TraceReader adds "path:line: ".
#ifndef FLEETSIM_WORKLOADS_TRACE_PARSING_H_
#define FLEETSIM_WORKLOADS_TRACE_PARSING_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/workload.pb.h"
#include "workloads/request.h"

namespace fleetsim::workloads::internal {

// Longest line accepted; longer ones are malformed rows (so a binary or
// newline-free file cannot make the reader buffer the whole file).
inline constexpr size_t kMaxLineBytes = 1 << 20;

// Reads a file line by line through a fixed 64 KiB buffer. Memory is the
// buffer plus the longest line (<= kMaxLineBytes). Not thread-safe.
class LineReader final {
 public:
  // NotFound if `path` cannot be opened for reading.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets `line` to the next line without its '\n' or "\r\n" (valid until the
  // next call) and returns true; false at end of file. A line longer than
  // kMaxLineBytes is consumed and reported as InvalidArgument (reading may
  // continue); a read error is DataLoss.
  absl::StatusOr<bool> ReadLine(absl::string_view* line);

  // 1-based number of the line last returned (0 before the first).
  int64_t line_number() const { return line_number_; }

 private:
  explicit LineReader(std::FILE* file);
  // Refills buffer_; false at end of file.
  bool Fill();

  std::FILE* file_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  std::string long_line_;  // a line that spans buffer refills
  int64_t line_number_ = 0;
};

// What a row parser made of one data line.
enum class RowKind {
  kRequest,   // `out` holds a request
  kFiltered,  // a well-formed row dropped on purpose (BurstGPT failure)
};

// Parses the data lines of one format. arrival_s is set in seconds from the
// parser's own origin (TraceReader rebases it to the first row).
class RowParser {
 public:
  virtual ~RowParser() = default;
  // False for lengths-only traces (arrival_s is then 0 for every row).
  virtual bool has_timestamps() const = 0;
  // The arrival-time field's name as written in the file, for messages.
  virtual const std::string& time_field() const = 0;
  // Parses one non-blank line. InvalidArgument naming the field on error.
  virtual absl::StatusOr<RowKind> Parse(absl::string_view line,
                                        Request* out) = 0;
};

// Detects the format from a file's first line; UNSPECIFIED if unknown.
v1::TraceFormat DetectTraceFormat(absl::string_view first_line);

// A parser for CSV format `format` (azure, burstgpt, vidur, splitwise) whose
// columns are located by name in `header`. InvalidArgument "missing column"
// when `header` lacks one the format needs.
absl::StatusOr<std::unique_ptr<RowParser>> NewCsvRowParser(
    v1::TraceFormat format, absl::string_view header);

// A parser for Mooncake JSONL lines (protobuf's JSON parser).
std::unique_ptr<RowParser> NewMooncakeRowParser();

// InvalidArgument "field 'NAME': MESSAGE".
absl::Status FieldError(absl::string_view field, absl::string_view message);

// `text` with ASCII whitespace removed from both ends.
absl::string_view TrimAscii(absl::string_view text);

// Parses a token count: a non-negative integer that fits int32 ("12" or
// pandas-style "12.0"). Errors name `field` and quote `text`.
absl::Status ParseTokenCount(absl::string_view text, absl::string_view field,
                             int32_t* out);

// Parses a finite decimal number (seconds, milliseconds, ...).
absl::Status ParseFiniteNumber(absl::string_view text, absl::string_view field,
                               double* out);

// Parses "YYYY-MM-DD HH:MM:SS[.fraction]" (or with 'T'), as UTC, with
// absl::ParseTime into whole days since 1970-01-01 and seconds within the
// day (fraction included), keeping 100 ns resolution exact enough for
// differences. A leap second (:60) is the next minute's first second.
absl::Status ParseWallClock(absl::string_view text, absl::string_view field,
                            int64_t* days, double* second_of_day);

}  // namespace fleetsim::workloads::internal

#endif  // FLEETSIM_WORKLOADS_TRACE_PARSING_H_
