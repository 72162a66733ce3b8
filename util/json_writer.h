// File: util/json_writer.h
//
// A small streaming JSON writer for the CLI's machine-readable outputs
// (summary.json, trace-stats, estimate --json). Numbers are written as JSON
// numbers (protobuf's JSON mapping would quote 64-bit integers), keys in the
// order given, so output is byte-for-byte deterministic.
#ifndef FLEETSIM_UTIL_JSON_WRITER_H_
#define FLEETSIM_UTIL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace fleetsim {

// Builds one JSON document. Not thread-safe. Usage:
//   JsonWriter w; w.BeginObject(); w.Key("requests"); w.Int(3); w.EndObject();
//   std::string text = w.str();
class JsonWriter final {
 public:
  // `indent` spaces per level; 0 writes compact one-line JSON.
  explicit JsonWriter(int indent = 2) : indent_(indent) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(const std::string& key);
  void String(const std::string& value);
  void Int(int64_t value);
  // Finite doubles print with up to 9 significant digits; NaN/inf as null.
  void Double(double value);
  void Bool(bool value);
  void Null();

  // Shorthands for Key() followed by a value.
  void Field(const std::string& key, const std::string& value);
  void Field(const std::string& key, const char* value);
  void Field(const std::string& key, int64_t value);
  void Field(const std::string& key, int value) {
    Field(key, static_cast<int64_t>(value));
  }
  void Field(const std::string& key, double value);
  void Field(const std::string& key, bool value);

  // The document so far, with a trailing newline once complete.
  std::string str() const;

 private:
  void BeforeValue();
  void NewLine();

  int indent_;
  std::string out_;
  // Per open container: has it received an element yet?
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Escapes `text` as a JSON string literal, quotes included.
std::string JsonQuote(const std::string& text);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_JSON_WRITER_H_
