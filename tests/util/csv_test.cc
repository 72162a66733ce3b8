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

TEST(SplitCsvLineTest, StripsOneTrailingCarriageReturn) {
  EXPECT_EQ(SplitCsvLine("a,b\r"), (Cells{"a", "b"}));
}

}  // namespace
}  // namespace fleetsim
