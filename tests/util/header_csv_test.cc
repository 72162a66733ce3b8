// Tests for util/header_csv.h: cells by column name, located errors.
#include "util/header_csv.h"

#include "gtest/gtest.h"

namespace fleetsim {
namespace {

TEST(HeaderCsvTest, ReadsCellsByColumnName) {
  absl::StatusOr<HeaderCsv> csv =
      HeaderCsv::Parse("m, x ,flag,name\n\n4096.0,1.5,true, a \n", "t.csv");
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->lines().size(), 1u);
  const HeaderCsv::Line& line = csv->lines()[0];
  EXPECT_EQ(line.number, 3);
  EXPECT_EQ(*csv->Int(line, "m"), 4096);  // integral float accepted
  EXPECT_DOUBLE_EQ(*csv->Double(line, "x"), 1.5);
  EXPECT_TRUE(*csv->Bool(line, "flag"));
  EXPECT_EQ(*csv->String(line, "name"), "a");
  EXPECT_EQ(csv->StringOr(line, "absent", "fallback"), "fallback");
  EXPECT_EQ(csv->header(),
            (std::vector<std::string>{"m", "x", "flag", "name"}));
}

TEST(HeaderCsvTest, ErrorsNameFileLineAndColumn) {
  absl::StatusOr<HeaderCsv> csv = HeaderCsv::Parse("m,x\n1.5,\n", "t.csv");
  ASSERT_TRUE(csv.ok());
  const HeaderCsv::Line& line = csv->lines()[0];
  EXPECT_EQ(csv->Int(line, "m").status().message(),
            "t.csv:2: column 'm': '1.5' is not an integer");
  EXPECT_EQ(csv->Double(line, "x").status().message(),
            "t.csv:2: column 'x': empty cell, expected a number");
  EXPECT_FALSE(csv->OptionalDouble(line, "x")->has_value());
  EXPECT_EQ(csv->Int(line, "k").status().message(),
            "t.csv:1: column 'k': missing");
  EXPECT_EQ(HeaderCsv::Parse("a,b\n1\n", "t.csv").status().message(),
            "t.csv:2: expected 2 cells as in the header, got 1");
  EXPECT_EQ(HeaderCsv::Parse("", "t.csv").status().message(),
            "t.csv: empty file");
  EXPECT_EQ(HeaderCsv::Parse("a\n", "t.csv").status().message(),
            "t.csv: no data rows");
}

}  // namespace
}  // namespace fleetsim
