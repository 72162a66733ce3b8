// Tests for hardware/splitwise_perf_model.h: SplitwiseSim's predictor over
// its measured iteration table.
#include "hardware/splitwise_perf_model.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::hardware {
namespace {

using ::testing::HasSubstr;

const std::string kTable =
    std::string(FLEETSIM_SOURCE_DIR) + "/data/splitwise/perf_model.csv";

std::unique_ptr<SplitwiseTableLatency> Predictor(const std::string& model,
                                                 const std::string& chip,
                                                 int tp) {
  auto rows = ReadSplitwisePerfRows(kTable);
  EXPECT_TRUE(rows.ok()) << rows.status();
  auto p = SplitwiseTableLatency::Create(*rows, kTable, model, chip, tp);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

double DecodeMs(const LatencyModel& m, int requests) {
  BatchShape b;
  for (int i = 0; i < requests; ++i) b.AddDecode(1000);
  return m.IterationSeconds(b) * 1e3;
}

double PrefillMs(const LatencyModel& m, int tokens) {
  BatchShape b;
  b.AddPrefillChunk(tokens, 0);
  return m.IterationSeconds(b) * 1e3;
}

// The values SplitwiseSim's own Python predictor gives on this table,
// obtained by running it (Mutinifni/splitwise-sim @ 8f99e7d,
// performance_model.py DatabasePerformanceModel, TP 8): decode is nearly
// flat in the batch because the token curve is keyed by prompt x batch
// tokens.
TEST(SplitwiseTableLatencyTest, MatchesSplitwiseSimsPredictor) {
  auto bloom = Predictor("bloom-176b", "h100", 8);
  ASSERT_NE(bloom, nullptr);
  const double decode[][2] = {
      {1, 35.3}, {8, 35.3}, {32, 35.4}, {64, 35.5}, {128, 35.7}};
  for (const auto& [batch, ms] : decode)
    EXPECT_NEAR(DecodeMs(*bloom, static_cast<int>(batch)), ms, 0.06) << batch;
  const double prefill[][2] = {
      {128, 48.3}, {512, 76.1}, {2048, 252.0}, {8192, 1411.6}};
  for (const auto& [tokens, ms] : prefill)
    EXPECT_NEAR(PrefillMs(*bloom, static_cast<int>(tokens)), ms, 0.06)
        << tokens;

  // Catalog names match the table's ("llama-2-70b" -> "llama2-70b",
  // "a100" -> "a100-80gb").
  auto llama = Predictor("llama-2-70b", "a100", 8);
  ASSERT_NE(llama, nullptr);
  EXPECT_NEAR(DecodeMs(*llama, 1), 42.6, 0.06);
  EXPECT_NEAR(DecodeMs(*llama, 128), 43.0, 0.06);
  EXPECT_NEAR(PrefillMs(*llama, 2048), 282.7, 0.06);
}

TEST(SplitwiseTableLatencyTest, MixedBatchesCostMoreThanTheirPrompts) {
  auto bloom = Predictor("bloom-176b", "h100", 8);
  ASSERT_NE(bloom, nullptr);
  BatchShape mixed;
  mixed.AddPrefillChunk(1000, 0);
  for (int i = 0; i < 24; ++i) mixed.AddDecode(500);
  // SplitwiseSim: 1.1 x the prompt curve at prompt tokens + 1 per decode.
  EXPECT_NEAR(bloom->IterationSeconds(mixed) * 1e3,
              1.1 * PrefillMs(*bloom, 1024), 1e-9);
  EXPECT_EQ(bloom->Explain(mixed).ops.at(0).name, "splitwise_mixed");
}

TEST(SplitwiseTableLatencyTest, PowerCappedRowsAreTheirOwnChip) {
  auto capped = Predictor("bloom-176b", "h100_pcap", 8);
  auto full = Predictor("bloom-176b", "h100", 8);
  ASSERT_NE(capped, nullptr);
  ASSERT_NE(full, nullptr);
  // The table's pcap rows: prefill 1.3x slower, decode unchanged.
  EXPECT_NEAR(PrefillMs(*capped, 2048) / PrefillMs(*full, 2048), 1.3, 0.01);
  EXPECT_NEAR(DecodeMs(*capped, 8) / DecodeMs(*full, 8), 1.0, 0.01);
}

// Llama-2-70B TP2's last prompt point (64 x 512 tokens) is faster than the
// one before it, so extrapolating it would make longer prompts cheaper and
// then negative: past the table the curve holds its last value.
TEST(SplitwiseTableLatencyTest, LongPromptsNeverGetCheaperPastTheTable) {
  auto llama = Predictor("llama-2-70b", "h100", 2);
  ASSERT_NE(llama, nullptr);
  EXPECT_DOUBLE_EQ(PrefillMs(*llama, 40000), PrefillMs(*llama, 32768));
  EXPECT_DOUBLE_EQ(PrefillMs(*llama, 100000), PrefillMs(*llama, 32768));
  EXPECT_GT(PrefillMs(*llama, 32768), 0);
  // A rising last segment is still extrapolated, as SplitwiseSim does.
  auto bloom = Predictor("bloom-176b", "h100", 8);
  ASSERT_NE(bloom, nullptr);
  EXPECT_GT(PrefillMs(*bloom, 40000), PrefillMs(*bloom, 32768));
}

TEST(SplitwiseTableLatencyTest, MissingKeysAndBadFilesAreClearErrors) {
  auto rows = ReadSplitwisePerfRows(kTable);
  ASSERT_TRUE(rows.ok()) << rows.status();
  auto tp4 =
      SplitwiseTableLatency::Create(*rows, kTable, "bloom-176b", "h100", 4);
  ASSERT_FALSE(tp4.ok());
  EXPECT_THAT(tp4.status().message(), HasSubstr(kTable));
  EXPECT_THAT(tp4.status().message(), HasSubstr("bloom-176b"));
  EXPECT_THAT(tp4.status().message(), HasSubstr("TP 4"));
  EXPECT_FALSE(
      SplitwiseTableLatency::Create(*rows, kTable, "llama-2-7b", "h100", 8)
          .ok());

  const std::string bad = ::testing::TempDir() + "/bad_perf_model.csv";
  {
    std::ofstream out(bad);
    out << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
           "token_time,tensor_parallel\n"
           "bloom-176b,h100-80gb,512,1,128,75.1,35.9,8\n"
           "bloom-176b,h100-80gb,512,two,128,130.4,37.4,8\n";
  }
  auto parsed = ReadSplitwisePerfRows(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr(bad + ":3:"));
  EXPECT_FALSE(ReadSplitwisePerfRows(bad + ".missing").ok());
}

// Regression (issue 16): times of 1e300 or 1e-300 ms (and inf, nan) reached
// the simulator as absurd iteration times; now the row is refused.
TEST(SplitwiseTableLatencyTest, TimesOutsideTheSanityRangeAreRefused) {
  const std::string bad = ::testing::TempDir() + "/absurd_perf_model.csv";
  for (const char* time : {"1e300", "1e-300", "inf", "nan", "-3"}) {
    {
      std::ofstream out(bad);
      out << "model,hardware,prompt_size,batch_size,token_size,prompt_time,"
             "token_time,tensor_parallel\n"
             "bloom-176b,h100-80gb,512,1,128,75.1,35.9,8\n"
             "bloom-176b,h100-80gb,512,2,128,130.4,"
          << time << ",8\n";
    }
    auto parsed = ReadSplitwisePerfRows(bad);
    ASSERT_FALSE(parsed.ok()) << time;
    EXPECT_THAT(parsed.status().message(),
                HasSubstr(bad + ":3: field 'token_time'"))
        << time;
  }
}

}  // namespace
}  // namespace fleetsim::hardware
