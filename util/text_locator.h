// File: util/text_locator.h
//
// TextLocator: where each field of a text-format file was written, so that a
// validator's error names the file, line and column of the offending field,
// nested and repeated fields included ("chip.txtpb:21:3: field
// 'efficiency[1].compute' ..."). It asks protobuf's own TextFormat::Parser
// for the positions (a ParseInfoTree), rather than scanning the text for a
// field name, which finds the wrong line whenever a name repeats at another
// depth or in another entry of a repeated field.
#ifndef FLEETSIM_UTIL_TEXT_LOCATOR_H_
#define FLEETSIM_UTIL_TEXT_LOCATOR_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace fleetsim {

// A position in a text file, both 1-based; line 0 when unknown.
struct TextPosition {
  int line = 0;
  int column = 0;
};

// Looks up positions in the file `origin`, read as a message of
// `prototype`'s type. The file is parsed on the first lookup only (validators
// look up positions when they report a problem, so a valid file is parsed
// once, by its loader). When `origin` is not a readable file of that type (a
// request built in memory, "--draft-model"), every position is unknown and
// messages carry the origin alone. Not thread-safe: one per validation.
class TextLocator {
 public:
  TextLocator(std::string origin, const google::protobuf::Message& prototype);
  ~TextLocator();

  // The position of `field_path`: field names joined by '.', a repeated
  // field's element as name[index] ("efficiency[1].compute",
  // "speculative_decoding.draft_model"; a repeated field without an index
  // means its first element). When the field itself was not written, the
  // position of its innermost written enclosing field; line 0 when none.
  TextPosition Find(absl::string_view field_path) const;

  // Whether the field at `field_path` itself was written in the file.
  bool Written(absl::string_view field_path) const;

  // "origin:line:column: message" at Find(field_path), or "origin: message"
  // when the position is unknown.
  std::string At(absl::string_view field_path, absl::string_view message) const;
  // InvalidArgument with At(field_path, "field 'FIELD_PATH': message").
  absl::Status FieldError(absl::string_view field_path,
                          absl::string_view message) const;

  const std::string& origin() const { return origin_; }

 private:
  // Parses the file the first time; null when it cannot be read or parsed.
  const google::protobuf::TextFormat::ParseInfoTree* Tree() const;
  // Find(), and whether the whole path was written.
  TextPosition Resolve(absl::string_view field_path, bool* complete) const;

  std::string origin_;
  const google::protobuf::Message& prototype_;
  mutable bool parsed_ = false;
  mutable std::unique_ptr<google::protobuf::TextFormat::ParseInfoTree> tree_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_TEXT_LOCATOR_H_
