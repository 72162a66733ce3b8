#include "util/json_writer.h"

#include <cmath>

#include "gtest/gtest.h"
#include "util/distribution.h"

namespace fleetsim {
namespace {

TEST(JsonWriterTest, NestedObjectsAreCompactWithoutIndent) {
  JsonWriter w(0);
  w.BeginObject();
  w.Field("requests", 3);
  w.Key("ttft_s");
  w.BeginObject();
  w.Field("p50", 0.5);
  w.EndObject();
  w.Field("name", "a\"b");
  w.Key("list");
  w.BeginArray();
  w.Int(1);
  w.Double(NAN);
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.str(),
            "{\"requests\":3,\"ttft_s\":{\"p50\":0.5},\"name\":\"a\\\"b\","
            "\"list\":[1,null]}\n");
}

TEST(JsonWriterTest, IndentedOutput) {
  JsonWriter w(2);
  w.BeginObject();
  w.Field("a", true);
  w.EndObject();
  EXPECT_EQ(w.str(), "{\n  \"a\": true\n}\n");
}

TEST(DistributionTest, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile([1..10], [50, 90, 99]) = 5.5, 9.1, 9.91
  std::vector<double> v = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  v1::Distribution d = Summarize(&v);
  EXPECT_DOUBLE_EQ(d.p50(), 5.5);
  EXPECT_NEAR(d.p90(), 9.1, 1e-12);
  EXPECT_NEAR(d.p99(), 9.91, 1e-12);
  EXPECT_DOUBLE_EQ(d.mean(), 5.5);
  EXPECT_EQ(d.count(), 10);
  EXPECT_DOUBLE_EQ(d.max(), 10);
}

TEST(DistributionTest, EmptySampleIsAllZero) {
  std::vector<double> v;
  v1::Distribution d = Summarize(&v);
  EXPECT_EQ(d.count(), 0);
  EXPECT_EQ(d.p99(), 0);
}

}  // namespace
}  // namespace fleetsim
