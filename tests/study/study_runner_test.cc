// A whole study on real simulations: two variants over two seeds (the
// shipped test study, tests/testdata/study/small.txtpb), the cache making
// the price-only variant free, savings, sensitivity, assumptions and
// provenance.
#include "study/study_runner.h"

#include <string>

#include "economics/site_assumptions.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "study/study_spec.h"

namespace fleetsim::study {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";
const std::string kSpec =
    std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/study/small.txtpb";

StudyOptions Options(int seeds) {
  StudyOptions options;
  options.data_dir = kData;
  options.seeds = seeds;
  options.jobs = 2;
  options.spec_path = kSpec;
  options.command_line = "fleetsim study --spec small.txtpb";
  return options;
}

const v1::Assumption* FindAssumption(const v1::StudyResult& result,
                                     const std::string& item,
                                     const std::string& scope) {
  for (const v1::Assumption& a : result.assumptions()) {
    if (a.item() == item && a.scope() == scope) return &a;
  }
  return nullptr;
}

TEST(StudyRunnerTest, TwoVariantsTwoSeeds) {
  absl::StatusOr<v1::StudySpec> spec = LoadStudySpec(kSpec);
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<v1::StudyResult> result = RunStudy(*spec, Options(2));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->variants_size(), 2);
  const v1::StudyVariantResult& today = result->variants(0);
  const v1::StudyVariantResult& dear = result->variants(1);
  EXPECT_EQ(result->baseline(), "today");
  EXPECT_TRUE(today.baseline());
  ASSERT_TRUE(today.feasible()) << today.explanation();
  ASSERT_TRUE(dear.feasible()) << dear.explanation();
  EXPECT_THAT(today.seeds(), testing::ElementsAre(1, 2));
  EXPECT_EQ(today.machines_per_seed_size(), 2);
  EXPECT_TRUE(today.recommended().robust());
  EXPECT_EQ(today.recommended().seeds_met(), 2);

  // The electricity variant simulates nothing: every fleet is re-priced.
  EXPECT_GT(today.simulations_run(), 0);
  EXPECT_EQ(dear.simulations_run(), 0);
  EXPECT_GT(dear.simulations_reused(), 0);
  EXPECT_EQ(dear.recommended().key(), today.recommended().key());

  // Same fleet, same energy; the TCO moves by kWh x price change x years.
  absl::StatusOr<v1::SiteAssumptions> site =
      economics::LoadSiteAssumptions(kData);
  ASSERT_TRUE(site.ok());
  const v1::Tco& a = today.recommended().tco();
  const v1::Tco& b = dear.recommended().tco();
  EXPECT_EQ(a.energy_kwh_per_year(), b.energy_kwh_per_year());
  EXPECT_EQ(a.capex_usd(), b.capex_usd());
  const double expected_delta = a.energy_kwh_per_year() *
                                (0.16 - site->usd_per_kwh().value()) *
                                a.amortization_years();
  EXPECT_NEAR(b.tco_usd() - a.tco_usd(), expected_delta, 1e-9 * b.tco_usd());
  ASSERT_TRUE(dear.saving().comparable());
  EXPECT_NEAR(dear.saving().tco_usd(),
              today.recommended().tco_usd().median() -
                  dear.recommended().tco_usd().median(),
              1e-6);
  EXPECT_LT(dear.saving().tco_usd(), 0);  // dearer power costs more

  // Tornado: traffic and energy (the spec swings both).
  ASSERT_EQ(result->sensitivity_size(), 2);
  const v1::SensitivityBar& traffic = result->sensitivity(0);
  const v1::SensitivityBar& energy = result->sensitivity(1);
  EXPECT_EQ(traffic.input(), "traffic");
  EXPECT_EQ(energy.input(), "energy_price");
  EXPECT_EQ(energy.low_multiplier(), 0.5);
  EXPECT_EQ(energy.high_multiplier(), 1.5);
  ASSERT_TRUE(energy.low_feasible() && energy.high_feasible());
  EXPECT_LT(energy.low_delta_usd(), 0);
  EXPECT_GT(energy.high_delta_usd(), 0);
  // Linear in the price with the fleet unchanged: a symmetric bar.
  EXPECT_NEAR(energy.low_delta_usd(), -energy.high_delta_usd(),
              1e-6 * energy.base_tco_usd());

  // Every figure's source is listed.
  const v1::Assumption* price =
      FindAssumption(*result, "h100 purchase_usd", "chip catalog");
  ASSERT_NE(price, nullptr);
  EXPECT_FALSE(price->value().source().empty());
  EXPECT_FALSE(price->value().as_of().empty());
  const v1::Assumption* kwh =
      FindAssumption(*result, "usd_per_kwh", "variant 'dear_power'");
  ASSERT_NE(kwh, nullptr);
  EXPECT_EQ(kwh->value().value(), 0.16);
  EXPECT_THAT(kwh->value().source(), HasSubstr("test assumption"));
  EXPECT_NE(FindAssumption(*result, "pue", "site default"), nullptr);

  const v1::Provenance& provenance = result->provenance();
  EXPECT_THAT(provenance.seeds(), testing::ElementsAre(1, 2));
  EXPECT_EQ(provenance.command_line(), "fleetsim study --spec small.txtpb");
  EXPECT_FALSE(provenance.commit().empty());
  ASSERT_GE(provenance.inputs_size(), 3);
  EXPECT_EQ(provenance.inputs(0).role(), "study");
  EXPECT_EQ(provenance.inputs(0).sha256().size(), 64u);
  EXPECT_EQ(provenance.inputs(1).role(), "trace");
}

TEST(StudyRunnerTest, SeedsNeedResampledArrivals) {
  absl::StatusOr<v1::StudySpec> spec = LoadStudySpec(kSpec);
  ASSERT_TRUE(spec.ok());
  spec->mutable_base()->mutable_workload()->clear_arrival();
  absl::Status status = RunStudy(*spec, Options(2)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("base.workload.arrival"));
  EXPECT_THAT(RunStudy(*spec, Options(0)).status().message(),
              HasSubstr("seeds must be in [1, 64]"));
}

TEST(StudyRunnerTest, BadVariantIsAnErrorNamingIt) {
  absl::StatusOr<v1::StudySpec> spec = LoadStudySpec(kSpec);
  ASSERT_TRUE(spec.ok());
  spec->mutable_variants(1)->add_chips("ascend_910c");
  spec->mutable_variants(1)->set_cost_basis(v1::COST_BASIS_RENTAL);
  absl::Status status = RunStudy(*spec, Options(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("variant 'dear_power': chip 'ascend_910c' has no "
                        "price for cost basis 'rental'"));
}

}  // namespace
}  // namespace fleetsim::study
