// Tests for sim/trace_events.h: the file is JSON in the Trace Event format
// (parsed back with protobuf's JSON parser), only the window is kept, and
// the event cap holds.
#include "sim/trace_events.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// A prefill pool and a decode pool of one instance each.
FleetSpec TwoPools() {
  FleetSpec fleet;
  fleet.disaggregated = true;
  for (const char* name : {"prefill", "decode"}) {
    PoolSpec& pool = fleet.pools.emplace_back();
    pool.name = name;
    pool.chip.set_name("h100");
    pool.machines = 1;
    pool.instances_per_machine = 1;
  }
  return fleet;
}

std::string Path() {
  return ::testing::TempDir() + "/trace_" + std::to_string(getpid()) + "_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() +
         ".json";
}

// The file as a JSON object; fails the test when it does not parse.
Struct Parse(const std::string& path) {
  Struct trace;
  auto status =
      google::protobuf::util::JsonStringToMessage(Slurp(path), &trace);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << Slurp(path);
  return trace;
}

std::vector<const Struct*> EventsWithPhase(const Struct& trace,
                                           const std::string& phase) {
  std::vector<const Struct*> events;
  for (const Value& v : trace.fields().at("traceEvents").list_value().values())
    if (v.struct_value().fields().at("ph").string_value() == phase)
      events.push_back(&v.struct_value());
  return events;
}

double Number(const Struct& event, const std::string& key) {
  return event.fields().at(key).number_value();
}

TEST(TraceEventsTest, WritesTheWindowsIterationsAndTransfers) {
  FleetSpec fleet = TwoPools();
  auto file = OutputFile::Create(Path());
  ASSERT_TRUE(file.ok());
  TraceEventRecorder trace(fleet, /*start_s=*/1.0, /*window_s=*/2.0, 100,
                           file->get());
  IterationSpan prefill;
  prefill.instance = 0;
  prefill.pool = 0;
  prefill.batch.AddPrefillChunk(512, 0);
  const std::vector<double> early = {0.9}, inside = {1.5};
  prefill.start_s = 0.5;
  prefill.end_s = early.data();  // starts before the window: dropped
  trace.OnIterations(prefill);
  prefill.start_s = 1.1;
  prefill.end_s = inside.data();
  trace.OnIterations(prefill);
  // A decode run of four iterations; the last starts at 3.0, past the end.
  IterationSpan decode;
  decode.instance = 1;
  decode.pool = 1;
  decode.batch.AddDecode(100);
  decode.batch.AddDecode(200);
  decode.kv_used_blocks = 21;
  const std::vector<double> run = {2.0, 2.5, 3.0, 3.5};
  decode.start_s = 1.6;
  decode.end_s = run.data();
  decode.iterations = 4;
  trace.OnIterations(decode);
  trace.OnKvTransfer({7, 0, 1, 1.5, 1.6, 1e6});
  trace.OnKvTransfer({8, 0, 1, 3.5, 3.6, 1e6});  // after the window
  trace.Finish();
  EXPECT_EQ(trace.events(), 6);  // 1 prefill + 3 decodes + b/e of one
  EXPECT_FALSE(trace.truncated());
  ASSERT_TRUE((*file)->Commit().ok());

  Struct parsed = Parse(Path());
  const auto complete = EventsWithPhase(parsed, "X");
  ASSERT_EQ(complete.size(), 4u);
  EXPECT_EQ(complete[0]->fields().at("name").string_value(), "prefill");
  EXPECT_DOUBLE_EQ(Number(*complete[0], "ts"), 1.1e6);
  EXPECT_DOUBLE_EQ(Number(*complete[0], "dur"), 0.4e6);
  EXPECT_DOUBLE_EQ(Number(*complete[0], "pid"), 1);
  const Struct& args = complete[0]->fields().at("args").struct_value();
  EXPECT_DOUBLE_EQ(Number(args, "prefill_tokens"), 512);
  EXPECT_EQ(complete[1]->fields().at("name").string_value(), "decode");
  EXPECT_DOUBLE_EQ(Number(*complete[1], "ts"), 1.6e6);
  EXPECT_DOUBLE_EQ(Number(*complete[2], "ts"), 2.0e6);
  EXPECT_DOUBLE_EQ(Number(*complete[3], "dur"), 0.5e6);
  EXPECT_DOUBLE_EQ(Number(*complete[3], "tid"), 1);
  EXPECT_DOUBLE_EQ(
      Number(complete[3]->fields().at("args").struct_value(), "batch_requests"),
      2);
  const auto begins = EventsWithPhase(parsed, "b");
  const auto ends = EventsWithPhase(parsed, "e");
  ASSERT_EQ(begins.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_DOUBLE_EQ(Number(*begins[0], "id"), 7);
  EXPECT_DOUBLE_EQ(Number(*ends[0], "ts"), 1.6e6);
  // Process names: both pools and the KV transfers.
  EXPECT_EQ(EventsWithPhase(parsed, "M").size(), 5u);  // 3 processes, 2 threads
  EXPECT_FALSE(parsed.fields()
                   .at("otherData")
                   .struct_value()
                   .fields()
                   .at("truncated")
                   .bool_value());
}

TEST(TraceEventsTest, StopsAtTheEventCapAndSaysSo) {
  FleetSpec fleet = TwoPools();
  auto file = OutputFile::Create(Path());
  ASSERT_TRUE(file.ok());
  TraceEventRecorder trace(fleet, 0, 100, /*max_events=*/3, file->get());
  IterationSpan span;
  span.batch.AddDecode(10);
  std::vector<double> end(1);
  for (int i = 0; i < 10; ++i) {
    span.start_s = i;
    end[0] = i + 0.5;
    span.end_s = end.data();
    trace.OnIterations(span);
  }
  trace.Finish();
  EXPECT_EQ(trace.events(), 3);
  EXPECT_TRUE(trace.truncated());
  ASSERT_TRUE((*file)->Commit().ok());
  Struct parsed = Parse(Path());
  EXPECT_EQ(EventsWithPhase(parsed, "X").size(), 3u);
  EXPECT_TRUE(parsed.fields()
                  .at("otherData")
                  .struct_value()
                  .fields()
                  .at("truncated")
                  .bool_value());
}

// Once an event did not fit, no later one is kept, even one that would:
// the file holds the events before the cut, with no gap.
TEST(TraceEventsTest, NothingAfterTheCutEvenWhatWouldFit) {
  FleetSpec fleet = TwoPools();
  auto file = OutputFile::Create(Path());
  ASSERT_TRUE(file.ok());
  TraceEventRecorder trace(fleet, 0, 100, /*max_events=*/4, file->get());
  IterationSpan span;
  span.batch.AddDecode(10);
  std::vector<double> end = {0.5};
  span.start_s = 0;
  span.end_s = end.data();
  trace.OnIterations(span);                      // 1 event
  trace.OnKvTransfer({1, 0, 1, 1.0, 1.1, 1e6});  // 2 more: 3
  trace.OnKvTransfer({2, 0, 1, 2.0, 2.1, 1e6});  // 2 more: over, cut here
  end[0] = 3.5;
  span.start_s = 3;
  trace.OnIterations(span);  // 1 would fit under a non-sticky check
  trace.Finish();
  EXPECT_TRUE(trace.truncated());
  EXPECT_EQ(trace.events(), 3);
  ASSERT_TRUE((*file)->Commit().ok());
  Struct parsed = Parse(Path());
  EXPECT_EQ(EventsWithPhase(parsed, "X").size(), 1u);
}

}  // namespace
}  // namespace fleetsim::sim
