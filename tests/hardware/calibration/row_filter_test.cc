// Tests for hardware/calibration/row_filter.h: --where conditions on
// CalibrationRow fields, and the split into priceable rows with reasons.
#include "hardware/calibration/row_filter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::hardware {
namespace {

using ::testing::HasSubstr;

v1::CalibrationRow Attention(int head_dim, v1::Dtype dtype,
                             const char* framework) {
  v1::CalibrationRow r;
  r.set_op("attn_prefill");
  r.set_op_class(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  r.set_dtype(dtype);
  r.set_framework(framework);
  r.set_batch(2);
  r.set_new_tokens(512);
  r.set_heads(32);
  r.set_kv_heads(8);
  r.set_head_dim(head_dim);
  r.set_median_s(2e-4);
  return r;
}

TEST(RowFilterTest, EqualityAlternativesAndNegation) {
  absl::StatusOr<RowFilter> f =
      RowFilter::Parse("head_dim=128, dtype=BF16, framework=vllm|sglang");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Matches(Attention(128, v1::DTYPE_BF16, "vllm")));
  EXPECT_TRUE(f->Matches(Attention(128, v1::DTYPE_BF16, "sglang")));
  EXPECT_FALSE(f->Matches(Attention(128, v1::DTYPE_BF16, "trtllm")));
  EXPECT_FALSE(f->Matches(Attention(64, v1::DTYPE_BF16, "vllm")));
  EXPECT_FALSE(f->Matches(Attention(128, v1::DTYPE_FP8, "vllm")));
  f = RowFilter::Parse("framework!=trtllm,op_class=attention_prefill");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->Matches(Attention(64, v1::DTYPE_FP8, "vllm")));
  EXPECT_FALSE(f->Matches(Attention(64, v1::DTYPE_FP8, "trtllm")));
  // Full enum names and the unset value.
  f = RowFilter::Parse("dtype=DTYPE_BF16,kv_dtype=,window_tokens=0");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->Matches(Attention(64, v1::DTYPE_BF16, "vllm")));
  EXPECT_TRUE(RowFilter().Matches(Attention(64, v1::DTYPE_BF16, "vllm")));
}

TEST(RowFilterTest, NumericComparisons) {
  absl::StatusOr<RowFilter> f = RowFilter::Parse("median_s>=1e-4,head_dim<256");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Matches(Attention(128, v1::DTYPE_BF16, "vllm")));
  EXPECT_FALSE(f->Matches(Attention(256, v1::DTYPE_BF16, "vllm")));
  v1::CalibrationRow fast = Attention(128, v1::DTYPE_BF16, "vllm");
  fast.set_median_s(5e-5);
  EXPECT_FALSE(f->Matches(fast));
}

TEST(RowFilterTest, BadConditionsNameThemselves) {
  EXPECT_THAT(RowFilter::Parse("head_dims=128").status().message(),
              HasSubstr("'head_dims' is not a CalibrationRow field"));
  EXPECT_THAT(RowFilter::Parse("head_dim").status().message(),
              HasSubstr("--where 'head_dim': expected field=value"));
  EXPECT_THAT(RowFilter::Parse("framework>trtllm").status().message(),
              HasSubstr("needs a numeric field"));
}

TEST(RowFilterTest, SplitPriceableCountsReasons) {
  v1::CalibrationRow ssm;  // Mamba-2 rows have no pricer yet
  ssm.set_op("ssm_prefill");
  ssm.set_op_class(v1::OPERATOR_CLASS_SSM);
  ssm.set_median_s(1e-4);
  PriceableSplit split =
      SplitPriceable({Attention(128, v1::DTYPE_BF16, "vllm"), ssm, ssm});
  ASSERT_EQ(split.rows.size(), 1u);
  ASSERT_EQ(split.skipped.size(), 1u);
  EXPECT_EQ(split.skipped[0].rows, 2);
  EXPECT_THAT(split.skipped[0].reason, HasSubstr("cannot be priced"));
}

}  // namespace
}  // namespace fleetsim::hardware
