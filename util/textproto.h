// File: util/textproto.h
//
// Reads protobuf text-format config files (data/**/*.txtpb) and reports
// problems as absl::InvalidArgument("path:line:col: ...") so users can find
// the offending field. Used by every catalog and config loader; their
// validators point at a field with util/text_locator.h.
#ifndef FLEETSIM_UTIL_TEXTPROTO_H_
#define FLEETSIM_UTIL_TEXTPROTO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace fleetsim {

// Parses `text` into `message` (cleared first). `origin` names the source in
// error messages, usually the file path. Unknown fields are errors.
absl::Status ParseTextProto(const std::string& text, const std::string& origin,
                            google::protobuf::Message* message);

// Reads the file at `path` and parses it as above.
// NotFound if the file cannot be opened; InvalidArgument on a parse error.
absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message);

// Formats "path:line: message" (or "path: message" when line is 0).
std::string AtLocation(const std::string& path, int line,
                       const std::string& message);

// Reads a whole file. NotFound if it cannot be opened.
absl::Status ReadFileToString(const std::string& path, std::string* contents);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_TEXTPROTO_H_
