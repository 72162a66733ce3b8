// Tests for sim/operator_totals.h: iterations and decode runs summed
// operator by operator, and a pool's and the fleet's MFU worked out by hand.
#include "sim/operator_totals.h"

#include <vector>

#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

// Two operators priced by hand: a GEMM of 1 ms and 1 GFLOP per token, and
// a decode attention of 1 us and 1 kFLOP per context token read; "gemm"
// is listed twice (two table entries, one operator).
class TwoOps final : public hardware::LatencyModel {
 public:
  double IterationSeconds(const hardware::BatchShape& b) const override {
    return 1e-3 * static_cast<double>(b.total_tokens()) +
           1e-6 * static_cast<double>(b.decode_context_tokens);
  }
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& b) const override {
    return {IterationSeconds(b), {}};
  }
  std::vector<hardware::OperatorLabel> OperatorLabels() const override {
    return {{"gemm", v1::OPERATOR_CLASS_GEMM},
            {"attn_decode", v1::OPERATOR_CLASS_ATTENTION_DECODE},
            {"gemm", v1::OPERATOR_CLASS_GEMM}};
  }
  double AddOperatorTotals(const hardware::BatchShape& b, double* seconds,
                           double* flops) const override {
    const double tokens = static_cast<double>(b.total_tokens());
    const double context = static_cast<double>(b.decode_context_tokens);
    seconds[0] += 0.5e-3 * tokens;
    seconds[2] += 0.5e-3 * tokens;
    flops[0] += 0.5e9 * tokens;
    flops[2] += 0.5e9 * tokens;
    seconds[1] += 1e-6 * context;
    flops[1] += 1e3 * context;
    return IterationSeconds(b);
  }
};

class NoOps final : public hardware::LatencyModel {
 public:
  double IterationSeconds(const hardware::BatchShape&) const override {
    return 1;
  }
  hardware::IterationBreakdown Explain(
      const hardware::BatchShape&) const override {
    return {};
  }
};

hardware::BatchShape Decode(int requests, int64_t context) {
  hardware::BatchShape b;
  for (int i = 0; i < requests; ++i) b.AddDecode(context);
  return b;
}

TEST(OperatorTotalsTest, APredictorWithoutOperatorsHasNone) {
  NoOps none;
  EXPECT_TRUE(OperatorTotals(&none).empty());
}

TEST(OperatorTotalsTest, SumsIterationsAndScalesADecodeRunToItsTime) {
  TwoOps model;
  OperatorTotals totals(&model);
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(100, 0);
  totals.AddIteration(prefill);  // 100 ms of GEMM, 100 GFLOP
  EXPECT_DOUBLE_EQ(totals.seconds()[0] + totals.seconds()[2], 0.1);
  EXPECT_DOUBLE_EQ(totals.tensor_flops()[0] + totals.tensor_flops()[2], 1e11);
  // A run of 3 decode iterations of 4 requests at a middle context of 999
  // (1000 rows read each): 4 ms GEMM + 4 ms attention per iteration, but
  // the run took 30 ms in all: seconds scale by 30 / 24, FLOPs by 3.
  totals.AddDecodeRun(Decode(4, 999), 3, 0.030);
  EXPECT_DOUBLE_EQ(totals.seconds()[1], 0.004 * 3 * 30.0 / 24.0);
  EXPECT_DOUBLE_EQ(totals.seconds()[0] + totals.seconds()[2],
                   0.1 + 0.004 * 3 * 30.0 / 24.0);
  EXPECT_DOUBLE_EQ(totals.tensor_flops()[1], 3 * 4e6);
  EXPECT_DOUBLE_EQ(totals.tensor_flops()[0] + totals.tensor_flops()[2],
                   1e11 + 3 * 4e9);
}

TEST(OperatorTotalsTest, PoolAndFleetMfuFromFlopsPeakAndBusyChipSeconds) {
  FleetSpec fleet;
  fleet.model.set_dtype(v1::DTYPE_BF16);
  PoolSpec bf16;
  bf16.name = "bf16";
  bf16.tp = 2;
  bf16.pp = 2;
  bf16.chip.set_bf16_tflops(100);
  bf16.chip.set_fp8_tflops(200);
  PoolSpec fp8 = bf16;
  fp8.name = "fp8";
  fp8.tp = 1;
  fp8.pp = 1;
  fp8.weight_dtype = v1::DTYPE_FP8;
  fleet.pools = {bf16, fp8};

  TwoOps model;
  OperatorTotals a(&model), b(&model);
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(1000, 0);
  a.AddIteration(prefill);  // 1 s, 1e12 FLOPs per rank
  b.AddIteration(prefill);
  v1::SimulationResult result;
  // bf16 pool: two instances (one without totals) busy 10 s in all; 2 x
  // 1e12 FLOPs per rank x 2 ranks over 100 TFLOP/s x 4 chips x 10 s.
  FillOperatorUsage(fleet, fleet.pools[0], {&a, &b, nullptr}, 10.0,
                    result.add_pools());
  const v1::PoolUsage& p0 = result.pools(0);
  ASSERT_EQ(p0.operators_size(), 2);  // "gemm" merged
  EXPECT_EQ(p0.operators(0).name(), "gemm");
  EXPECT_EQ(p0.operators(0).op_class(), v1::OPERATOR_CLASS_GEMM);
  EXPECT_DOUBLE_EQ(p0.operators(0).busy_s(), 2.0);
  EXPECT_DOUBLE_EQ(p0.operators(0).busy_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(p0.operators(0).tensor_flops(), 4e12);
  EXPECT_DOUBLE_EQ(p0.model_flops(), 4e12);
  EXPECT_DOUBLE_EQ(p0.peak_flops_per_chip_s(), 100e12);
  EXPECT_DOUBLE_EQ(p0.mfu(), 4e12 / (100e12 * 4 * 10.0));
  // fp8 pool: FP8's peak; 1e12 FLOPs over 200 TFLOP/s x 1 chip x 1 s.
  FillOperatorUsage(fleet, fleet.pools[1], {&a}, 1.0, result.add_pools());
  EXPECT_DOUBLE_EQ(result.pools(1).peak_flops_per_chip_s(), 200e12);
  EXPECT_DOUBLE_EQ(result.pools(1).mfu(), 1e12 / 200e12);

  FillFleetOperatorUsage(&result);
  ASSERT_EQ(result.operators_size(), 2);
  EXPECT_DOUBLE_EQ(result.operators(0).busy_s(), 3.0);
  EXPECT_DOUBLE_EQ(result.operators(0).tensor_flops(), 5e12);
  EXPECT_DOUBLE_EQ(result.mfu(), 5e12 / (100e12 * 4 * 10.0 + 200e12 * 1.0));
}

// Under expert parallelism an instance is ep x pp chips, each reporting its
// own share (a data-parallel attention group's, the routed experts' mean
// rank's): the pool's FLOPs and busy chip-seconds count all ep of them.
TEST(OperatorTotalsTest, ExpertParallelPoolsCountTheirEpChips) {
  FleetSpec fleet;
  fleet.model.set_dtype(v1::DTYPE_BF16);
  PoolSpec ep8;
  ep8.tp = 1;
  ep8.pp = 1;
  ep8.ep = 8;
  ep8.chip.set_bf16_tflops(100);
  fleet.pools = {ep8};
  TwoOps model;
  OperatorTotals a(&model);
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(1000, 0);
  a.AddIteration(prefill);  // 1 s, 1e12 FLOPs per rank
  v1::PoolUsage usage;
  FillOperatorUsage(fleet, fleet.pools[0], {&a}, 1.0, &usage);
  EXPECT_DOUBLE_EQ(usage.model_flops(), 8e12);
  EXPECT_DOUBLE_EQ(usage.mfu(), 8e12 / (100e12 * 8 * 1.0));
}

TEST(OperatorTotalsTest, NoTotalsLeavesThePoolUntouched) {
  FleetSpec fleet;
  fleet.pools.resize(1);
  v1::PoolUsage usage;
  FillOperatorUsage(fleet, fleet.pools[0], {nullptr}, 5.0, &usage);
  EXPECT_EQ(usage.operators_size(), 0);
  EXPECT_EQ(usage.mfu(), 0);
}

}  // namespace
}  // namespace fleetsim::sim
