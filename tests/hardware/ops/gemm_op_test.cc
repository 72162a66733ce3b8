// Tests for hardware/ops/gemm_op.h: the simulator and the calibration fit
// price every GEMM (projections, MLPs, LM head, MLA's absorbed per-head
// products, MoE routed and shared experts) alike, and the M-tile term.
#include "hardware/ops/gemm_op.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/hardware/ops/op_family_fixture.h"

namespace fleetsim::hardware {
namespace {

using family_test::CheckEveryModel;
using family_test::ExpectPricerAgrees;
using family_test::ExpectRowAgrees;
using family_test::FamilyBatches;
using family_test::FamilyModel;
using family_test::FamilyModels;
using family_test::ForEachSeenOp;
using family_test::SeenOp;
using family_test::SimulatorQueries;

bool IsGemm(const OperatorQuery& q) {
  return q.op_class == v1::OPERATOR_CLASS_GEMM ||
         q.op_class == v1::OPERATOR_CLASS_MOE;
}

TEST(GemmOpTest, SimulatorAndFitPriceEveryGemmAlike) {
  const std::map<std::string, int> checked = CheckEveryModel(IsGemm);
  for (const FamilyModel& fm : FamilyModels()) {
    EXPECT_GT(checked.at(fm.label), 0) << fm.label;
  }
}

TEST(GemmOpTest, Fp8WeightsPriceAlike) {
  v1::Model model =
      family_test::CatalogEntry<v1::Model>("data/models/llama-3-8b.txtpb");
  model.set_dtype(v1::DTYPE_FP8);
  const v1::Chip chip = family_test::H100();
  ASSERT_GT(chip.fp8_tflops(), 0);
  auto pricer = OperatorPricer::Create(chip);
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  const std::vector<SeenOp> seen =
      SimulatorQueries(model, chip, 1, 1, {}, FamilyBatches()[0]);
  EXPECT_GT(ExpectPricerAgrees(seen, *pricer, IsGemm, "fp8"), 0);
}

// A pool's MoE placement and routing reach the pricer through the query
// (moe_ep, moe_routing_alpha), so both users price them alike.
TEST(GemmOpTest, ExpertParallelAndPowerLawRoutingPriceAlike) {
  OperatorModelOptions o;
  o.expert_parallel = 8;  // = the tp below: whole experts on the tp chips
  o.moe_routing_alpha = 1.2;
  auto pricer = OperatorPricer::Create(family_test::H100(), o);
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  for (const char* name : {"mixtral-8x7b", "deepseek-v3"}) {
    const v1::Model model = family_test::CatalogEntry<v1::Model>(
        std::string("data/models/") + name + ".txtpb");
    for (const BatchShape& batch : FamilyBatches()) {
      const std::vector<SeenOp> seen =
          SimulatorQueries(model, family_test::H100(), 8, 1, o, batch);
      for (const SeenOp& s : seen) {
        if (s.name == "moe_experts") {
          EXPECT_EQ(s.query.moe_ep, 8) << name;
          EXPECT_EQ(s.query.moe_routing_alpha, 1.2) << name;
        }
      }
      EXPECT_GT(ExpectPricerAgrees(seen, *pricer, IsGemm, name), 0);
    }
  }
}

// The fit's row path: the GEMM row a profiler records for each of the
// simulator's single GEMMs (the schema has no per-head or expert GEMMs).
TEST(GemmOpTest, MeasuredRowsPriceAsTheSimulatorsInvocation) {
  int checked = 0;
  ForEachSeenOp(1, FamilyBatches(),
                [&checked](const FamilyModel& fm, const SeenOp& s) {
                  const OperatorQuery q = s.Query();
                  if (q.op_class != v1::OPERATOR_CLASS_GEMM || q.heads > 0)
                    return;
                  v1::CalibrationRow row;
                  row.set_op(s.name);
                  row.set_op_class(v1::OPERATOR_CLASS_GEMM);
                  row.set_tp(fm.tp);
                  row.set_dtype(v1::DTYPE_BF16);
                  row.set_m(q.m);
                  row.set_n(q.n);
                  row.set_k(q.k);
                  ExpectRowAgrees(row, q, fm.label + " " + s.name);
                  ++checked;
                });
  EXPECT_GT(checked, 50);
}

// Token rows run in 64- or 128-row tiles, so counts just above a multiple
// of 128 pay for padding (docs/calibration.md §4.1).
TEST(GemmOpTest, MTilesChargePaddedRows) {
  const double r = 24.9;  // the H100 fit's tile_overhead_rows
  const double c64 = (1 + r / 64) / (1 + r / 128);
  EXPECT_DOUBLE_EQ(GemmTileRows(32, r), 32 * c64);  // <= 64: unpadded
  EXPECT_DOUBLE_EQ(GemmTileRows(128, r), 128);
  EXPECT_DOUBLE_EQ(GemmTileRows(160, r), 192 * c64);  // 3 x 64 < 2 x 128
  EXPECT_DOUBLE_EQ(GemmTileRows(256, r), 256);
  EXPECT_DOUBLE_EQ(GemmTileRows(600, 0), 600);  // term off
  // Vidur's H100 fit: the GEMM default fitted on today's CUDA-graph GEMMs
  // has the term off.
  const OperatorModelOptions o = fleetsim::testutil::WithVidurGemm();
  ASSERT_DOUBLE_EQ(o.efficiency[v1::OPERATOR_CLASS_GEMM].tile_overhead_rows, r);
  auto pricer = OperatorPricer::Create(fleetsim::testutil::H100(), o);
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  auto gemm = [&](int64_t m, int64_t n, int64_t k) {
    OperatorQuery q;
    q.name = "o_proj";
    q.op_class = v1::OPERATOR_CLASS_GEMM;
    q.m = m;
    q.n = n;
    q.k = k;
    return pricer->Seconds(q);
  };
  // Llama-2-70B o_proj (n = k = 8192): 160 tokens cost more per token than
  // 256 (Vidur H100: 0.38 vs 0.25 us per token).
  EXPECT_GT(gemm(160, 8192, 8192) / 160, 1.2 * gemm(256, 8192, 8192) / 256);
  // Still never faster for more tokens.
  for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{
           {8192, 8192}, {1280, 8192}, {4096, 512}, {57344, 8192}}) {
    double previous = 0;
    for (int64_t m = 1; m <= 4096; ++m) {
      const double t = gemm(m, n, k);
      ASSERT_GE(t, previous) << "m " << m << " n " << n << " k " << k;
      previous = t;
    }
  }
}

// MLA's absorbed W_UK: one [m, d_nope] x [d_nope, r_kv] product per head.
TEST(GemmOpTest, BatchedGemmCountsEveryHead) {
  OperatorQuery s;
  s.op_class = v1::OPERATOR_CLASS_GEMM;
  s.heads = 16;
  s.k = 128;
  s.n = 512;
  const OpCost c = BatchedGemmCost(s, kDecodeRequests);
  EXPECT_EQ(c.flops[kDecodeRequests], 2.0 * 16 * 128 * 512);
  EXPECT_EQ(c.bytes[kOne], 2.0 * 16 * 128 * 512);  // bf16 weights
  EXPECT_EQ(c.bytes[kDecodeRequests], 2.0 * 16 * (128 + 512));
  EXPECT_FALSE(c.m_tiles);
  EXPECT_EQ(c.columns, 0);
}

}  // namespace
}  // namespace fleetsim::hardware
