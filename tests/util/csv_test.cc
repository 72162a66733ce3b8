#include "util/csv.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fleetsim {
namespace {

using Cells = std::vector<std::string>;

TEST(SplitCsvLineTest, SplitsAtCommasKeepingEmptyCells) {
  EXPECT_EQ(SplitCsvLine("a,,b,"), (Cells{"a", "", "b", ""}));
  EXPECT_EQ(SplitCsvLine(""), (Cells{""}));
}

TEST(SplitCsvLineTest, QuotedCellsKeepCommasAndDoubledQuotes) {
  EXPECT_EQ(SplitCsvLine(R"(x,"a,b","say ""hi""",y)"),
            (Cells{"x", "a,b", R"(say "hi")", "y"}));
}

TEST(SplitCsvRowTest, ViewsIntoTheLineWithEscapesAsWritten) {
  const std::string line = R"(1,"a,b","say ""hi""",)";
  std::vector<absl::string_view> cells = {"left over"};
  SplitCsvRow(line, &cells);
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[0], "1");
  EXPECT_EQ(cells[1], "a,b");
  EXPECT_EQ(cells[2], R"(say ""hi"")");
  EXPECT_EQ(cells[3], "");
  EXPECT_EQ(cells[1].data(), line.data() + 3);  // a view, not a copy
}

TEST(SplitCsvLineTest, StripsOneTrailingCarriageReturn) {
  EXPECT_EQ(SplitCsvLine("a,b\r"), (Cells{"a", "b"}));
}

}  // namespace
}  // namespace fleetsim
