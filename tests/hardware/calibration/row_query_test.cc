// Tests for hardware/calibration/row_query.h (a calibration row -> the
// OperatorQuery that prices it).

#include "hardware/calibration/row_query.h"

#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

TEST(RowQueryTest, DecodeRowsSumContextOverRequests) {
  CalibrationRow r;
  r.set_op("attn_decode");
  r.set_op_class(OPERATOR_CLASS_ATTENTION_DECODE);
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
  CalibrationRow p = r;
  p.set_op("attn_prefill");
  p.set_op_class(OPERATOR_CLASS_ATTENTION_PREFILL);
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
  CalibrationRow p;
  p.set_op("attn_prefill");
  p.set_op_class(OPERATOR_CLASS_ATTENTION_PREFILL);
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

  CalibrationRow d = p;
  d.set_op("attn_decode");
  d.set_op_class(OPERATOR_CLASS_ATTENTION_DECODE);
  d.set_context_tokens(4095);
  d.set_window_tokens(128);
  d.set_dtype(DTYPE_BF16);
  d.set_kv_dtype(DTYPE_FP8);
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
  CalibrationRow r;
  r.set_op("mlp_act");
  r.set_op_class(OPERATOR_CLASS_ELEMENTWISE);
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

}  // namespace
}  // namespace fleetsim::hardware
