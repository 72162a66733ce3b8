// Tests for sim/timeseries.h: one row per instance per interval, at the
// first boundary at or after each tick, and the row cap.
#include "sim/timeseries.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/csv.h"

namespace fleetsim::sim {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// One pool of two instances, 1000 blocks of 16 tokens x 1 KiB each.
FleetSpec OnePool() {
  FleetSpec fleet;
  PoolSpec& pool = fleet.pools.emplace_back();
  pool.name = "decode";
  pool.machines = 1;
  pool.instances_per_machine = 2;
  pool.kv_block_tokens = 16;
  pool.kv_bytes_per_token = 1024;
  pool.kv_capacity_blocks = 1000;
  return fleet;
}

class TimeSeriesTest : public ::testing::Test {
 protected:
  std::string Path() const {
    return ::testing::TempDir() + "/timeseries_" + std::to_string(getpid()) +
           "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() +
           ".csv";
  }
  // The rows written, split.
  std::vector<std::vector<std::string>> Rows(OutputFile* file) {
    EXPECT_TRUE(file->Commit().ok());
    std::vector<std::vector<std::string>> rows;
    std::string text = Slurp(Path());
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      rows.push_back(SplitCsvLine(text.substr(start, end - start)));
      start = end + 1;
    }
    return rows;
  }
};

IterationSpan Span(int instance, double start_s, const std::vector<double>& end,
                   int decodes, int64_t kv_blocks) {
  IterationSpan span;
  span.instance = instance;
  span.start_s = start_s;
  span.end_s = end.data();
  span.iterations = static_cast<int>(end.size());
  for (int i = 0; i < decodes; ++i) span.batch.AddDecode(100);
  span.kv_used_blocks = kv_blocks;
  return span;
}

TEST_F(TimeSeriesTest, OneRowPerInstanceAtTheFirstBoundaryOfEachTick) {
  FleetSpec fleet = OnePool();
  auto file = OutputFile::Create(Path());
  ASSERT_TRUE(file.ok());
  TimeSeriesRecorder recorder(fleet, /*interval_s=*/1.0, 100, file->get());
  const std::vector<double> a = {0.4}, b = {0.9}, c = {1.3}, d = {1.7},
                            run = {2.2, 2.6, 3.05, 3.5};
  recorder.OnIterations(Span(0, 0.0, a, 8, 250));  // row (first tick: 0)
  recorder.OnIterations(Span(0, 0.4, b, 8, 260));  // same tick: none
  recorder.OnIterations(Span(1, 0.0, b, 2, 10));   // instance 1: row
  recorder.OnIterations(Span(0, 0.9, c, 7, 270));  // tick 1: row
  recorder.OnIterations(Span(0, 1.3, d, 7, 280));  // none
  recorder.OnIdle(1, 0, 1.5, 0);                   // instance 1, tick 1: row
  // A decode run across ticks 2 and 3: one row, at its end.
  recorder.OnIterations(Span(0, 1.7, run, 6, 300));
  EXPECT_EQ(recorder.rows(), 5);
  EXPECT_FALSE(recorder.truncated());
  const auto rows = Rows(file->get());
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_THAT(rows[0],
              ::testing::ElementsAre("time_s", "instance", "pool",
                                     "batch_requests", "prefill_tokens",
                                     "decode_requests", "kv_used_blocks",
                                     "kv_used_fraction", "kv_used_gib"));
  EXPECT_THAT(rows[1], ::testing::ElementsAre("0.4", "0", "decode", "8", "0",
                                              "8", "250", "0.25",
                                              // 250 x 16 x 1 KiB
                                              "0.0038147"));
  EXPECT_EQ(rows[2][0], "0.9");
  EXPECT_EQ(rows[2][1], "1");
  EXPECT_EQ(rows[3][0], "1.3");
  EXPECT_EQ(rows[4][0], "1.5");
  EXPECT_EQ(rows[4][3], "0");  // idle
  EXPECT_EQ(rows[5][0], "3.5");
  EXPECT_EQ(rows[5][6], "300");
}

TEST_F(TimeSeriesTest, StopsAtTheRowCap) {
  FleetSpec fleet = OnePool();
  auto file = OutputFile::Create(Path());
  ASSERT_TRUE(file.ok());
  TimeSeriesRecorder recorder(fleet, 0.1, /*max_rows=*/3, file->get());
  std::vector<double> end(1);
  for (int i = 0; i < 10; ++i) {
    end[0] = 0.1 * i + 0.05;
    recorder.OnIterations(Span(0, end[0] - 0.01, end, 1, 1));
  }
  EXPECT_EQ(recorder.rows(), 3);
  EXPECT_TRUE(recorder.truncated());
  EXPECT_EQ(Rows(file->get()).size(), 4u);
}

}  // namespace
}  // namespace fleetsim::sim
