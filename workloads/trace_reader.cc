#include "workloads/trace_reader.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/run_limits.h"
#include "workloads/trace_parsing.h"

namespace fleetsim::workloads {

namespace {

constexpr size_t kBufferBytes = 64 * 1024;

struct FormatName {
  v1::TraceFormat format;
  const char* name;
};
constexpr FormatName kFormatNames[] = {
    {v1::TRACE_FORMAT_AZURE, "azure"},
    {v1::TRACE_FORMAT_BURSTGPT, "burstgpt"},
    {v1::TRACE_FORMAT_MOONCAKE, "mooncake"},
    {v1::TRACE_FORMAT_VIDUR, "vidur"},
    {v1::TRACE_FORMAT_SPLITWISE, "splitwise"},
};

bool IsBlank(absl::string_view line) {
  return internal::TrimAscii(line).empty();
}

// Drops a UTF-8 byte-order mark at the start of the file.
absl::string_view StripBom(absl::string_view line) {
  if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") {
    line.remove_prefix(3);
  }
  return line;
}

std::string AtLine(const std::string& path, int64_t line,
                   absl::string_view message) {
  return absl::StrCat(path, ":", line, ": ", message);
}

}  // namespace

absl::StatusOr<v1::TraceFormat> ParseTraceFormat(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower.empty() || lower == "auto") return v1::TRACE_FORMAT_UNSPECIFIED;
  std::string known;
  for (const FormatName& entry : kFormatNames) {
    if (lower == entry.name) return entry.format;
    absl::StrAppend(&known, known.empty() ? "" : ", ", entry.name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown trace format '", name, "'; known: ", known, " (or auto)"));
}

const char* TraceFormatName(v1::TraceFormat format) {
  for (const FormatName& entry : kFormatNames) {
    if (entry.format == format) return entry.name;
  }
  return "auto";
}

namespace internal {

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open trace: ", std::strerror(errno)));
  }
  return std::unique_ptr<LineReader>(new LineReader(file));
}

LineReader::LineReader(std::FILE* file) : file_(file), buffer_(kBufferBytes) {}

LineReader::~LineReader() { std::fclose(file_); }

bool LineReader::Fill() {
  begin_ = 0;
  end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
  return end_ > 0;
}

absl::StatusOr<bool> LineReader::ReadLine(absl::string_view* line) {
  long_line_.clear();
  bool too_long = false;
  bool any = false;
  while (true) {
    if (begin_ == end_ && !Fill()) {
      if (std::ferror(file_)) {
        return absl::DataLossError(absl::StrCat("read error after line ",
                                                line_number_, ": ",
                                                std::strerror(errno)));
      }
      if (!any) return false;  // end of file
      break;                   // last line without '\n'
    }
    any = true;
    const char* start = buffer_.data() + begin_;
    size_t available = end_ - begin_;
    const void* newline = std::memchr(start, '\n', available);
    size_t take =
        newline == nullptr
            ? available
            : static_cast<size_t>(static_cast<const char*>(newline) - start);
    begin_ += take + (newline == nullptr ? 0 : 1);
    if (newline != nullptr && long_line_.empty() && !too_long) {
      *line = absl::string_view(start, take);  // fast path: no copy
      break;
    }
    if (!too_long) {
      if (long_line_.size() + take > kMaxLineBytes) {
        too_long = true;
        long_line_.clear();
        long_line_.shrink_to_fit();
      } else {
        long_line_.append(start, take);
      }
    }
    if (newline != nullptr) break;
  }
  ++line_number_;
  if (too_long) {
    return absl::InvalidArgumentError(
        absl::StrCat("line longer than ", kMaxLineBytes, " bytes"));
  }
  if (!long_line_.empty()) *line = long_line_;
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::Open(
    const std::string& path, v1::TraceFormat format,
    const ReaderOptions& options) {
  absl::StatusOr<std::unique_ptr<internal::LineReader>> lines =
      internal::LineReader::Open(path);
  if (!lines.ok()) return lines.status();
  absl::string_view first;
  absl::StatusOr<bool> got = (*lines)->ReadLine(&first);
  if (!got.ok()) {
    return absl::Status(got.status().code(),
                        AtLine(path, 1, got.status().message()));
  }
  if (!*got || IsBlank(first)) {
    return absl::InvalidArgumentError(AtLine(
        path, 1, "empty first line; expected a CSV header or a JSON object"));
  }
  first = StripBom(first);
  if (format == v1::TRACE_FORMAT_UNSPECIFIED) {
    format = internal::DetectTraceFormat(first);
    if (format == v1::TRACE_FORMAT_UNSPECIFIED) {
      std::string shown(first.substr(0, 120));
      return absl::InvalidArgumentError(
          AtLine(path, 1,
                 absl::StrCat("cannot detect the trace format from '", shown,
                              "'; pass --format azure|burstgpt|mooncake|vidur|"
                              "splitwise")));
    }
  }
  std::unique_ptr<internal::RowParser> parser;
  std::string pending;
  bool has_pending = false;
  if (format == v1::TRACE_FORMAT_MOONCAKE) {
    parser = internal::NewMooncakeRowParser();
    pending = std::string(first);  // JSONL: the first line is data
    has_pending = true;
  } else {
    absl::StatusOr<std::unique_ptr<internal::RowParser>> csv =
        internal::NewCsvRowParser(format, first);
    if (!csv.ok()) {
      return absl::InvalidArgumentError(
          AtLine(path, 1,
                 absl::StrCat(TraceFormatName(format),
                              " header: ", csv.status().message())));
    }
    parser = *std::move(csv);
  }
  std::unique_ptr<TraceReader> reader(new TraceReader(
      path, format, options, *std::move(lines), std::move(parser)));
  reader->pending_line_ = std::move(pending);
  reader->has_pending_line_ = has_pending;
  return reader;
}

TraceReader::TraceReader(std::string path, v1::TraceFormat format,
                         ReaderOptions options,
                         std::unique_ptr<internal::LineReader> lines,
                         std::unique_ptr<internal::RowParser> parser)
    : path_(std::move(path)),
      format_(format),
      options_(options),
      lines_(std::move(lines)),
      parser_(std::move(parser)) {}

TraceReader::~TraceReader() = default;

bool TraceReader::has_timestamps() const { return parser_->has_timestamps(); }

absl::StatusOr<bool> TraceReader::Next(Request* out) {
  while (true) {
    absl::string_view line;
    absl::Status read_error;
    if (has_pending_line_) {
      has_pending_line_ = false;
      line = pending_line_;
    } else {
      absl::StatusOr<bool> got = lines_->ReadLine(&line);
      if (!got.ok()) {
        read_error = got.status();
      } else if (!*got) {
        return false;  // end of file
      }
    }
    absl::StatusOr<bool> parsed(false);
    if (!read_error.ok()) {
      parsed = read_error;
    } else {
      if (IsBlank(line)) continue;
      parsed = ParseDataLine(line, out);
    }
    if (parsed.ok()) {
      if (*parsed) return true;
      ++filtered_rows_;
      continue;
    }
    const absl::Status& status = parsed.status();
    if (status.code() != absl::StatusCode::kInvalidArgument) {
      return absl::Status(status.code(),
                          absl::StrCat(path_, ": ", status.message()));
    }
    if (!options_.skip_bad_rows) {
      return absl::InvalidArgumentError(
          AtLine(path_, lines_->line_number(), status.message()));
    }
    ++skipped_rows_;
  }
}

absl::StatusOr<bool> TraceReader::ParseDataLine(absl::string_view line,
                                                Request* out) {
  out->prefix_block_hashes.clear();
  absl::StatusOr<internal::RowKind> kind = parser_->Parse(line, out);
  if (!kind.ok()) return kind.status();
  if (*kind == internal::RowKind::kFiltered) return false;
  double time_s = out->arrival_s;
  if (seen_row_ && time_s < last_time_s_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "field '%s': time goes backwards (%.7g s before the previous row)",
        parser_->time_field(), last_time_s_ - time_s));
  }
  if (!seen_row_) {
    seen_row_ = true;
    first_time_s_ = time_s;
  }
  if (!(time_s - first_time_s_ <= kMaxSimulatedSeconds)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "field '%s': %.7g s after the first row, past the simulated-time "
        "limit of %.7g s (docs/limits.md)",
        parser_->time_field(), time_s - first_time_s_, kMaxSimulatedSeconds));
  }
  const int64_t tokens = int64_t{out->input_tokens} + out->output_tokens;
  if (tokens > kMaxRequestTokens) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input + output = ", tokens, " tokens, over the per-request limit of ",
        kMaxRequestTokens, " (docs/limits.md)"));
  }
  last_time_s_ = time_s;
  out->arrival_s = time_s - first_time_s_;
  out->id = next_id_++;
  return true;
}

}  // namespace fleetsim::workloads
