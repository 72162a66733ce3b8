// Tests for hardware/calibration/row_query.h (a calibration row -> the
// OperatorQuery that prices it).

#include "hardware/calibration/row_query.h"

#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

TEST(RowQueryTest, DecodeRowsSumContextOverRequests) {
  v1::CalibrationRow r;
  r.set_op("attn_decode");
  r.set_op_class(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  r.set_batch(8);
  r.set_new_tokens(1);
  r.set_context_tokens(1000);  // cached, per request
  r.set_heads(32);
  r.set_kv_heads(4);
  r.set_head_dim(128);
  r.set_median_s(1e-4);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->requests, 8);
  EXPECT_EQ(q->context_tokens, 8 * 1001);  // as BatchShape::AddDecode
  v1::CalibrationRow p = r;
  p.set_op("attn_prefill");
  p.set_op_class(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  p.set_batch(2);
  p.set_new_tokens(100);
  p.set_context_tokens(50);
  q = QueryFromRow(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->new_tokens, 200);
  EXPECT_EQ(q->context_tokens, 300);
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * (100.0 * 50 + 100.0 * 101 / 2));
}

// Sliding windows (aiconfigurator's window_size): query i of a prompt with
// l cached tokens sees min(l + i, w) keys. l = 50, t = 100, w = 80: queries
// 1..30 see 51..80 keys (1965 pairs), queries 31..100 see 80 (5600); K/V
// rows read: the 50 cached (all within 80) + 100 new. Decode reads
// min(cached + 1, w) rows. A KV-cache dtype sets the KV bytes.
TEST(RowQueryTest, SlidingWindowsAndKvDtype) {
  v1::CalibrationRow p;
  p.set_op("attn_prefill");
  p.set_op_class(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  p.set_batch(2);
  p.set_new_tokens(100);
  p.set_context_tokens(50);
  p.set_heads(8);
  p.set_kv_heads(8);
  p.set_head_dim(128);
  p.set_window_tokens(80);
  p.set_median_s(1e-4);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * (1965.0 + 5600.0));
  EXPECT_EQ(q->context_tokens, 2 * 150);
  p.set_window_tokens(20);  // smaller than the cached prefix
  q = QueryFromRow(p);
  EXPECT_DOUBLE_EQ(q->attention_pairs, 2 * 100.0 * 20);
  EXPECT_EQ(q->context_tokens, 2 * 120);

  v1::CalibrationRow d = p;
  d.set_op("attn_decode");
  d.set_op_class(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  d.set_context_tokens(4095);
  d.set_window_tokens(128);
  d.set_dtype(v1::DTYPE_BF16);
  d.set_kv_dtype(v1::DTYPE_FP8);
  q = QueryFromRow(d);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->context_tokens, 2 * 128);
  EXPECT_DOUBLE_EQ(q->kv_bytes, 1);
  EXPECT_DOUBLE_EQ(q->weight_bytes, 2);
}

// A gated activation (SwiGLU) reads gate and up and writes one row; a
// non-gated one (phi-2's GELU) reads one and writes one, and both belong to
// the one activation operator the cost model charges.
TEST(RowQueryTest, UngatedActivationRowsMoveTwoRowsOfData) {
  v1::CalibrationRow r;
  r.set_op("mlp_act");
  r.set_op_class(v1::OPERATOR_CLASS_ELEMENTWISE);
  r.set_elements(64 * 10240);
  r.set_width(10240);
  r.set_tokens(64);
  r.set_median_s(1e-5);
  absl::StatusOr<OperatorQuery> gated = QueryFromRow(r);
  ASSERT_TRUE(gated.ok()) << gated.status();
  r.set_op("mlp_act_ungated");
  absl::StatusOr<OperatorQuery> ungated = QueryFromRow(r);
  ASSERT_TRUE(ungated.ok()) << ungated.status();
  EXPECT_DOUBLE_EQ(gated->io_rows, 3);
  EXPECT_DOUBLE_EQ(ungated->io_rows, 2);
  EXPECT_EQ(NamedOperatorIndex("mlp_act_ungated"),
            NamedOperatorIndex("mlp_act"));
}

// An MoE row (aiconfigurator's fused MoE: tokens into the layer, the
// expert width before the moe_tp split, experts over all EP ranks) prices
// the routed experts on one chip: gate, up and down (6 k n FLOPs per
// assignment) for this chip's share of the tokens x top_k assignments.
TEST(RowQueryTest, MoeRowsPriceThisChipsExperts) {
  v1::CalibrationRow r;
  r.set_op("moe");
  r.set_op_class(v1::OPERATOR_CLASS_MOE);
  r.set_tokens(64);
  r.set_hidden(4096);
  r.set_inter(14336);
  r.set_experts(8);
  r.set_top_k(2);
  r.set_moe_tp(2);
  r.set_moe_ep(1);
  r.set_routing("balanced");
  r.set_median_s(1e-4);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->experts, 8);
  EXPECT_EQ(q->top_k, 1);
  EXPECT_EQ(q->m, 128);  // 64 tokens x top-2
  EXPECT_EQ(q->k, 4096);
  EXPECT_EQ(q->n, 7168);
  auto pricer = OperatorPricer::Create(fleetsim::testutil::H100());
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  OperatorQuery filled;
  EXPECT_GT(pricer->Seconds(*q, &filled), 0);
  EXPECT_DOUBLE_EQ(filled.flops, 6.0 * 4096 * 7168 * 128);
  // All 8 experts' weights (bf16) stream once 128 assignments touch them
  // all (to within 1 - (7/8)^128), plus each assignment's activations (in
  // and out of the hidden width, gate, up and their product) and the
  // default fused entry's permutation traffic per hidden element per pair
  // (docs/calibration.md §4.4; one rank: the layer's pairs are its own).
  const ClassEfficiency moe =
      OperatorModelOptions::DefaultOperatorEfficiencies()[static_cast<int>(
          NamedOperator::kMoe)];
  EXPECT_NEAR(filled.bytes,
              8 * 2.0 * 3 * 4096 * 7168 + 128 * 2.0 * (2 * 4096 + 3 * 7168) +
                  128 * 4096 * (moe.local_pair_bytes + moe.layer_pair_bytes),
              1e-6 * filled.bytes);

  // DeepSeek-V3 over 16 EP ranks: 16 experts here, 3 tokens x top-8 = 24
  // assignments spread evenly, 1.5 of them (rounded to 2) on this chip,
  // touching as many experts; the layer holds 24 / 2 = 12 pairs per pair
  // computed here.
  r.set_hidden(7168);
  r.set_inter(2048);
  r.set_experts(256);
  r.set_top_k(8);
  r.set_moe_tp(1);
  r.set_moe_ep(16);
  r.set_tokens(3);
  q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->experts, 2);
  EXPECT_EQ(q->m, 2);
  EXPECT_EQ(q->n, 2048);
  EXPECT_TRUE(q->moe_spread);
  EXPECT_DOUBLE_EQ(q->moe_layer_pairs, 12.0);

  // Power-law routing: the measured rank is the most loaded one, so it
  // computes more than the balanced share (4096 x 8 / 16 = 2048 pairs).
  r.set_tokens(4096);
  r.set_routing("power_law");
  r.set_routing_alpha(1.2);
  q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_GT(q->m, 2048);
  EXPECT_DOUBLE_EQ(q->moe_layer_pairs, 4096.0 * 8 / q->m);
  r.set_routing_alpha(1.0);  // not a power law the collector draws
  EXPECT_EQ(QueryFromRow(r).status().code(),
            absl::StatusCode::kInvalidArgument);
  r.set_routing_alpha(1.2);

  r.set_moe_ep(512);  // more ranks than experts
  EXPECT_EQ(QueryFromRow(r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A Mamba-2 conv row (aiconfigurator's causal_conv1d_fn: `batch` prompts
// of `new_tokens`) prices the conv over heads x head_dim channels plus the
// B and C of every group; with its entry's 512-token prompt tiles two
// 128-token prompts move 2 x 512 rows of in + out activations.
TEST(RowQueryTest, SsmConvRowsPricePromptTiles) {
  v1::CalibrationRow r;
  r.set_op("ssm_conv");
  r.set_op_class(v1::OPERATOR_CLASS_SSM);
  r.set_batch(2);
  r.set_new_tokens(128);
  r.set_heads(64);
  r.set_head_dim(64);
  r.set_d_state(128);
  r.set_ssm_groups(8);
  r.set_chunk(256);
  r.set_conv_kernel(4);
  r.set_median_s(1e-5);
  absl::StatusOr<OperatorQuery> q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->width, 4096);
  EXPECT_EQ(q->new_tokens, 256);
  EXPECT_EQ(q->prefill_requests, 2);
  EXPECT_EQ(q->requests, 0);
  const double conv_dim = 4096 + 2 * 8 * 128;
  // The ssm_conv default tiles prompts (fitted, docs/calibration.md §4.5);
  // an entry with tile_q_rows 0 turns the tiles off.
  v1::Chip chip = fleetsim::testutil::H100();
  auto tiled = OperatorPricer::Create(chip);
  v1::OperatorEfficiency* ssm = chip.add_efficiency();
  ssm->set_op(v1::OPERATOR_CLASS_SSM);
  v1::OperatorEfficiency* conv = ssm->add_operators();
  conv->set_op_name("ssm_conv");
  conv->set_tile_q_rows(0);
  auto plain = OperatorPricer::Create(chip);
  ASSERT_TRUE(plain.ok() && tiled.ok());
  OperatorQuery a;
  OperatorQuery b;
  plain->Seconds(*q, &a);
  tiled->Seconds(*q, &b);
  EXPECT_DOUBLE_EQ(a.bytes, 256 * 2.0 * 2 * conv_dim);
  EXPECT_DOUBLE_EQ(b.bytes, 1024 * 2.0 * 2 * conv_dim);
  // Prompts longer than a tile move their own rows.
  r.set_new_tokens(4096);
  q = QueryFromRow(r);
  ASSERT_TRUE(q.ok()) << q.status();
  tiled->Seconds(*q, &b);
  EXPECT_DOUBLE_EQ(b.bytes, 8192 * 2.0 * 2 * conv_dim);
  r.set_conv_kernel(0);
  EXPECT_EQ(QueryFromRow(r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetsim::hardware
