#include "util/csv.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace fleetsim {

void SplitCsvRow(absl::string_view line,
                 std::vector<absl::string_view>* cells) {
  cells->clear();
  size_t i = 0;
  while (true) {
    size_t cell_end;
    if (i < line.size() && line[i] == '"') {
      size_t j = i + 1;
      while (j < line.size()) {
        if (line[j] != '"') {
          ++j;
        } else if (j + 1 < line.size() && line[j + 1] == '"') {
          j += 2;  // escaped quote
        } else {
          break;
        }
      }
      cells->push_back(line.substr(i + 1, j - (i + 1)));
      cell_end = line.find(',', j);
    } else {
      cell_end = line.find(',', i);
      cells->push_back(line.substr(i, cell_end == absl::string_view::npos
                                          ? absl::string_view::npos
                                          : cell_end - i));
    }
    if (cell_end == absl::string_view::npos) return;
    i = cell_end + 1;
  }
}

std::vector<std::string> SplitCsvLine(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<absl::string_view> views;
  SplitCsvRow(line, &views);
  std::vector<std::string> cells;
  cells.reserve(views.size());
  for (absl::string_view view : views) {
    cells.push_back(absl::StrReplaceAll(view, {{"\"\"", "\""}}));
  }
  return cells;
}

std::string CsvQuoted(absl::string_view text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

}  // namespace fleetsim
