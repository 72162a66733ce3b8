// FP4 (NVFP4) weights per pool (sim/fleet.h ResolveFleet,
// hardware/model_footprint.h): refused on chips without an FP4 tensor peak
// at the line of weight_dtype; on B200 the FFN weights take 4.5 bits, so
// more KV fits and fewer chips hold DeepSeek-V3, and the FFN GEMMs run at
// the FP4 peak.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/latency_model.h"
#include "hardware/model_footprint.h"
#include "sim/pool_latency.h"
#include "tests/sim/fleet_fixture.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

// FP4 weights need the chip's FP4 tensor peak: refused, at the line of
// weight_dtype, on every catalog chip without one (never served in another
// precision instead).
TEST_F(FleetTest, Fp4WeightsNeedAnFp4TensorPeak) {
  EXPECT_THAT(Resolve(kBad + "/fp4_on_h200.txtpb", "deepseek-v3"),
              HasSubstr("fp4_on_h200.txtpb:9:3: pool 'colocated': field "
                        "'weight_dtype': FP4 weights, but chip 'h200' has no "
                        "FP4 tensor peak (fp4_tflops); serve it in FP8 or "
                        "BF16"));
  for (const char* chip : {"h100", "a100", "mi300x", "ascend_910c",
                           "spad_prefill", "spad_decode"}) {
    EXPECT_THAT(ResolveCluster(OnePool(chip, 8, 1, "weight_dtype: DTYPE_FP4"),
                               "c.txtpb", "llama-3-8b"),
                HasSubstr(absl::StrCat("field 'weight_dtype': FP4 weights, "
                                       "but chip '",
                                       chip, "' has no FP4 tensor peak")))
        << chip;
  }
  EXPECT_EQ(ResolveCluster(OnePool("b200", 8, 1, "weight_dtype: DTYPE_FP4"),
                           "c.txtpb", "llama-3-8b"),
            "OK");
}

// DeepSeek-V3 with FP4 weights on one 8 x B200 machine: NVFP4 FFNs, FP8
// elsewhere (383 GB instead of 671 GB), so more KV fits; its FFN GEMMs run
// at the FP4 peak (faster prefill), attention as in FP8.
TEST_F(FleetTest, Fp4WeightsHoldMoreKvAndRunTheFfnsAtTheFp4Peak) {
  ASSERT_EQ(ResolveCluster(OnePool("b200", 8, 1, "weight_dtype: DTYPE_FP8"),
                           "c", "deepseek-v3"),
            "OK");
  const PoolSpec fp8 = last_.pools[0];
  auto fp8_model = CreateLatencyModel(last_, fp8);
  ASSERT_EQ(ResolveCluster(OnePool("b200", 8, 1, "weight_dtype: DTYPE_FP4"),
                           "c", "deepseek-v3"),
            "OK");
  const PoolSpec fp4 = last_.pools[0];
  auto fp4_model = CreateLatencyModel(last_, fp4);
  ASSERT_TRUE(fp8_model.ok() && fp4_model.ok());
  v1::Model served = last_.model;
  served.set_dtype(v1::DTYPE_FP4);
  const double ffn = 3.0 * 3 * 7168 * 18432 + 58.0 * 257 * 3 * 7168 * 2048;
  EXPECT_DOUBLE_EQ(fp4.weight_bytes_per_instance,
                   hardware::ParameterCount(served) - ffn + 0.5625 * ffn);
  EXPECT_EQ(fp4.kv_bytes_per_token, fp8.kv_bytes_per_token);
  // The 287 GB saved hold that much more KV (MLA's latent, one copy per TP
  // rank): 1.78 M tokens against FP8's 1.27 M.
  EXPECT_GT(fp4.kv_capacity_tokens(), 1.3 * fp8.kv_capacity_tokens());
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(8192, 0);
  auto seconds_of = [&](const hardware::LatencyModel& m, std::string_view op) {
    for (const hardware::OperatorTime& t : m.Explain(prompt).ops)
      if (t.name == op) return t.seconds;
    return -1.0;
  };
  // The dense layers' MLP at 8192 tokens is compute-bound: FP4's peak is
  // twice FP8's at the same (carried-over) efficiency, so it takes little
  // more than half the time (the tile-loop latency and the weight reads
  // stay). The routed experts, bound by their weight and permutation
  // traffic under TP8, gain from the smaller weights; attention's
  // projections do not change.
  const double mlp_fp8 = seconds_of(**fp8_model, "mlp_up");
  ASSERT_GT(mlp_fp8, 0);
  EXPECT_LT(seconds_of(**fp4_model, "mlp_up"), 0.65 * mlp_fp8);
  EXPECT_GT(seconds_of(**fp4_model, "mlp_up"), 0.5 * mlp_fp8);
  EXPECT_LT(seconds_of(**fp4_model, "moe_experts"),
            seconds_of(**fp8_model, "moe_experts"));
  EXPECT_EQ(seconds_of(**fp4_model, "mla_q_b"),
            seconds_of(**fp8_model, "mla_q_b"));
  // Fewer chips hold it: on 4 B200s (tp 4) FP8's 671 GB leave 74 k tokens
  // of KV, FP4's 383 GB 1.1 M.
  ASSERT_EQ(ResolveCluster(OnePool("b200", 4, 1, "weight_dtype: DTYPE_FP8",
                                   "chips_per_machine: 4"),
                           "c", "deepseek-v3"),
            "OK");
  const int64_t fp8_on_4 = last_.pools[0].kv_capacity_tokens();
  ASSERT_EQ(ResolveCluster(OnePool("b200", 4, 1, "weight_dtype: DTYPE_FP4",
                                   "chips_per_machine: 4"),
                           "c", "deepseek-v3"),
            "OK");
  EXPECT_GT(last_.pools[0].kv_capacity_tokens(), 10 * fp8_on_4);
}

}  // namespace
}  // namespace fleetsim::sim
