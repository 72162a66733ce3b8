#include "util/textproto.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace fleetsim {
namespace {

// Collects the first parse error with its position.
class FirstErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!has_error_) {
      has_error_ = true;
      // The parser counts from 0.
      error_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
    }
  }
  bool has_error() const { return has_error_; }
  const std::string& error() const { return error_; }

 private:
  bool has_error_ = false;
  std::string error_;
};

}  // namespace

absl::Status ReadFileToString(const std::string& path, std::string* contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *contents = buffer.str();
  return absl::OkStatus();
}

absl::Status ParseTextProto(const std::string& text, const std::string& origin,
                            google::protobuf::Message* message) {
  message->Clear();
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ":",
        errors.has_error() ? errors.error() : std::string(" parse error")));
  }
  return absl::OkStatus();
}

absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message) {
  std::string text;
  absl::Status status = ReadFileToString(path, &text);
  if (!status.ok()) return status;
  return ParseTextProto(text, path, message);
}

std::string AtLocation(const std::string& path, int line,
                       const std::string& message) {
  if (line > 0) return absl::StrCat(path, ":", line, ": ", message);
  return absl::StrCat(path, ": ", message);
}

}  // namespace fleetsim
