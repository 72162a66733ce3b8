// TextLocator: positions of nested and repeated fields, as protobuf's parser
// records them, where a scan for a field name at the start of a line finds
// the wrong one.
#include "util/text_locator.h"

#include <fstream>
#include <string>

#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "gtest/gtest.h"

namespace fleetsim {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// A hybrid model: the top-level head_dim comes first, the SSM block's second.
const char kHybrid[] = R"(name: "hybrid"
head_dim: 128
num_layers: 32
ssm {
  num_ssm_layers: 16
  head_dim: -1
}
)";

TEST(TextLocatorTest, NestedFieldIsAtItsOwnLineNotAnEarlierNamesake) {
  const std::string path = WriteFile("hybrid.txtpb", kHybrid);
  TextLocator locator(path, v1::Model::default_instance());
  EXPECT_EQ(locator.Find("head_dim").line, 2);
  EXPECT_EQ(locator.Find("ssm.head_dim").line, 6);
  EXPECT_EQ(locator.Find("ssm.head_dim").column, 3);
  EXPECT_EQ(locator.At("ssm.head_dim", "field 'ssm.head_dim' is negative"),
            path + ":6:3: field 'ssm.head_dim' is negative");
}

TEST(TextLocatorTest, AbsentFieldFallsBackToItsBlock) {
  const std::string path = WriteFile("hybrid2.txtpb", kHybrid);
  TextLocator locator(path, v1::Model::default_instance());
  EXPECT_TRUE(locator.Written("ssm.num_ssm_layers"));
  EXPECT_FALSE(locator.Written("ssm.d_state"));
  EXPECT_EQ(locator.Find("ssm.d_state").line, 4);  // the ssm block
  EXPECT_FALSE(locator.Written("moe.top_k"));
  EXPECT_EQ(locator.Find("moe.top_k").line, 0);  // no moe block at all
  EXPECT_EQ(locator.At("moe.top_k", "m"), path + ": m");
}

TEST(TextLocatorTest, RepeatedEntriesOnOneLineHaveTheirOwnColumns) {
  const std::string path =
      WriteFile("eff.txtpb",
                "name: \"c\"\n"
                "efficiency { op: OPERATOR_CLASS_GEMM compute: 0.5 } "
                "efficiency { op: OPERATOR_CLASS_NORM compute: 1.5 }\n");
  TextLocator locator(path, v1::Chip::default_instance());
  const TextPosition first = locator.Find("efficiency[0].compute");
  const TextPosition second = locator.Find("efficiency[1].compute");
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(second.line, 2);
  EXPECT_EQ(first.column, 38);
  EXPECT_EQ(second.column, 90);
  // A repeated field named without an index is its first element.
  EXPECT_EQ(locator.Find("efficiency").column, 1);
  EXPECT_FALSE(locator.Written("efficiency[2]"));
}

TEST(TextLocatorTest, NotAFileOfThatTypeGivesNoPosition) {
  TextLocator in_memory("PlanRequest.site", v1::Chip::default_instance());
  EXPECT_EQ(in_memory.At("tdp_w", "bad"), "PlanRequest.site: bad");
  // A model file read as a chip does not parse: no position.
  const std::string path = WriteFile("hybrid3.txtpb", kHybrid);
  TextLocator wrong_type(path, v1::Chip::default_instance());
  EXPECT_EQ(wrong_type.Find("name").line, 0);
  // Malformed paths and unknown names find nothing past the last good step.
  TextLocator locator(path, v1::Model::default_instance());
  EXPECT_EQ(locator.Find("ssm.no_such_field").line, 4);
  EXPECT_EQ(locator.Find("ssm[0].head_dim").line, 0);
  EXPECT_EQ(locator.Find("").line, 0);
}

}  // namespace
}  // namespace fleetsim
