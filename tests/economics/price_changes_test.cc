// What-if chip price changes: what they scale, what they replace, errors.
#include "economics/price_changes.h"

#include <string>

#include "economics/pricing.h"
#include "gmock/gmock.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "gtest/gtest.h"

namespace fleetsim::economics {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

hardware::ChipCatalog Catalog() {
  absl::StatusOr<hardware::ChipCatalog> chips =
      hardware::LoadChipCatalog(kData);
  EXPECT_TRUE(chips.ok()) << chips.status();
  return *chips;
}

google::protobuf::RepeatedPtrField<v1::ChipPriceChange> One(
    const v1::ChipPriceChange& change) {
  google::protobuf::RepeatedPtrField<v1::ChipPriceChange> changes;
  *changes.Add() = change;
  return changes;
}

TEST(PriceChangesTest, MultiplierScalesTheChipNotItsPlatform) {
  hardware::ChipCatalog chips = Catalog();
  const v1::Chip before = **chips.Find("h100");
  v1::ChipPriceChange change;
  change.set_chip("h100");
  change.set_multiplier(0.8);
  ASSERT_TRUE(ApplyPriceChanges(One(change), "test", &chips).ok());
  const v1::Chip& after = **chips.Find("h100");
  EXPECT_DOUBLE_EQ(after.pricing().purchase_usd().value(),
                   0.8 * before.pricing().purchase_usd().value());
  EXPECT_DOUBLE_EQ(
      after.pricing().rental_on_demand_usd_per_chip_hour().value(),
      0.8 * before.pricing().rental_on_demand_usd_per_chip_hour().value());
  EXPECT_DOUBLE_EQ(after.pricing().machine_platform_usd().value(),
                   before.pricing().machine_platform_usd().value());
  EXPECT_THAT(after.pricing().purchase_usd().source(), HasSubstr("x0.8"));
  // The die basis scales too (SPAD's derived cost, fixed at its new value).
  absl::StatusOr<PriceOnBasis> die_before =
      ChipPriceOnBasis(before, v1::COST_BASIS_DIE);
  absl::StatusOr<PriceOnBasis> die_after =
      ChipPriceOnBasis(after, v1::COST_BASIS_DIE);
  ASSERT_TRUE(die_before.ok() && die_after.ok());
  EXPECT_DOUBLE_EQ(die_after->per_chip, 0.8 * die_before->per_chip);
}

TEST(PriceChangesTest, ReplacementThenMultiplier) {
  hardware::ChipCatalog chips = Catalog();
  v1::ChipPriceChange change;
  change.set_chip("h200");
  change.mutable_purchase_usd()->set_value(30000);
  change.mutable_purchase_usd()->set_source("a quote");
  change.mutable_purchase_usd()->set_as_of("2026-01");
  change.set_multiplier(0.5);
  ASSERT_TRUE(ApplyPriceChanges(One(change), "test", &chips).ok());
  EXPECT_DOUBLE_EQ((*chips.Find("h200"))->pricing().purchase_usd().value(),
                   15000);
}

TEST(PriceChangesTest, ErrorsNameTheField) {
  hardware::ChipCatalog chips = Catalog();
  v1::ChipPriceChange change;
  change.set_chip("h200");
  change.mutable_purchase_usd()->set_value(30000);
  change.mutable_purchase_usd()->set_source("a quote");
  absl::Status status = ApplyPriceChanges(One(change), "variant 'x'", &chips);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("variant 'x': chip_prices[0]: field "
                                          "'purchase_usd.as_of' is missing"));

  change.mutable_purchase_usd()->set_as_of("2026-01");
  change.set_multiplier(-1);
  EXPECT_THAT(ApplyPriceChanges(One(change), "v", &chips).message(),
              HasSubstr("'multiplier' must be finite and >= 0"));

  v1::ChipPriceChange unknown;
  unknown.set_chip("b300");
  status = ApplyPriceChanges(One(unknown), "v", &chips);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("chip_prices[0].chip"));
  EXPECT_THAT(status.message(), HasSubstr("b300"));
}

}  // namespace
}  // namespace fleetsim::economics
