// CSV trace formats (Azure, BurstGPT, Vidur, SplitwiseSim): one row parser
// configured per format, plus the number parsers shared with the Mooncake
// JSONL parser.
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "util/csv.h"
#include "workloads/trace_parsing.h"

namespace fleetsim::workloads::internal {

namespace {

// How a CSV format's time column is written.
enum class TimeKind {
  kSeconds,    // decimal seconds
  kWallClock,  // "YYYY-MM-DD HH:MM:SS.fffffff"
};

// The columns one CSV format needs, by header name.
struct CsvLayout {
  v1::TraceFormat format;
  const char* time_column;
  TimeKind time_kind;
  bool time_optional;  // Vidur arxiv_* files have lengths only
  const char* input_column;
  const char* output_column;
  bool zero_output_is_failure;  // BurstGPT marks failed requests this way
};

constexpr CsvLayout kLayouts[] = {
    {v1::TRACE_FORMAT_AZURE, "TIMESTAMP", TimeKind::kWallClock, false,
     "ContextTokens", "GeneratedTokens", false},
    {v1::TRACE_FORMAT_BURSTGPT, "Timestamp", TimeKind::kSeconds, false,
     "Request tokens", "Response tokens", true},
    {v1::TRACE_FORMAT_VIDUR, "arrived_at", TimeKind::kSeconds, true,
     "num_prefill_tokens", "num_decode_tokens", false},
    {v1::TRACE_FORMAT_SPLITWISE, "arrival_timestamp", TimeKind::kSeconds, false,
     "prompt_size", "token_size", false},
};

const CsvLayout* FindLayout(v1::TraceFormat format) {
  for (const CsvLayout& layout : kLayouts) {
    if (layout.format == format) return &layout;
  }
  return nullptr;
}

// Header cell as a comparable name: trimmed, lower case.
std::string NormalizeName(absl::string_view cell) {
  return absl::AsciiStrToLower(TrimAscii(cell));
}

// Index of `name` among `header` cells (normalised), or -1.
int FindColumn(const std::vector<std::string>& header, const char* name) {
  std::string wanted = NormalizeName(name);
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == wanted) return static_cast<int>(i);
  }
  return -1;
}

std::string Quoted(absl::string_view text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() <= kMaxShown) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMaxShown), "...'");
}

class CsvRowParser final : public RowParser {
 public:
  CsvRowParser(const CsvLayout& layout, int time_index, int input_index,
               int output_index, size_t header_columns)
      : layout_(layout),
        time_index_(time_index),
        input_index_(input_index),
        output_index_(output_index),
        header_columns_(header_columns),
        time_field_(layout.time_column) {}

  bool has_timestamps() const override { return time_index_ >= 0; }
  const std::string& time_field() const override { return time_field_; }

  absl::StatusOr<RowKind> Parse(absl::string_view line, Request* out) override {
    SplitCsvRow(line, &fields_);
    if (time_index_ >= 0) {
      absl::string_view text;
      if (absl::Status s = Column(time_index_, layout_.time_column, &text);
          !s.ok()) {
        return s;
      }
      if (layout_.time_kind == TimeKind::kWallClock) {
        int64_t days = 0;
        double second_of_day = 0;
        if (absl::Status s = ParseWallClock(text, layout_.time_column, &days,
                                            &second_of_day);
            !s.ok()) {
          return s;
        }
        // Seconds from midnight of the first row's day: small enough that
        // a double keeps the 100 ns resolution.
        if (!base_day_.has_value()) base_day_ = days;
        out->arrival_s =
            static_cast<double>(days - *base_day_) * 86400.0 + second_of_day;
      } else if (absl::Status s = ParseFiniteNumber(text, layout_.time_column,
                                                    &out->arrival_s);
                 !s.ok()) {
        return s;
      }
    } else {
      out->arrival_s = 0.0;
    }
    if (absl::Status s =
            TokenColumn(input_index_, layout_.input_column, &out->input_tokens);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = TokenColumn(output_index_, layout_.output_column,
                                     &out->output_tokens);
        !s.ok()) {
      return s;
    }
    if (layout_.zero_output_is_failure && out->output_tokens == 0) {
      return RowKind::kFiltered;
    }
    return RowKind::kRequest;
  }

 private:
  absl::Status Column(int index, absl::string_view name,
                      absl::string_view* text) const {
    if (static_cast<size_t>(index) >= fields_.size()) {
      return FieldError(
          name, absl::StrCat("missing (row has ", fields_.size(), " of ",
                             header_columns_, " columns)"));
    }
    *text = fields_[index];
    return absl::OkStatus();
  }

  absl::Status TokenColumn(int index, absl::string_view name, int32_t* out) {
    absl::string_view text;
    if (absl::Status s = Column(index, name, &text); !s.ok()) return s;
    return ParseTokenCount(text, name, out);
  }

  const CsvLayout& layout_;
  const int time_index_;  // -1: lengths only
  const int input_index_;
  const int output_index_;
  const size_t header_columns_;
  const std::string time_field_;
  std::optional<int64_t> base_day_;
  std::vector<absl::string_view> fields_;  // reused row buffer
};

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("field '", field, "': ", message));
}

absl::string_view TrimAscii(absl::string_view text) {
  return absl::StripAsciiWhitespace(text);
}

absl::Status ParseTokenCount(absl::string_view text, absl::string_view field,
                             int32_t* out) {
  absl::string_view trimmed = TrimAscii(text);
  if (trimmed.empty()) return FieldError(field, "empty");
  const char* begin = trimmed.data();
  const char* end = begin + trimmed.size();
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range) {
    return FieldError(field, absl::StrCat(Quoted(trimmed), " is out of range"));
  }
  if (ec != std::errc() || ptr != end) {
    // pandas writes integer columns with NaNs as floats: accept "12.0".
    double real = 0;
    auto [rptr, rec] = std::from_chars(begin, end, real);
    if (rec != std::errc() || rptr != end || !std::isfinite(real) ||
        real != std::floor(real)) {
      return FieldError(field,
                        absl::StrCat(Quoted(trimmed), " is not a token count"));
    }
    if (std::fabs(real) > 1e18) {
      return FieldError(field,
                        absl::StrCat(Quoted(trimmed), " is out of range"));
    }
    value = static_cast<int64_t>(real);
  }
  if (value < 0) {
    return FieldError(field, absl::StrCat(Quoted(trimmed), " is negative"));
  }
  if (value > std::numeric_limits<int32_t>::max()) {
    return FieldError(field, absl::StrCat(Quoted(trimmed), " is out of range"));
  }
  *out = static_cast<int32_t>(value);
  return absl::OkStatus();
}

absl::Status ParseFiniteNumber(absl::string_view text, absl::string_view field,
                               double* out) {
  absl::string_view trimmed = TrimAscii(text);
  if (trimmed.empty()) return FieldError(field, "empty");
  const char* end = trimmed.data() + trimmed.size();
  double value = 0;
  auto [ptr, ec] = std::from_chars(trimmed.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return FieldError(field,
                      absl::StrCat(Quoted(trimmed), " is not a finite number"));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status ParseWallClock(absl::string_view text, absl::string_view field,
                            int64_t* days, double* second_of_day) {
  const absl::string_view t = TrimAscii(text);
  // absl::ParseTime checks each field's range and the day against its month
  // (leap years included); "%E*S" reads the seconds with any fraction. The
  // checks before it keep the year at four digits and pick the separator.
  const absl::TimeZone utc = absl::UTCTimeZone();
  absl::Time time;
  std::string why;
  const bool ok = t.size() > 10 && t[4] == '-' &&
                  (t[10] == ' ' || t[10] == 'T') &&
                  absl::ParseTime(t[10] == 'T' ? "%Y-%m-%dT%H:%M:%E*S"
                                               : "%Y-%m-%d %H:%M:%E*S",
                                  std::string(t), utc, &time, &why);
  if (!ok) {
    return FieldError(field, absl::StrCat(Quoted(t),
                                          " is not a timestamp "
                                          "YYYY-MM-DD HH:MM:SS[.fffffff]"));
  }
  const absl::CivilSecond civil = absl::ToCivilSecond(time, utc);
  *days = absl::CivilDay(civil) - absl::CivilDay(1970, 1, 1);
  // Whole seconds plus the fraction, so that the 100 ns digits of Azure's
  // timestamps survive in a double.
  *second_of_day = static_cast<double>(civil.hour() * 3600 +
                                       civil.minute() * 60 + civil.second()) +
                   absl::ToDoubleSeconds(time - absl::FromCivil(civil, utc));
  return absl::OkStatus();
}

v1::TraceFormat DetectTraceFormat(absl::string_view first_line) {
  absl::string_view trimmed = TrimAscii(first_line);
  if (!trimmed.empty() && trimmed.front() == '{')
    return v1::TRACE_FORMAT_MOONCAKE;
  std::vector<absl::string_view> cells;
  SplitCsvRow(trimmed, &cells);
  std::vector<std::string> header;
  for (absl::string_view cell : cells) header.push_back(NormalizeName(cell));
  for (const CsvLayout& layout : kLayouts) {
    bool time_ok =
        layout.time_optional || FindColumn(header, layout.time_column) >= 0;
    if (time_ok && FindColumn(header, layout.input_column) >= 0 &&
        FindColumn(header, layout.output_column) >= 0) {
      return layout.format;
    }
  }
  return v1::TRACE_FORMAT_UNSPECIFIED;
}

absl::StatusOr<std::unique_ptr<RowParser>> NewCsvRowParser(
    v1::TraceFormat format, absl::string_view header_line) {
  const CsvLayout* layout = FindLayout(format);
  if (layout == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("format ", static_cast<int>(format), " is not CSV"));
  }
  std::vector<absl::string_view> cells;
  SplitCsvRow(header_line, &cells);
  std::vector<std::string> header;
  for (absl::string_view cell : cells) header.push_back(NormalizeName(cell));
  int time_index = FindColumn(header, layout->time_column);
  int input_index = FindColumn(header, layout->input_column);
  int output_index = FindColumn(header, layout->output_column);
  for (auto [index, name] :
       {std::pair<int, const char*>{time_index, layout->time_column},
        {input_index, layout->input_column},
        {output_index, layout->output_column}}) {
    if (index < 0 && !(name == layout->time_column && layout->time_optional)) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing column '", name, "'"));
    }
  }
  return std::unique_ptr<RowParser>(new CsvRowParser(
      *layout, time_index, input_index, output_index, header.size()));
}

}  // namespace fleetsim::workloads::internal
