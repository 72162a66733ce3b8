// File: util/proto_json.h
//
// Output files as protobuf's JSON mapping of their message: field names as
// the .proto spells them, every field printed (a zero is 0, not absent),
// doubles printed so that they parse back to the same bits, 64-bit integers
// as strings (the proto3 JSON mapping). A summary.json, a gRPC reply and a
// client's parse of either therefore read the same fields.
#ifndef FLEETSIM_UTIL_PROTO_JSON_H_
#define FLEETSIM_UTIL_PROTO_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace fleetsim {

// The message as indented JSON, ending in a newline. Errors: the printer's
// own (a google.protobuf.Any of an unknown type, say), with its code and the
// message's type named, so that a caller writes no empty or partial file.
absl::StatusOr<std::string> ProtoJson(const google::protobuf::Message& message);

// Parses what ProtoJson wrote (unknown fields are errors).
// Errors: InvalidArgument with the parser's message, prefixed `origin`.
absl::Status ParseProtoJson(const std::string& json, const std::string& origin,
                            google::protobuf::Message* message);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_PROTO_JSON_H_
