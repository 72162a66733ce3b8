// `fleetsim trace-stats` end to end: the summary of a shipped trace, bad rows
// named by file, line and field or skipped and counted, unknown formats.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;

std::string DataTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/" + name;
}
std::string BadTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/traces/" + name;
}

using testutil::RunFleetsim;

TEST(TraceStatsCliTest, BadFileFailsWithLineAndField) {
  std::string output;
  int code = RunFleetsim(
      "trace-stats --trace " + BadTrace("azure_negative_tokens.csv"), &output);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(output, HasSubstr("fleetsim: "));
  EXPECT_THAT(output, HasSubstr("azure_negative_tokens.csv:4: field "
                                "'ContextTokens': '-7' is negative"));
}

TEST(TraceStatsCliTest, SkipBadRowsPrintsTheCount) {
  std::string output;
  int code = RunFleetsim(
      "trace-stats --skip-bad-rows --trace " + BadTrace("azure_mixed_bad.csv"),
      &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("\"requests\": 4"));
  EXPECT_THAT(output, HasSubstr("\"skipped_rows\": 4"));
}

TEST(TraceStatsCliTest, PrintsTheConvSummary) {
  std::string output;
  int code = RunFleetsim(
      "trace-stats --format azure --trace " + DataTrace("azure_2023_conv.csv"),
      &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("\"requests\": 19366"));
  EXPECT_THAT(output, HasSubstr("\"rate_per_s\": 5.5"));
  EXPECT_THAT(output, HasSubstr("\"input_tokens\": {"));
  EXPECT_THAT(output, HasSubstr("\"p50\": 1020"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("skipped_rows")));
}

TEST(TraceStatsCliTest, UnknownFormatIsAnError) {
  std::string output;
  EXPECT_EQ(RunFleetsim("trace-stats --format xml --trace " +
                            DataTrace("azure_2023_conv.csv"),
                        &output),
            1);
  EXPECT_THAT(output, HasSubstr("unknown trace format 'xml'"));
}

}  // namespace
}  // namespace fleetsim::cli
