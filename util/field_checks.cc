#include "util/field_checks.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "util/text_locator.h"

namespace fleetsim {
namespace {

namespace pb = google::protobuf;

// One step of a path from the top message to a field: the field and, for a
// repeated one, the element's index (-1 for a singular field).
struct Step {
  const pb::FieldDescriptor* field;
  int index;
};

std::string PathName(const std::vector<Step>& path) {
  std::string name;
  for (const Step& step : path) {
    if (!name.empty()) name += '.';
    name += step.field->name();
    if (step.index >= 0) absl::StrAppend(&name, "[", step.index, "]");
  }
  return name;
}

class Checker {
 public:
  Checker(const pb::Message& top, const std::string& origin,
          const FieldRanges& ranges)
      : locator_(origin, top), ranges_(ranges) {}

  void Walk(const pb::Message& message) {
    const pb::Reflection* reflection = message.GetReflection();
    std::vector<const pb::FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);  // set fields only
    for (const pb::FieldDescriptor* field : fields) {
      if (!field->is_repeated()) {
        Visit(message, field, -1);
        continue;
      }
      const int size = reflection->FieldSize(message, field);
      for (int i = 0; i < size; ++i) Visit(message, field, i);
    }
  }

  absl::Status status() const {
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(problems_, "\n"));
  }

 private:
  void Visit(const pb::Message& message, const pb::FieldDescriptor* field,
             int index) {
    const pb::Reflection* r = message.GetReflection();
    const bool one = index < 0;
    path_.push_back({field, index});
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        Walk(one ? r->GetMessage(message, field)
                 : r->GetRepeatedMessage(message, field, index));
        break;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        Number(field, one ? r->GetDouble(message, field)
                          : r->GetRepeatedDouble(message, field, index));
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        Number(field, one ? r->GetFloat(message, field)
                          : r->GetRepeatedFloat(message, field, index));
        break;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        Number(field, one ? r->GetInt32(message, field)
                          : r->GetRepeatedInt32(message, field, index));
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        Number(field, static_cast<double>(
                          one ? r->GetInt64(message, field)
                              : r->GetRepeatedInt64(message, field, index)));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        Number(field, one ? r->GetUInt32(message, field)
                          : r->GetRepeatedUInt32(message, field, index));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        Number(field, static_cast<double>(
                          one ? r->GetUInt64(message, field)
                              : r->GetRepeatedUInt64(message, field, index)));
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        Enum(field, one ? r->GetEnumValue(message, field)
                        : r->GetRepeatedEnumValue(message, field, index));
        break;
      default:
        break;  // strings and bools have no range
    }
    path_.pop_back();
  }

  void Number(const pb::FieldDescriptor* field, double value) {
    if (!std::isfinite(value)) {
      Problem(absl::StrCat("must be a finite number (got ", value, ")"));
      return;
    }
    for (const FieldRange& range : ranges_) {
      if (field->full_name() != range.field) continue;
      if (value >= range.min && value <= range.max) return;
      Problem(absl::StrCat("must be in [", range.min, ", ", range.max,
                           "] (got ", value, ")",
                           *range.note ? absl::StrCat("; ", range.note) : ""));
      return;
    }
  }

  void Enum(const pb::FieldDescriptor* field, int value) {
    const pb::EnumDescriptor* type = field->enum_type();
    if (type->FindValueByNumber(value) != nullptr) return;
    std::vector<std::string> names;
    for (int i = 0; i < type->value_count(); ++i) {
      names.push_back(type->value(i)->name());
    }
    Problem(absl::StrCat("has no value ", value, " (one of ",
                         absl::StrJoin(names, ", "), ")"));
  }

  void Problem(const std::string& message) {
    const std::string name = PathName(path_);
    problems_.push_back(
        locator_.At(name, absl::StrCat("field '", name, "' ", message)));
  }

  TextLocator locator_;
  const FieldRanges& ranges_;
  std::vector<Step> path_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::Status CheckFields(const pb::Message& message, const std::string& origin,
                         const FieldRanges& ranges) {
  Checker checker(message, origin, ranges);
  checker.Walk(message);
  return checker.status();
}

absl::Status CheckRangeNames(const FieldRanges& ranges) {
  std::vector<std::string> unknown;
  for (const FieldRange& range : ranges) {
    if (pb::DescriptorPool::generated_pool()->FindFieldByName(range.field) ==
        nullptr) {
      unknown.push_back(range.field);
    }
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("ranges name no field: ", absl::StrJoin(unknown, ", ")));
}

}  // namespace fleetsim
