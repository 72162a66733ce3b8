#include "util/proto_json.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace fleetsim {

absl::StatusOr<std::string> ProtoJson(
    const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (status.ok()) return json;
  // Protobuf 3.21's util::Status numbers its codes as absl::StatusCode does.
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      absl::StrCat("cannot print ", message.GetTypeName(),
                                   " as JSON: ", status.message().as_string()));
}

absl::Status ParseProtoJson(const std::string& json, const std::string& origin,
                            google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  auto status =
      google::protobuf::util::JsonStringToMessage(json, message, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(origin, ": ", status.message().as_string()));
}

}  // namespace fleetsim
