// File: tests/sim/fleet_fixture.h
//
// FleetTest: the shipped chip and model catalogs and ResolveFleet on a
// cluster file or an in-memory cluster, returning "OK" or the error text,
// with the last resolved fleet in last_; OnePool builds a one-pool cluster.
// Shared by the tests of sim/fleet.h (fleet_test.cc, fp4_pool_test.cc).
#ifndef FLEETSIM_TESTS_SIM_FLEET_FIXTURE_H_
#define FLEETSIM_TESTS_SIM_FLEET_FIXTURE_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "sim/fleet.h"
#include "util/textproto.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {

inline const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";
inline const std::string kBad =
    std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/sim";

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto chips = hardware::LoadChipCatalog(kData);
    ASSERT_TRUE(chips.ok()) << chips.status();
    chips_ = *chips;
    auto models = workloads::LoadModelCatalog(kData);
    ASSERT_TRUE(models.ok()) << models.status();
    models_ = *models;
  }

  // Resolves a cluster file for `model`; returns "OK" or the error text.
  std::string Resolve(const std::string& path, const std::string& model,
                      const std::vector<std::string>& overrides = {}) {
    v1::Cluster cluster;
    absl::Status status = ReadTextProtoFile(path, &cluster);
    if (!status.ok()) return std::string(status.message());
    return ResolveCluster(cluster, path, model, overrides);
  }
  // The same for a cluster already in memory, `origin` naming it.
  std::string ResolveCluster(const v1::Cluster& cluster,
                             const std::string& origin,
                             const std::string& model,
                             const std::vector<std::string>& overrides = {}) {
    auto fleet = ResolveFleet(cluster, origin, **models_.Find(model),
                              chips_.entries(), overrides);
    if (!fleet.ok()) return std::string(fleet.status().message());
    last_ = *fleet;
    return "OK";
  }

  hardware::ChipCatalog chips_;
  workloads::ModelCatalog models_;
  FleetSpec last_;
};

// One pool of `chip` at `tp` x `pp`, plus `extra` text-format Pool fields
// and `machine` text-format Machine fields (none: the chip's machine).
inline v1::Cluster OnePool(const std::string& chip, int tp, int pp,
                           const std::string& extra = "",
                           const std::string& machine = "") {
  v1::Cluster cluster;
  absl::Status status = ParseTextProto(
      absl::StrCat("pools { machine { chip: \"", chip, "\" ", machine,
                   " } machines: 1 tp: ", tp, " pp: ", pp, " ", extra, " }"),
      "one pool", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

}  // namespace fleetsim::sim

#endif  // FLEETSIM_TESTS_SIM_FLEET_FIXTURE_H_
