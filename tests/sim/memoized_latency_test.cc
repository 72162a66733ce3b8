#include "sim/memoized_latency.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

// Every field matters, and the answer has no short exact form, so a wrong
// hit (a shape answered with another shape's time) shows.
class CountingLatency final : public hardware::LatencyModel {
 public:
  double IterationSeconds(const hardware::BatchShape& b) const override {
    ++calls;
    return 1e-3 + 1.1e-5 * static_cast<double>(b.prefill_tokens) +
           1.3e-9 * b.prefill_attention_pairs +
           1.7e-8 * static_cast<double>(b.prefill_context_tokens) +
           1.9e-4 * b.prefill_requests + 2.3e-4 * b.decode_requests +
           2.9e-8 * static_cast<double>(b.decode_context_tokens);
  }
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& b) const override {
    return {IterationSeconds(b), {}};
  }
  mutable int64_t calls = 0;
};

hardware::BatchShape Decode(int32_t requests, int64_t context) {
  hardware::BatchShape shape;
  shape.decode_requests = requests;
  shape.decode_context_tokens = context;
  return shape;
}

TEST(MemoizedLatencyTest, RepeatedShapeIsAskedOnceAndAnsweredIdentically) {
  CountingLatency model;
  MemoizedLatency memo(&model);
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(1000, 0);
  double first = memo.IterationSeconds(prefill);
  EXPECT_EQ(memo.IterationSeconds(prefill), first);
  EXPECT_EQ(first, model.IterationSeconds(prefill));
  EXPECT_EQ(memo.hits(), 1);
  EXPECT_EQ(memo.misses(), 1);
}

TEST(MemoizedLatencyTest, ShapesDifferingInOneFieldAreDistinct) {
  CountingLatency model;
  MemoizedLatency memo(&model);
  hardware::BatchShape base;
  base.AddPrefillChunk(512, 128);
  base.AddDecode(300);
  std::vector<hardware::BatchShape> shapes(7, base);
  ++shapes[1].prefill_requests;
  ++shapes[2].prefill_tokens;
  shapes[3].prefill_attention_pairs += 0.5;
  ++shapes[4].prefill_context_tokens;
  ++shapes[5].decode_requests;
  ++shapes[6].decode_context_tokens;
  for (int pass = 0; pass < 2; ++pass) {
    for (const hardware::BatchShape& shape : shapes) {
      EXPECT_EQ(memo.IterationSeconds(shape), model.IterationSeconds(shape));
    }
  }
  EXPECT_EQ(memo.misses(), 7);
  EXPECT_EQ(memo.hits(), 7);
}

TEST(MemoizedLatencyTest, CollisionsInATinyTableStayExact) {
  CountingLatency model;
  MemoizedLatency memo(&model, /*log2_slots=*/2);  // 4 slots
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int32_t> batch(1, 8);
  std::uniform_int_distribution<int64_t> context(1, 64);
  for (int i = 0; i < 20000; ++i) {
    hardware::BatchShape shape = Decode(batch(rng), context(rng));
    ASSERT_EQ(memo.IterationSeconds(shape), model.IterationSeconds(shape));
  }
  EXPECT_GT(memo.hits(), 0);
  EXPECT_GT(memo.misses(), 4);
  EXPECT_EQ(memo.hits() + memo.misses(), 20000);
}

}  // namespace
}  // namespace fleetsim::sim
