#include "util/json_writer.h"

#include <cmath>
#include <cstdio>

namespace fleetsim {

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

void JsonWriter::NewLine() {
  if (indent_ == 0) return;
  out_ += '\n';
  out_.append(has_element_.size() * indent_, ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_ += ',';
    has_element_.back() = true;
    NewLine();
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  has_element_.push_back(false);
}

void JsonWriter::EndObject() {
  bool had = has_element_.back();
  has_element_.pop_back();
  if (had) NewLine();
  out_ += '}';
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  has_element_.push_back(false);
}

void JsonWriter::EndArray() {
  bool had = has_element_.back();
  has_element_.pop_back();
  if (had) NewLine();
  out_ += ']';
}

void JsonWriter::Key(const std::string& key) {
  BeforeValue();
  out_ += JsonQuote(key);
  out_ += indent_ == 0 ? ":" : ": ";
  after_key_ = true;
}

void JsonWriter::String(const std::string& value) {
  BeforeValue();
  out_ += JsonQuote(value);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}

void JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  out_ += buf;
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}

void JsonWriter::Field(const std::string& key, const std::string& value) {
  Key(key);
  String(value);
}
void JsonWriter::Field(const std::string& key, const char* value) {
  Key(key);
  String(value);
}
void JsonWriter::Field(const std::string& key, int64_t value) {
  Key(key);
  Int(value);
}
void JsonWriter::Field(const std::string& key, double value) {
  Key(key);
  Double(value);
}
void JsonWriter::Field(const std::string& key, bool value) {
  Key(key);
  Bool(value);
}

std::string JsonWriter::str() const {
  return has_element_.empty() && !out_.empty() ? out_ + "\n" : out_;
}

}  // namespace fleetsim
