#include "hardware/calibration/calibration_table.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "util/csv.h"
#include "util/gzip_file.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::hardware {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Formats a double with the fewest significant digits (up to 17) that parse
// back to the same value, so CSV round trips are exact.
std::string FormatDouble(double value) {
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

// "OPERATOR_CLASS_" for OperatorClass: the UNSPECIFIED value's name minus
// "UNSPECIFIED" (proto/ enums all follow that convention).
std::string EnumPrefix(const EnumDescriptor* type) {
  std::string zero = type->FindValueByNumber(0)->name();
  return std::string(absl::StripSuffix(zero, "UNSPECIFIED"));
}

std::string EnumShortName(const EnumValueDescriptor* value) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(value->name(), EnumPrefix(value->type())));
}

absl::StatusOr<const EnumValueDescriptor*> ParseEnum(const EnumDescriptor* type,
                                                     absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (const EnumValueDescriptor* v = type->FindValueByName(upper)) return v;
  if (const EnumValueDescriptor* v =
          type->FindValueByName(EnumPrefix(type) + upper)) {
    return v;
  }
  std::vector<std::string> known;
  for (int i = 1; i < type->value_count(); ++i) {
    known.push_back(EnumShortName(type->value(i)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a ", type->name(),
                   " (known: ", absl::StrJoin(known, ", "), ")"));
}

std::string QuoteCsvCell(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The CSV text of one field of `message`; empty for a default/unset value.
std::string FieldToCell(const Message& message, const FieldDescriptor* field) {
  const Reflection* reflection = message.GetReflection();
  if (field->has_presence() && !reflection->HasField(message, field)) return "";
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return QuoteCsvCell(reflection->GetString(message, field));
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* value = reflection->GetEnum(message, field);
      return value->number() == 0 ? "" : EnumShortName(value);
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = reflection->GetInt32(message, field);
      return v == 0 && !field->has_presence() ? "" : absl::StrCat(v);
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = reflection->GetInt64(message, field);
      return v == 0 && !field->has_presence() ? "" : absl::StrCat(v);
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = reflection->GetDouble(message, field);
      if (v == 0 && !field->has_presence()) return "";
      return FormatDouble(v);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(message, field) ? "true" : "";
    default:
      return "";  // no other types in calibration.proto
  }
}

// Sets `field` of `message` from CSV/comment text. An empty cell leaves the
// field at its default. Errors name the problem, not the location.
absl::Status SetFieldFromText(const FieldDescriptor* field,
                              absl::string_view raw, Message* message) {
  const Reflection* reflection = message->GetReflection();
  absl::string_view text = absl::StripAsciiWhitespace(raw);
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    reflection->SetString(message, field, std::string(text));
    return absl::OkStatus();
  }
  if (text.empty()) return absl::OkStatus();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM: {
      FLEETSIM_ASSIGN_OR_RETURN(const EnumValueDescriptor* value,
                                ParseEnum(field->enum_type(), text));
      reflection->SetEnum(message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not a 32-bit integer"));
      }
      reflection->SetInt32(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not an integer"));
      }
      reflection->SetInt64(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v;
      if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not a finite number"));
      }
      reflection->SetDouble(message, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!absl::SimpleAtob(text, &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "' is not true/false"));
      }
      reflection->SetBool(message, field, v);
      return absl::OkStatus();
    }
    default:
      return absl::InternalError(
          absl::StrCat("unsupported field type for ", field->name()));
  }
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

absl::Status RequirePositive(absl::string_view name, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must be > 0 for this op_class, got ", value));
}

}  // namespace

double MillisecondsToSeconds(double ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", ms * 1e-3);
  return std::strtod(buffer, nullptr);
}

std::string OperatorClassShortName(v1::OperatorClass op_class) {
  return EnumShortName(
      v1::OperatorClass_descriptor()->FindValueByNumber(op_class));
}

absl::StatusOr<v1::OperatorClass> ParseOperatorClass(absl::string_view text) {
  FLEETSIM_ASSIGN_OR_RETURN(const EnumValueDescriptor* value,
                            ParseEnum(v1::OperatorClass_descriptor(), text));
  return static_cast<v1::OperatorClass>(value->number());
}

std::string DTypeShortName(v1::Dtype dtype) {
  return EnumShortName(v1::Dtype_descriptor()->FindValueByNumber(dtype));
}

absl::StatusOr<v1::Dtype> ParseDType(absl::string_view text) {
  FLEETSIM_ASSIGN_OR_RETURN(const EnumValueDescriptor* value,
                            ParseEnum(v1::Dtype_descriptor(), text));
  return static_cast<v1::Dtype>(value->number());
}

absl::Status ValidateCalibrationRow(const v1::CalibrationRow& row) {
  if (row.op().empty()) return absl::InvalidArgumentError("op is empty");
  if (row.op_class() == v1::OPERATOR_CLASS_UNSPECIFIED) {
    return absl::InvalidArgumentError("op_class is not set");
  }
  if (!(row.median_s() > 0) || !std::isfinite(row.median_s())) {
    return absl::InvalidArgumentError(
        absl::StrCat("median_s must be > 0, got ", row.median_s()));
  }
  const google::protobuf::Descriptor* d = v1::CalibrationRow::descriptor();
  const Reflection* r = row.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    double v = 0;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32)
      v = r->GetInt32(row, f);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64)
      v = r->GetInt64(row, f);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE)
      v = r->GetDouble(row, f);
    if (v < 0 || !std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(f->name(), " must be >= 0, got ", v));
    }
  }
  switch (row.op_class()) {
    case v1::OPERATOR_CLASS_GEMM:
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("m", row.m()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("n", row.n()));
      return RequirePositive("k", row.k());
    case v1::OPERATOR_CLASS_ATTENTION_PREFILL:
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("new_tokens", row.new_tokens()));
      [[fallthrough]];
    case v1::OPERATOR_CLASS_ATTENTION_DECODE:
      if (row.op_class() == v1::OPERATOR_CLASS_ATTENTION_DECODE) {
        FLEETSIM_RETURN_IF_ERROR(
            RequirePositive("context_tokens", row.context_tokens()));
      }
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("batch", row.batch()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("heads", row.heads()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("kv_heads", row.kv_heads()));
      return RequirePositive("head_dim", row.head_dim());
    case v1::OPERATOR_CLASS_NORM:
    case v1::OPERATOR_CLASS_ELEMENTWISE:
      return RequirePositive("elements", row.elements());
    case v1::OPERATOR_CLASS_COLLECTIVE:
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("bytes", row.bytes()));
      return RequirePositive("ranks", row.ranks());
    case v1::OPERATOR_CLASS_MOE:
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("tokens", row.tokens()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("hidden", row.hidden()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("inter", row.inter()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("experts", row.experts()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("top_k", row.top_k()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("moe_tp", row.moe_tp()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("moe_ep", row.moe_ep()));
      if (row.top_k() > row.experts()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "top_k (", row.top_k(), ") exceeds experts (", row.experts(), ")"));
      }
      if (row.experts() % row.moe_ep() != 0 || row.inter() % row.moe_tp()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "experts (", row.experts(), ") must divide by moe_ep (",
            row.moe_ep(), ") and inter (", row.inter(), ") by moe_tp (",
            row.moe_tp(), ")"));
      }
      return absl::OkStatus();
    case v1::OPERATOR_CLASS_SSM:
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("batch", row.batch()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("new_tokens", row.new_tokens()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("heads", row.heads()));
      FLEETSIM_RETURN_IF_ERROR(RequirePositive("head_dim", row.head_dim()));
      return RequirePositive("d_state", row.d_state());
    default:
      return absl::OkStatus();
  }
}

std::string CalibrationCsvHeader() {
  const google::protobuf::Descriptor* d = v1::CalibrationRow::descriptor();
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) {
    names.push_back(d->field(i)->name());
  }
  return absl::StrJoin(names, ",");
}

std::string CalibrationTableToCsv(const v1::CalibrationTable& table) {
  std::string out =
      "# fleetsim calibration table (schema: "
      "proto/fleetsim/v1/calibration.proto)\n";
  const Message& provenance = table.provenance();
  const google::protobuf::Descriptor* pd = provenance.GetDescriptor();
  for (int i = 0; i < pd->field_count(); ++i) {
    std::string cell = FieldToCell(provenance, pd->field(i));
    if (cell.empty()) continue;
    // Comment values are taken verbatim to the end of the line.
    std::string value =
        pd->field(i)->cpp_type() == FieldDescriptor::CPPTYPE_STRING
            ? table.provenance().GetReflection()->GetString(provenance,
                                                            pd->field(i))
            : cell;
    for (char& c : value) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    absl::StrAppend(&out, "# ", pd->field(i)->name(), ": ", value, "\n");
  }
  // Columns: op, op_class, median_s and every field some row sets, so a
  // table of one producer does not carry the other producers' empty cells.
  const google::protobuf::Descriptor* d = v1::CalibrationRow::descriptor();
  std::vector<const FieldDescriptor*> columns;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    bool used =
        f->name() == "op" || f->name() == "op_class" || f->name() == "median_s";
    for (int r = 0; r < table.rows_size() && !used; ++r) {
      used = !FieldToCell(table.rows(r), f).empty();
    }
    if (used) columns.push_back(f);
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? "," : "", columns[i]->name());
  }
  out += '\n';
  for (const v1::CalibrationRow& row : table.rows()) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out += ',';
      out += FieldToCell(row, columns[i]);
    }
    out += '\n';
  }
  return out;
}

absl::StatusOr<v1::CalibrationTable> ParseCalibrationCsv(
    absl::string_view text, const std::string& origin) {
  v1::CalibrationTable table;
  const google::protobuf::Descriptor* row_type =
      v1::CalibrationRow::descriptor();
  const google::protobuf::Descriptor* prov_type =
      v1::CalibrationProvenance::descriptor();
  std::vector<const FieldDescriptor*> columns;
  std::vector<std::string> column_names;
  bool have_header = false;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty()) continue;
    if (trimmed.front() == '#') {
      if (have_header) continue;
      absl::string_view body =
          absl::StripLeadingAsciiWhitespace(trimmed.substr(1));
      size_t colon = body.find(':');
      if (colon == absl::string_view::npos) continue;
      absl::string_view key = body.substr(0, colon);
      if (!IsIdentifier(key)) continue;  // free-text comment
      const FieldDescriptor* field =
          prov_type->FindFieldByName(std::string(key));
      if (field == nullptr) {
        return absl::InvalidArgumentError(
            AtLocation(origin, line_number,
                       absl::StrCat("unknown provenance field '", key, "'")));
      }
      absl::Status status = SetFieldFromText(field, body.substr(colon + 1),
                                             table.mutable_provenance());
      if (!status.ok()) {
        return absl::InvalidArgumentError(AtLocation(
            origin, line_number,
            absl::StrCat("provenance '", key, "': ", status.message())));
      }
      continue;
    }
    std::vector<std::string> cells = SplitCsvLine(line);
    if (!have_header) {
      for (const std::string& raw : cells) {
        std::string name(absl::StripAsciiWhitespace(raw));
        const FieldDescriptor* field = row_type->FindFieldByName(name);
        if (field == nullptr) {
          return absl::InvalidArgumentError(
              AtLocation(origin, line_number,
                         absl::StrCat("unknown column '", name, "'")));
        }
        for (const std::string& seen : column_names) {
          if (seen == name) {
            return absl::InvalidArgumentError(
                AtLocation(origin, line_number,
                           absl::StrCat("column '", name, "' appears twice")));
          }
        }
        columns.push_back(field);
        column_names.push_back(name);
      }
      for (const char* required : {"op", "op_class", "median_s"}) {
        bool found = false;
        for (const std::string& name : column_names) found |= name == required;
        if (!found) {
          return absl::InvalidArgumentError(AtLocation(
              origin, line_number,
              absl::StrCat("header lacks required column '", required, "'")));
        }
      }
      have_header = true;
      continue;
    }
    if (cells.size() != columns.size()) {
      return absl::InvalidArgumentError(
          AtLocation(origin, line_number,
                     absl::StrCat("expected ", columns.size(), " cells, got ",
                                  cells.size())));
    }
    v1::CalibrationRow* row = table.add_rows();
    for (size_t i = 0; i < columns.size(); ++i) {
      absl::Status status = SetFieldFromText(columns[i], cells[i], row);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            AtLocation(origin, line_number,
                       absl::StrCat("column '", column_names[i],
                                    "': ", status.message())));
      }
    }
    absl::Status status = ValidateCalibrationRow(*row);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          AtLocation(origin, line_number, std::string(status.message())));
    }
  }
  if (!have_header) {
    return absl::InvalidArgumentError(
        AtLocation(origin, 0, "no header line (expected column names)"));
  }
  return table;
}

absl::StatusOr<v1::CalibrationTable> ReadCalibrationTable(
    const std::string& path) {
  if (absl::EndsWith(path, ".csv") || absl::EndsWith(path, ".csv.gz")) {
    FLEETSIM_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzippedFile(path));
    return ParseCalibrationCsv(text, path);
  }
  if (absl::EndsWith(path, ".txtpb") || absl::EndsWith(path, ".textproto")) {
    v1::CalibrationTable table;
    FLEETSIM_RETURN_IF_ERROR(ReadTextProtoFile(path, &table));
    for (int i = 0; i < table.rows_size(); ++i) {
      absl::Status status = ValidateCalibrationRow(table.rows(i));
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": rows[", i, "]: ", status.message()));
      }
    }
    return table;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path,
      ": unknown calibration table extension (want .csv, .csv.gz or .txtpb)"));
}

absl::Status WriteCalibrationTable(const v1::CalibrationTable& table,
                                   const std::string& path) {
  std::string text;
  if (absl::EndsWith(path, ".csv") || absl::EndsWith(path, ".csv.gz")) {
    text = CalibrationTableToCsv(table);
  } else if (absl::EndsWith(path, ".txtpb") ||
             absl::EndsWith(path, ".textproto")) {
    text =
        "# proto-file: fleetsim/v1/calibration.proto\n"
        "# proto-message: fleetsim.v1.CalibrationTable\n";
    std::string body;
    google::protobuf::TextFormat::PrintToString(table, &body);
    text += body;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": unknown calibration table extension (want .csv, .csv.gz or "
        ".txtpb)"));
  }
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return WriteMaybeGzippedFile(path, text);
}

}  // namespace fleetsim::hardware
