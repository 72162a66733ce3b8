// Mooncake FAST'25 JSONL rows: {"timestamp": ms, "input_length": n,
// "output_length": n, "hash_ids": [..]}. A small JSON reader for one line:
// objects, arrays, strings, numbers, true/false/null; unknown keys are
// skipped. No dependency beyond the standard library.
#include <charconv>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "workloads/trace_parsing.h"

namespace fleetsim::workloads::internal {

namespace {

// Nesting deeper than this is rejected rather than recursed into.
constexpr int kMaxDepth = 64;

// A cursor over one JSON text with error messages that give the column.
class JsonCursor {
 public:
  explicit JsonCursor(absl::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' ||
            text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  // Consumes `c` (after whitespace) if it is next.
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  absl::Status Expect(char c) {
    if (Consume(c)) return absl::OkStatus();
    return Error(absl::StrCat("expected '", std::string(1, c), "'"));
  }
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at column ", pos_ + 1, ": ", what));
  }

  // Reads a string; `out` gets its raw contents (escapes kept as written,
  // enough for comparing plain ASCII keys).
  absl::Status String(absl::string_view* out) {
    if (!Consume('"')) return Error("expected a string");
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    *out = text_.substr(start, pos_ - start);
    ++pos_;
    return absl::OkStatus();
  }

  // Reads the characters of a number token (validated by the caller).
  absl::Status NumberToken(absl::string_view* out) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() &&
           absl::string_view("+-0123456789.eE").find(text_[pos_]) !=
               absl::string_view::npos) {
      ++pos_;
    }
    if (pos_ == start) return Error("expected a number");
    *out = text_.substr(start, pos_ - start);
    return absl::OkStatus();
  }

  // Skips any value.
  absl::Status SkipValue(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value");
    char c = text_[pos_];
    if (c == '"') {
      absl::string_view ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (Consume(close)) return absl::OkStatus();
      do {
        if (c == '{') {
          absl::string_view key;
          if (absl::Status s = String(&key); !s.ok()) return s;
          if (absl::Status s = Expect(':'); !s.ok()) return s;
        }
        if (absl::Status s = SkipValue(depth + 1); !s.ok()) return s;
      } while (Consume(','));
      return Expect(close);
    }
    for (absl::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return absl::OkStatus();
      }
    }
    absl::string_view number;
    return NumberToken(&number);
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

class MooncakeRowParser final : public RowParser {
 public:
  bool has_timestamps() const override { return true; }
  const std::string& time_field() const override { return time_field_; }

  absl::StatusOr<RowKind> Parse(absl::string_view line, Request* out) override {
    JsonCursor json(line);
    bool has_time = false, has_input = false, has_output = false;
    if (absl::Status s = json.Expect('{'); !s.ok()) return s;
    if (!json.Consume('}')) {
      do {
        absl::string_view key;
        if (absl::Status s = json.String(&key); !s.ok()) return s;
        if (absl::Status s = json.Expect(':'); !s.ok()) return s;
        absl::Status s;
        if (key == "timestamp") {
          absl::string_view text;
          s = json.NumberToken(&text);
          double ms = 0;
          if (s.ok()) s = ParseFiniteNumber(text, key, &ms);
          out->arrival_s = ms / 1000.0;
          has_time = true;
        } else if (key == "input_length") {
          s = Tokens(&json, key, &out->input_tokens);
          has_input = true;
        } else if (key == "output_length") {
          s = Tokens(&json, key, &out->output_tokens);
          has_output = true;
        } else if (key == "hash_ids") {
          s = Hashes(&json, &out->prefix_block_hashes);
        } else {
          s = json.SkipValue(1);
        }
        if (!s.ok()) return s;
      } while (json.Consume(','));
      if (absl::Status s = json.Expect('}'); !s.ok()) return s;
    }
    if (!json.AtEnd()) return json.Error("unexpected text after the object");
    if (!has_time) return FieldError("timestamp", "missing");
    if (!has_input) return FieldError("input_length", "missing");
    if (!has_output) return FieldError("output_length", "missing");
    return RowKind::kRequest;
  }

 private:
  static absl::Status Tokens(JsonCursor* json, absl::string_view key,
                             int32_t* out) {
    absl::string_view text;
    if (absl::Status s = json->NumberToken(&text); !s.ok()) return s;
    return ParseTokenCount(text, key, out);
  }

  static absl::Status Hashes(JsonCursor* json, std::vector<uint64_t>* out) {
    out->clear();
    if (!json->Consume('[')) return FieldError("hash_ids", "not an array");
    if (json->Consume(']')) return absl::OkStatus();
    do {
      absl::string_view text;
      if (absl::Status s = json->NumberToken(&text); !s.ok()) return s;
      uint64_t value = 0;
      auto [ptr, ec] =
          std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        return FieldError("hash_ids",
                          absl::StrCat("element ", out->size(), " '", text,
                                       "' is not a non-negative integer"));
      }
      out->push_back(value);
    } while (json->Consume(','));
    return json->Expect(']');
  }

  const std::string time_field_ = "timestamp";
};

}  // namespace

std::unique_ptr<RowParser> NewMooncakeRowParser() {
  return std::make_unique<MooncakeRowParser>();
}

}  // namespace fleetsim::workloads::internal
