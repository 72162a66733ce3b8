// Mooncake FAST'25 JSONL rows: {"timestamp": ms, "input_length": n,
// "output_length": n, "hash_ids": [..]}, one JSON object per line, parsed by
// protobuf's JSON parser into MooncakeTraceRow
// (proto/fleetsim/v1/mooncake_trace.proto) so that JSON syntax and types are
// checked by a library; this file checks only what JSON cannot say (present
// keys, token-count ranges).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "fleetsim/v1/mooncake_trace.pb.h"
#include "google/protobuf/util/json_util.h"
#include "workloads/trace_parsing.h"

namespace fleetsim::workloads::internal {

namespace {

// A token count from the row: present, >= 0 and within int32.
absl::Status TokenCount(bool present, int64_t value, absl::string_view field,
                        int32_t* out) {
  if (!present) return FieldError(field, "missing");
  if (value < 0) return FieldError(field, absl::StrCat(value, " is negative"));
  if (value > std::numeric_limits<int32_t>::max()) {
    return FieldError(field, absl::StrCat(value, " is out of range"));
  }
  *out = static_cast<int32_t>(value);
  return absl::OkStatus();
}

class MooncakeRowParser final : public RowParser {
 public:
  MooncakeRowParser() { options_.ignore_unknown_fields = true; }

  bool has_timestamps() const override { return true; }
  const std::string& time_field() const override { return time_field_; }

  absl::StatusOr<RowKind> Parse(absl::string_view line, Request* out) override {
    row_.Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(line.data(), line.size()), &row_,
        options_);
    if (!status.ok()) {
      // The parser's message names the key for a wrong type
      // ("(input_length): invalid value 5.5 for type TYPE_INT64").
      return absl::InvalidArgumentError(
          absl::StrCat("invalid JSON: ", status.message().as_string()));
    }
    if (!row_.has_timestamp()) return FieldError(time_field_, "missing");
    // The proto3 JSON mapping accepts "NaN" and "Infinity" for doubles.
    if (!std::isfinite(row_.timestamp())) {
      return FieldError(time_field_, "not a finite number");
    }
    out->arrival_s = row_.timestamp() / 1000.0;
    if (absl::Status s =
            TokenCount(row_.has_input_length(), row_.input_length(),
                       "input_length", &out->input_tokens);
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            TokenCount(row_.has_output_length(), row_.output_length(),
                       "output_length", &out->output_tokens);
        !s.ok()) {
      return s;
    }
    out->prefix_block_hashes.assign(row_.hash_ids().begin(),
                                    row_.hash_ids().end());
    return RowKind::kRequest;
  }

 private:
  const std::string time_field_ = "timestamp";
  google::protobuf::util::JsonParseOptions options_;
  v1::MooncakeTraceRow row_;  // reused between lines
};

}  // namespace

std::unique_ptr<RowParser> NewMooncakeRowParser() {
  return std::make_unique<MooncakeRowParser>();
}

}  // namespace fleetsim::workloads::internal
