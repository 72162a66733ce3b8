#include "util/field_checks.h"

#include <fstream>
#include <string>

#include "fleetsim/v1/cluster.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/textproto.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

const FieldRanges kRanges = {
    {"fleetsim.v1.Machine.chips_per_machine", 1, 1024},
    {"fleetsim.v1.Cluster.framework_layer_overhead_us", 0, 1e6, "microseconds"},
};

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CheckRangeNamesTest, NamesTheRangesOfNoField) {
  EXPECT_TRUE(CheckRangeNames(kRanges).ok());
  const absl::Status status =
      CheckRangeNames({{"fleetsim.v1.Machine.chips_per_machine", 1, 1024},
                       {"fleetsim.v1.Machine.chips_per_machin", 1, 1024}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(),
              HasSubstr("no field: fleetsim.v1.Machine.chips_per_machin"));
}

TEST(CheckFieldsTest, AcceptsValuesInRangeAndDefaults) {
  v1::Cluster cluster;
  cluster.add_pools()->mutable_machine()->set_chips_per_machine(8);
  cluster.add_pools();  // chips_per_machine 0 = unset, the default
  EXPECT_TRUE(CheckFields(cluster, "cluster", kRanges).ok());
}

TEST(CheckFieldsTest, NamesFileLineAndFieldOfEveryProblem) {
  std::string path = WriteFile("bad_cluster.txtpb", R"(name: "x"
pools {
  role: POOL_ROLE_PREFILL
  machine { chip: "h100" chips_per_machine: 8 }
}
pools {
  role: 99
  machine {
    chip: "h100"
    chips_per_machine: -1
    scale_out_gbytes_per_s: nan
  }
}
framework_layer_overhead_us: 1e306
)");
  v1::Cluster cluster;
  ASSERT_TRUE(ReadTextProtoFile(path, &cluster).ok());
  absl::Status status = CheckFields(cluster, path, kRanges);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr(path + ":7:3: field 'pools[1].role' has no value 99 "
                               "(one of POOL_ROLE_UNSPECIFIED"));
  EXPECT_THAT(status.message(),
              HasSubstr(path + ":10:5: field 'pools[1].machine."
                               "chips_per_machine' must be in [1, 1024] "
                               "(got -1)"));
  EXPECT_THAT(
      status.message(),
      HasSubstr(path + ":11:5: field 'pools[1].machine.scale_out_gbytes_per_s' "
                       "must be a finite number (got nan)"));
  EXPECT_THAT(
      status.message(),
      HasSubstr(path + ":14:1: field 'framework_layer_overhead_us' must "
                       "be in [0, 1e+06] (got 1e+306); microseconds"));
}

TEST(CheckFieldsTest, InMemoryMessagesAreNamedWithoutALine) {
  v1::Cluster cluster;
  cluster.set_framework_layer_overhead_us(-1);
  absl::Status status = CheckFields(cluster, "request.template_cluster", {});
  EXPECT_TRUE(status.ok());  // no range given: any finite value
  status = CheckFields(cluster, "request.template_cluster", kRanges);
  EXPECT_THAT(status.message(),
              HasSubstr("request.template_cluster: field "
                        "'framework_layer_overhead_us' must be in"));
}

}  // namespace
}  // namespace fleetsim
