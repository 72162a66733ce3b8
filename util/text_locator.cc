#include "util/text_locator.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "util/textproto.h"

namespace fleetsim {
namespace {

namespace pb = google::protobuf;

// Drops parse errors: the loader has reported them already, and a file of
// another type (an origin that is not this message's file) simply has no
// positions.
class IgnoreErrors final : public pb::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override {}
};

// One segment of a field path: "efficiency[1]" -> {"efficiency", 1};
// "name" -> {"name", -1}. False when the segment is malformed.
bool SplitSegment(absl::string_view segment, absl::string_view* name,
                  int* index) {
  *index = -1;
  const size_t open = segment.find('[');
  if (open == absl::string_view::npos) {
    *name = segment;
    return !segment.empty();
  }
  if (segment.back() != ']') return false;
  *name = segment.substr(0, open);
  return absl::SimpleAtoi(segment.substr(open + 1, segment.size() - open - 2),
                          index) &&
         *index >= 0 && !name->empty();
}

}  // namespace

TextLocator::TextLocator(std::string origin, const pb::Message& prototype)
    : origin_(std::move(origin)), prototype_(prototype) {}

TextLocator::~TextLocator() = default;

const pb::TextFormat::ParseInfoTree* TextLocator::Tree() const {
  if (parsed_) return tree_.get();
  parsed_ = true;
  std::string text;
  if (!ReadFileToString(origin_, &text).ok()) return nullptr;
  auto tree = std::make_unique<pb::TextFormat::ParseInfoTree>();
  std::unique_ptr<pb::Message> message(prototype_.New());
  pb::TextFormat::Parser parser;
  parser.WriteLocationsTo(tree.get());
  IgnoreErrors ignore;
  parser.RecordErrorsTo(&ignore);
  if (parser.ParseFromString(text, message.get())) tree_ = std::move(tree);
  return tree_.get();
}

TextPosition TextLocator::Resolve(absl::string_view field_path,
                                  bool* complete) const {
  *complete = false;
  TextPosition found;
  const pb::TextFormat::ParseInfoTree* tree = Tree();
  const pb::Descriptor* type = prototype_.GetDescriptor();
  const std::vector<absl::string_view> segments =
      absl::StrSplit(field_path, '.');
  for (size_t i = 0; i < segments.size() && tree != nullptr; ++i) {
    absl::string_view name;
    int index;
    if (type == nullptr || !SplitSegment(segments[i], &name, &index)) break;
    const pb::FieldDescriptor* field = type->FindFieldByName(std::string(name));
    // The parser's tree wants an index exactly for repeated fields.
    if (field == nullptr || (index >= 0 && !field->is_repeated())) break;
    if (field->is_repeated() && index < 0) index = 0;
    const pb::TextFormat::ParseLocation where = tree->GetLocation(field, index);
    if (where.line < 0) break;
    found = {where.line + 1, where.column + 1};
    if (i + 1 == segments.size()) {
      *complete = true;
      break;
    }
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) break;
    tree = tree->GetTreeForNested(field, index);
    type = field->message_type();
  }
  return found;
}

TextPosition TextLocator::Find(absl::string_view field_path) const {
  bool complete;
  return Resolve(field_path, &complete);
}

bool TextLocator::Written(absl::string_view field_path) const {
  bool complete;
  Resolve(field_path, &complete);
  return complete;
}

std::string TextLocator::At(absl::string_view field_path,
                            absl::string_view message) const {
  const TextPosition where = Find(field_path);
  if (where.line <= 0) return absl::StrCat(origin_, ": ", message);
  return absl::StrCat(origin_, ":", where.line, ":", where.column, ": ",
                      message);
}

absl::Status TextLocator::FieldError(absl::string_view field_path,
                                     absl::string_view message) const {
  return absl::InvalidArgumentError(
      At(field_path, absl::StrCat("field '", field_path, "': ", message)));
}

}  // namespace fleetsim
