// sim::Catalogs (sim/catalogs.h): one load of a data folder's chips and
// models, the reference chip, and an SLO's reference chip.
#include "sim/catalogs.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/reference_machine.h"

namespace fleetsim::sim {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

TEST(CatalogsTest, LoadsChipsAndModelsOfTheDataFolder) {
  absl::StatusOr<std::shared_ptr<const Catalogs>> catalogs =
      Catalogs::Load(kData);
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  EXPECT_EQ((*catalogs)->data_dir(), kData);
  EXPECT_TRUE((*catalogs)->chips().Find("a100").ok());
  EXPECT_TRUE((*catalogs)->models().Find("llama-2-70b").ok());
  absl::StatusOr<const v1::Chip*> reference = (*catalogs)->ReferenceChip();
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_EQ((*reference)->name(), hardware::kReferenceChip);
}

TEST(CatalogsTest, AnSloNamesItsReferenceChipOrGetsTheDefault) {
  absl::StatusOr<std::shared_ptr<const Catalogs>> catalogs =
      Catalogs::Load(kData);
  ASSERT_TRUE(catalogs.ok()) << catalogs.status();
  v1::Slo slo;
  absl::StatusOr<const v1::Chip*> chip = (*catalogs)->SloReferenceChip(slo);
  ASSERT_TRUE(chip.ok());
  EXPECT_EQ((*chip)->name(), "h100");
  slo.set_reference_chip("a100");
  chip = (*catalogs)->SloReferenceChip(slo);
  ASSERT_TRUE(chip.ok());
  EXPECT_EQ((*chip)->name(), "a100");
  slo.set_reference_chip("nope");
  EXPECT_THAT((*catalogs)->SloReferenceChip(slo).status().message(),
              HasSubstr("nope"));
}

TEST(CatalogsTest, AMissingFolderIsNotFound) {
  EXPECT_EQ(Catalogs::Load("/nonexistent/data").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fleetsim::sim
