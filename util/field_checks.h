// File: util/field_checks.h
//
// CheckFields: one pass over a config message and its sub-messages, by
// protobuf reflection, that refuses the values no per-type validator should
// have to remember: a NaN or infinite number in any float field, an enum
// number its type does not define (proto3 text format and the wire accept
// any), and a number outside the physically sane range declared for its
// field. Every loader runs it, before or after its own checks, so a field
// added later is covered for finiteness and enums the day it is added.
#ifndef FLEETSIM_UTIL_FIELD_CHECKS_H_
#define FLEETSIM_UTIL_FIELD_CHECKS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace fleetsim {

// The accepted range of one numeric field, applied whenever the field is set
// (proto3 implicit-presence fields are "set" when non-zero, so a 0 meaning
// "use the default" is always accepted). Integers and floats alike.
struct FieldRange {
  const char* field;  // full protobuf name: "fleetsim.v1.Pool.tp"
  double min;
  double max;
  const char* note = "";  // appended to the message: the unit, a limit's doc
};

using FieldRanges = std::vector<FieldRange>;

// Checks `message` recursively as described above. `origin` names it in
// messages; when it is a readable text-format file of the message's type,
// each problem carries the line of the offending field. InvalidArgument
// listing every problem, one per line, as
//   "origin:12: field 'pools[1].machine.chips_per_machine' must be in
//    [1, 1024] (got -1)".
absl::Status CheckFields(const google::protobuf::Message& message,
                         const std::string& origin, const FieldRanges& ranges);

// OK when every range names a field of a message linked into this binary;
// Internal listing those that name none. CheckFields matches names
// silently, so a misspelt or removed field's range would never apply: each
// owner of a FieldRanges list tests it with this.
absl::Status CheckRangeNames(const FieldRanges& ranges);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_FIELD_CHECKS_H_
