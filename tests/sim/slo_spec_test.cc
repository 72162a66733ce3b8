#include "sim/slo_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

TEST(SloSpecTest, AbsoluteBoundsWithUnits) {
  absl::StatusOr<v1::Slo> slo =
      ParseSloSpec("ttft_p99=2s,tpot_p90=50ms, e2e_p50=1.5s,tbt_p99.9=800us");
  ASSERT_TRUE(slo.ok()) << slo.status();
  ASSERT_EQ(slo->targets_size(), 4);
  EXPECT_EQ(slo->targets(0).metric(), v1::SLO_METRIC_TTFT);
  EXPECT_EQ(slo->targets(0).percentile(), 99);
  EXPECT_DOUBLE_EQ(slo->targets(0).max_s(), 2.0);
  EXPECT_EQ(slo->targets(1).metric(), v1::SLO_METRIC_TPOT);
  EXPECT_DOUBLE_EQ(slo->targets(1).max_s(), 0.05);
  EXPECT_EQ(slo->targets(2).metric(), v1::SLO_METRIC_E2E);
  EXPECT_DOUBLE_EQ(slo->targets(2).max_s(), 1.5);
  EXPECT_EQ(slo->targets(3).metric(), v1::SLO_METRIC_TBT);
  EXPECT_DOUBLE_EQ(slo->targets(3).percentile(), 99.9);
  EXPECT_DOUBLE_EQ(slo->targets(3).max_s(), 800e-6);
}

TEST(SloSpecTest, SlowdownBounds) {
  absl::StatusOr<v1::Slo> slo = ParseSloSpec("ttft_p90=3x,tbt_p99=5x");
  ASSERT_TRUE(slo.ok()) << slo.status();
  EXPECT_EQ(slo->targets(0).max_slowdown(), 3);
  EXPECT_EQ(slo->targets(1).max_slowdown(), 5);
}

TEST(SloSpecTest, BadTargetsNameThemselves) {
  for (const char* bad :
       {"ttft_p99=2", "ttft_p99=-2s", "ttft_p0=2s", "ttft_p101=2s",
        "latency_p99=2s", "ttft=2s", "ttft_p99=0.5x", "ttft_p99=nanx",
        "ttft_p99=2s=3s", ","}) {
    absl::StatusOr<v1::Slo> slo = ParseSloSpec(bad);
    EXPECT_FALSE(slo.ok()) << bad;
    EXPECT_EQ(slo.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ParseSloSpec("ttft_p99=2s,tpot_p90=fast").status().message(),
              HasSubstr("'tpot_p90=fast'"));
  EXPECT_TRUE(IsSloSpec("ttft_p99=2s"));
  EXPECT_FALSE(IsSloSpec("normal"));
}

}  // namespace
}  // namespace fleetsim::sim
