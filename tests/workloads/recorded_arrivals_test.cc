#include "workloads/recorded_arrivals.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "workloads/request_source.h"

namespace fleetsim::workloads {
namespace {

std::string DataTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/" + name;
}

std::vector<Request> Drain(const v1::Workload& workload) {
  absl::StatusOr<std::unique_ptr<RequestSource>> source =
      RequestSource::Create(workload);
  EXPECT_TRUE(source.ok()) << source.status();
  std::vector<Request> out;
  Request request;
  while (source.ok()) {
    absl::StatusOr<bool> got = (*source)->Next(&request);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    out.push_back(request);
  }
  return out;
}

// What every run of a plan replays is what each would have drawn itself:
// the same requests in the same order, resampled or replayed.
TEST(RecordedArrivalsTest, HoldsTheSourcesStream) {
  v1::Workload resampled;
  resampled.set_trace_path(DataTrace("azure_2023_code.csv"));
  resampled.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  resampled.set_rate_per_s(70);
  resampled.set_duration_s(30);
  resampled.set_seed(3);
  v1::Workload replayed;
  replayed.set_trace_path(DataTrace("azure_2023_conv.csv"));
  replayed.set_start_s(100);
  replayed.set_duration_s(60);
  for (const v1::Workload& workload : {resampled, replayed}) {
    SCOPED_TRACE(workload.ShortDebugString());
    const std::vector<Request> drawn = Drain(workload);
    ASSERT_GT(drawn.size(), 100u);
    absl::StatusOr<std::shared_ptr<const RecordedArrivals>> recorded =
        RecordedArrivals::Record(workload, 1'000'000);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    ASSERT_NE(*recorded, nullptr);
    ASSERT_EQ((*recorded)->size(), static_cast<int64_t>(drawn.size()));
    int64_t multi_token = 0;
    Request got;
    got.prefix_block_hashes = {7};  // cleared by Get
    for (size_t i = 0; i < drawn.size(); ++i) {
      (*recorded)->Get(static_cast<int64_t>(i), &got);
      EXPECT_EQ(got.id, drawn[i].id);
      EXPECT_EQ(got.arrival_s, drawn[i].arrival_s);  // the very double
      EXPECT_EQ(got.input_tokens, drawn[i].input_tokens);
      EXPECT_EQ(got.output_tokens, drawn[i].output_tokens);
      EXPECT_TRUE(got.prefix_block_hashes.empty());
      multi_token += drawn[i].output_tokens >= 2 ? 1 : 0;
    }
    EXPECT_EQ((*recorded)->multi_token_requests(), multi_token);
  }
}

// Declined (null, not an error): a stream over the memory bound, or one
// with prefix-block hashes (the record keeps lengths and times only).
// The source's errors are the record's.
TEST(RecordedArrivalsTest, DeclinesLongStreamsAndPrefixHashes) {
  v1::Workload workload;
  workload.set_trace_path(DataTrace("azure_2023_code.csv"));
  workload.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  workload.set_rate_per_s(10);
  workload.set_duration_s(10);
  const int64_t requests = static_cast<int64_t>(Drain(workload).size());
  auto at_bound = RecordedArrivals::Record(workload, requests);
  ASSERT_TRUE(at_bound.ok()) << at_bound.status();
  EXPECT_NE(*at_bound, nullptr);
  auto over = RecordedArrivals::Record(workload, requests - 1);
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ(*over, nullptr);

  v1::Workload hashed;
  hashed.set_trace_path(DataTrace("mooncake_synthetic.jsonl"));
  hashed.set_format(v1::TRACE_FORMAT_MOONCAKE);
  ASSERT_FALSE(Drain(hashed).front().prefix_block_hashes.empty());
  auto declined = RecordedArrivals::Record(hashed, 1'000'000);
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(*declined, nullptr);

  v1::Workload missing = workload;
  missing.set_trace_path(DataTrace("no_such_trace.csv"));
  EXPECT_EQ(RecordedArrivals::Record(missing, 1'000'000).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fleetsim::workloads
