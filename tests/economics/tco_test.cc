// TCO arithmetic, worked by hand in the comments, and the refusal to price
// a chip without a price.
#include "economics/tco.h"

#include "economics/pricing.h"
#include "economics/site_assumptions.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "sim/catalogs.h"
#include "sim/fleet.h"
#include "util/textproto.h"

namespace fleetsim::economics {
namespace {

using ::testing::HasSubstr;

v1::SourcedValue Value(double value) {
  v1::SourcedValue v;
  v.set_value(value);
  v.set_source("test");
  return v;
}

v1::Chip PricedChip() {
  v1::Chip chip;
  chip.set_name("testchip");
  chip.set_tdp_w(700);
  chip.set_idle_power_w(70);
  chip.set_manufacturing_cost_usd(1000);
  v1::ChipPricing* pricing = chip.mutable_pricing();
  *pricing->mutable_purchase_usd() = Value(30000);
  *pricing->mutable_machine_platform_usd() = Value(100000);
  *pricing->mutable_rental_on_demand_usd_per_chip_hour() = Value(4);
  *pricing->mutable_rental_reserved_usd_per_chip_hour() = Value(2.5);
  *pricing->mutable_machine_platform_power_w() = Value(2000);
  return chip;
}

TcoSettings Settings(v1::CostBasis basis) {
  TcoSettings settings;
  settings.basis = basis;
  *settings.site.mutable_usd_per_kwh() = Value(0.10);
  *settings.site.mutable_pue() = Value(1.5);
  *settings.site.mutable_amortization_years() = Value(4);
  *settings.site.mutable_maintenance_fraction_per_year() = Value(0.05);
  return settings;
}

// Two 8-chip machines whose 16 chips averaged 400 W over a 100 s window.
std::vector<MachineGroup> TwoMachines(const v1::Chip* chip) {
  MachineGroup group;
  group.chip = chip;
  group.machines = 2;
  group.chips_per_machine = 8;
  group.accelerator_energy_j = 16 * 400.0 * 100;
  return {group};
}

TEST(TcoTest, ListBasisByHand) {
  const v1::Chip chip = PricedChip();
  absl::StatusOr<v1::Tco> tco =
      ComputeTco(TwoMachines(&chip), 100, 1000, Settings(v1::COST_BASIS_LIST));
  ASSERT_TRUE(tco.ok()) << tco.status();
  // capex: 2 x (8 x 30,000 + 100,000) = 680,000.
  EXPECT_DOUBLE_EQ(tco->capex_usd(), 680000);
  // IT power: 16 x 400 W + 2 x 2,000 W platform = 10,400 W; x PUE 1.5.
  EXPECT_DOUBLE_EQ(tco->it_power_w(), 10400);
  EXPECT_DOUBLE_EQ(tco->facility_power_w(), 15600);
  // 15.6 kW x 8,760 h = 136,656 kWh; x $0.10 = $13,665.60.
  EXPECT_NEAR(tco->energy_kwh_per_year(), 136656, 1e-6);
  EXPECT_NEAR(tco->energy_usd_per_year(), 13665.6, 1e-6);
  // Maintenance 5 % of capex = 34,000; no rent.
  EXPECT_DOUBLE_EQ(tco->maintenance_usd_per_year(), 34000);
  EXPECT_EQ(tco->rental_usd_per_year(), 0);
  EXPECT_NEAR(tco->opex_usd_per_year(), 47665.6, 1e-6);
  // 680,000 + 4 x 47,665.6 = 870,662.4 over 4 x 8,760 = 35,040 h.
  EXPECT_NEAR(tco->tco_usd(), 870662.4, 1e-6);
  EXPECT_NEAR(tco->usd_per_hour(), 870662.4 / 35040, 1e-9);
  // 1,000 tokens/s = 3.6 M tokens/h.
  EXPECT_NEAR(tco->usd_per_million_output_tokens(), 870662.4 / 35040 / 3.6,
              1e-9);
  EXPECT_EQ(tco->cost_basis(), v1::COST_BASIS_LIST);
  EXPECT_EQ(tco->site().pue().value(), 1.5);
}

TEST(TcoTest, RentalBasisChargesRentOnly) {
  const v1::Chip chip = PricedChip();
  absl::StatusOr<v1::Tco> tco = ComputeTco(TwoMachines(&chip), 100, 1000,
                                           Settings(v1::COST_BASIS_RENTAL));
  ASSERT_TRUE(tco.ok()) << tco.status();
  EXPECT_EQ(tco->capex_usd(), 0);
  EXPECT_EQ(tco->energy_usd_per_year(), 0);  // the rate includes power
  EXPECT_EQ(tco->maintenance_usd_per_year(), 0);
  // 16 chips x $4/h = $64/h = $560,640 a year.
  EXPECT_DOUBLE_EQ(tco->rental_usd_per_year(), 560640);
  EXPECT_DOUBLE_EQ(tco->tco_usd(), 4 * 560640.0);
  EXPECT_DOUBLE_EQ(tco->usd_per_hour(), 64);
  // Power is still reported.
  EXPECT_DOUBLE_EQ(tco->it_power_w(), 10400);

  tco = ComputeTco(TwoMachines(&chip), 100, 1000,
                   Settings(v1::COST_BASIS_RESERVED));
  ASSERT_TRUE(tco.ok()) << tco.status();
  EXPECT_DOUBLE_EQ(tco->usd_per_hour(), 16 * 2.5);
}

TEST(TcoTest, DieBasisUsesManufacturingCostWithoutPlatform) {
  const v1::Chip chip = PricedChip();
  absl::StatusOr<v1::Tco> tco =
      ComputeTco(TwoMachines(&chip), 100, 1000, Settings(v1::COST_BASIS_DIE));
  ASSERT_TRUE(tco.ok()) << tco.status();
  EXPECT_DOUBLE_EQ(tco->capex_usd(), 16 * 1000.0);
}

TEST(TcoTest, EmptyWindowChargesIdleDraw) {
  const v1::Chip chip = PricedChip();
  absl::StatusOr<v1::Tco> tco =
      ComputeTco(TwoMachines(&chip), 0, 0, Settings(v1::COST_BASIS_LIST));
  ASSERT_TRUE(tco.ok()) << tco.status();
  // 16 x 70 W idle + 2 x 2,000 W platform; no tokens, no $/Mtok.
  EXPECT_DOUBLE_EQ(tco->it_power_w(), 16 * 70.0 + 4000);
  EXPECT_EQ(tco->usd_per_million_output_tokens(), 0);
}

TEST(TcoTest, MissingPriceIsAnErrorNamingChipAndField) {
  v1::Chip chip = PricedChip();
  chip.mutable_pricing()->clear_purchase_usd();
  absl::StatusOr<v1::Tco> tco =
      ComputeTco(TwoMachines(&chip), 100, 1000, Settings(v1::COST_BASIS_LIST));
  ASSERT_FALSE(tco.ok());
  EXPECT_EQ(tco.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tco.status().message(), HasSubstr("'testchip'"));
  EXPECT_THAT(tco.status().message(), HasSubstr("pricing.purchase_usd"));
  // Other bases do not need a purchase price.
  EXPECT_TRUE(CheckPriced(chip, v1::COST_BASIS_RENTAL).ok());

  chip = PricedChip();
  chip.clear_manufacturing_cost_usd();
  EXPECT_THAT(CheckPriced(chip, v1::COST_BASIS_DIE).message(),
              HasSubstr("manufacturing_cost_usd or die_cost"));
  chip.mutable_pricing()->clear_rental_reserved_usd_per_chip_hour();
  EXPECT_THAT(CheckPriced(chip, v1::COST_BASIS_RESERVED).message(),
              HasSubstr("pricing.rental_reserved_usd_per_chip_hour"));
  chip.mutable_pricing()->clear_machine_platform_power_w();
  EXPECT_THAT(
      CheckTcoInputs(TwoMachines(&chip), Settings(v1::COST_BASIS_RENTAL))
          .message(),
      HasSubstr("pricing.machine_platform_power_w"));
}

TEST(TcoTest, NormalizedCostCountsReferenceMachines) {
  const v1::Chip chip = PricedChip();
  v1::Chip reference = PricedChip();
  *reference.mutable_pricing()->mutable_purchase_usd() = Value(15000);
  // Fleet 680,000 / reference machine (8 x 15,000 + 100,000 = 220,000).
  absl::StatusOr<double> cost =
      NormalizedFleetCost(TwoMachines(&chip), reference, v1::COST_BASIS_LIST);
  ASSERT_TRUE(cost.ok()) << cost.status();
  EXPECT_DOUBLE_EQ(*cost, 680000.0 / 220000);
}

TEST(TcoTest, SpadClusterCostsTableFourOnTheDieBasis) {
  const std::string data = std::string(FLEETSIM_SOURCE_DIR) + "/data";
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs =
      sim::Catalogs::Load(data);
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  const std::string path = data + "/clusters/spad.txtpb";
  v1::Cluster cluster;
  ASSERT_TRUE(ReadTextProtoFile(path, &cluster).ok());
  absl::StatusOr<sim::FleetSpec> fleet = sim::ResolveFleet(
      cluster, path, **(*catalogs)->models().Find("bloom-176b"),
      (*catalogs)->chips().entries(), {});
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  absl::StatusOr<const v1::Chip*> h100 = (*catalogs)->ReferenceChip();
  ASSERT_TRUE(h100.ok()) << h100.status();
  // 18 Prefill + 7 Decode machines cost 14.7 H100 machines (SPAD Table 4).
  absl::StatusOr<double> cost = NormalizedFleetCost(
      MachineGroupsOf(*fleet, nullptr), **h100, v1::COST_BASIS_DIE);
  ASSERT_TRUE(cost.ok()) << cost.status();
  EXPECT_NEAR(*cost, 14.7, 0.1);
}

TEST(TcoTest, OwnedMachinesAreSunkButMaintainedPoweredAndRented) {
  const v1::Chip chip = PricedChip();
  std::vector<MachineGroup> groups = TwoMachines(&chip);
  groups[0].owned_machines = 1;
  absl::StatusOr<v1::Tco> tco =
      ComputeTco(groups, 100, 1000, Settings(v1::COST_BASIS_LIST));
  ASSERT_TRUE(tco.ok()) << tco.status();
  // One machine to buy: 8 x 30,000 + 100,000 = 340,000; the owned one's
  // 340,000 is sunk and reported apart.
  EXPECT_DOUBLE_EQ(tco->capex_usd(), 340000);
  EXPECT_DOUBLE_EQ(tco->owned_capex_usd(), 340000);
  // Both machines draw power and are maintained: 5 % of 680,000.
  EXPECT_DOUBLE_EQ(tco->it_power_w(), 10400);
  EXPECT_DOUBLE_EQ(tco->maintenance_usd_per_year(), 34000);
  // 340,000 + 4 x (13,665.6 + 34,000).
  EXPECT_NEAR(tco->tco_usd(), 340000 + 4 * 47665.6, 1e-6);

  // Rent continues on every machine, owned (already rented) or not.
  tco = ComputeTco(groups, 100, 1000, Settings(v1::COST_BASIS_RENTAL));
  ASSERT_TRUE(tco.ok()) << tco.status();
  EXPECT_EQ(tco->owned_capex_usd(), 0);
  EXPECT_DOUBLE_EQ(tco->rental_usd_per_year(), 560640);

  // SPAD's unit counts what is still to pay.
  v1::Chip reference = PricedChip();
  *reference.mutable_pricing()->mutable_purchase_usd() = Value(15000);
  absl::StatusOr<double> cost =
      NormalizedFleetCost(groups, reference, v1::COST_BASIS_LIST);
  ASSERT_TRUE(cost.ok()) << cost.status();
  EXPECT_DOUBLE_EQ(*cost, 340000.0 / 220000);
  cost = NormalizedFleetCost(groups, reference, v1::COST_BASIS_RENTAL);
  ASSERT_TRUE(cost.ok()) << cost.status();
  EXPECT_DOUBLE_EQ(*cost, 2.0 * 8 * 4 / (8 * 4));
}

TEST(SiteAssumptionsTest, OverridesReplaceWholeValuesAndAreChecked) {
  const v1::SiteAssumptions base = Settings(v1::COST_BASIS_LIST).site;
  v1::SiteAssumptions overrides;
  overrides.mutable_pue()->set_value(1.2);
  overrides.mutable_pue()->set_source("my site");
  absl::StatusOr<v1::SiteAssumptions> site =
      WithOverrides(base, overrides, "--pue");
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ(site->pue().value(), 1.2);
  EXPECT_EQ(site->pue().source(), "my site");
  EXPECT_EQ(site->usd_per_kwh().value(), 0.10);

  overrides.mutable_pue()->set_value(0.5);
  site = WithOverrides(base, overrides, "--pue");
  ASSERT_FALSE(site.ok());
  EXPECT_THAT(site.status().message(), HasSubstr("'pue.value'"));
  EXPECT_THAT(site.status().message(), HasSubstr("--pue"));

  v1::SiteAssumptions nan_years;
  nan_years.mutable_amortization_years()->set_value(std::nan(""));
  EXPECT_FALSE(WithOverrides(base, nan_years, "x").ok());
  EXPECT_FALSE(ValidateSiteAssumptions(v1::SiteAssumptions(), "x").ok());
}

TEST(SiteAssumptionsTest, ShippedDefaultsLoad) {
  absl::StatusOr<v1::SiteAssumptions> site =
      LoadSiteAssumptions(FLEETSIM_SOURCE_DIR "/data");
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_FALSE(site->usd_per_kwh().source().empty());
  EXPECT_FALSE(site->pue().source().empty());
}

TEST(PricingTest, CostBasisNamesRoundTrip) {
  for (v1::CostBasis basis : {v1::COST_BASIS_LIST, v1::COST_BASIS_DIE,
                              v1::COST_BASIS_RENTAL, v1::COST_BASIS_RESERVED}) {
    absl::StatusOr<v1::CostBasis> parsed = ParseCostBasis(CostBasisName(basis));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, basis);
  }
  EXPECT_FALSE(ParseCostBasis("free").ok());
}

}  // namespace
}  // namespace fleetsim::economics

namespace fleetsim::economics {
namespace {

// Which shipped chips each basis can price: the catalog's prices are data
// with sources, so this pins what a user can plan with out of the box.
TEST(ShippedPricesTest, EachBasisPricesTheChipsItHasFiguresFor) {
  absl::StatusOr<hardware::ChipCatalog> catalog =
      hardware::LoadChipCatalog(FLEETSIM_SOURCE_DIR "/data");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  auto priced = [&](const char* name, v1::CostBasis basis) {
    return CheckTcoInputs({MachineGroup{*catalog->Find(name), 1, 8, 0}},
                          TcoSettings{basis, v1::SiteAssumptions()})
        .ok();
  };
  for (const char* chip : {"h100", "h100_pcap", "h200", "a100", "b200"}) {
    EXPECT_TRUE(priced(chip, v1::COST_BASIS_LIST)) << chip;
    EXPECT_TRUE(priced(chip, v1::COST_BASIS_RENTAL)) << chip;
  }
  for (const char* chip : {"h100", "h100_pcap", "a100"})
    EXPECT_TRUE(priced(chip, v1::COST_BASIS_RESERVED)) << chip;
  for (const char* chip : {"ascend_910b", "ascend_910c"}) {
    EXPECT_TRUE(priced(chip, v1::COST_BASIS_LIST)) << chip;
    EXPECT_FALSE(priced(chip, v1::COST_BASIS_RENTAL)) << chip;
  }
  for (const char* chip : {"spad_prefill", "spad_decode"}) {
    EXPECT_TRUE(priced(chip, v1::COST_BASIS_DIE)) << chip;
    EXPECT_FALSE(priced(chip, v1::COST_BASIS_LIST)) << chip;
  }
  EXPECT_FALSE(priced("b200", v1::COST_BASIS_DIE));  // die areas unpublished
}

}  // namespace
}  // namespace fleetsim::economics
