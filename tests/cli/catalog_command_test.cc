// `fleetsim catalog` end to end: the shipped chips and models as JSON and as
// a table, bad catalog files and unknown lists as non-zero exits.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;
using testutil::RunFleetsim;

const std::string kDataDir = FLEETSIM_SOURCE_DIR "/data";
const std::string kBadDir = FLEETSIM_SOURCE_DIR "/tests/testdata/catalog";

TEST(CatalogCommandTest, BadChipFileExitsNonZeroNamingTheField) {
  std::string output;
  int code = RunFleetsim(
      "catalog chips --json --data_dir=" + kBadDir + "/negative_bandwidth",
      &output);
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output,
              HasSubstr("neg_bw.txtpb:6:1: field 'memory_bandwidth_tbps'"));
}

TEST(CatalogCommandTest, ListsShippedChipsAsJson) {
  std::string output;
  int code =
      RunFleetsim("catalog chips --json --data_dir=" + kDataDir, &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("\"name\": \"spad_prefill\""));
  EXPECT_THAT(output, HasSubstr("\"cost_vs_h100\": 0.476"));
  // GB200 NVL72's machine is its 72-GPU NVLink domain.
  EXPECT_THAT(output, HasSubstr("\"machine_chips\": 72"));
}

TEST(CatalogCommandTest, ListsShippedChipsAsTable) {
  std::string output;
  int code = RunFleetsim("catalog chips --data_dir=" + kDataDir, &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("spad_decode"));
  EXPECT_THAT(output, HasSubstr("0.88"));
}

TEST(CatalogCommandTest, UnknownListIsAUsageError) {
  std::string output;
  EXPECT_EQ(RunFleetsim("catalog gpus", &output), 2) << output;
}

TEST(CatalogCommandTest, ListsShippedModelsAsJson) {
  std::string output;
  int code =
      RunFleetsim("catalog models --json --data_dir=" + kDataDir, &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("\"name\": \"llama-2-70b\""));
  // Llama-2-70B at bf16: 2 x 80 x 8 x 128 x 2 B = 320 KiB.
  EXPECT_THAT(output, HasSubstr("\"kv_bytes_per_token\": 327680"));
  // Mamba-2 2.7B: no KV, 86.6 MB of state per sequence.
  EXPECT_THAT(output, HasSubstr("\"state_bytes_per_sequence\": 86638592"));
}

TEST(CatalogCommandTest, BadModelFileExitsNonZero) {
  std::string output;
  int code = RunFleetsim(
      "catalog models --data_dir=" + kBadDir + "/heads_not_divisible", &output);
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("bad_gqa.txtpb:8:1: field 'num_kv_heads'"));
}

// The SSM block's head_dim is reported at its own line and column, not at
// the attention head_dim that comes first in the file (line 9).
TEST(CatalogCommandTest, NestedFieldErrorNamesItsOwnLine) {
  std::string output;
  int code = RunFleetsim(
      "catalog models --data_dir=" + kBadDir + "/nested_field_line", &output);
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("hybrid.txtpb:19:3: field 'ssm.head_dim' "
                                "must be >= 0 (got -1)"));
}

}  // namespace
}  // namespace fleetsim::cli
