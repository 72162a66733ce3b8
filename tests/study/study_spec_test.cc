// Study files: loading, errors with file:line, and variant requests.
#include "study/study_spec.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_dir.h"
#include "util/textproto.h"

namespace fleetsim::study {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class StudySpecTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(scratch_.path().empty()); }

  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/study.txtpb";
    std::ofstream(path) << text;
    return path;
  }

  testutil::ScratchDir scratch_;
  const std::string dir_ = scratch_.path();
};

// A study's first 8 lines; `extra` goes inside base.
std::string Base(const std::string& extra = "") {
  return absl::StrCat(R"spec(
name: "s"
base {
  model: "llama-3-8b"
  workload { trace_path: "traces/t.csv" arrival: ARRIVAL_PROCESS_POISSON rate_per_s: 3 }
  slo_preset: "normal"
  chips: "h100")spec",
                      extra, "\n}\n");
}

TEST_F(StudySpecTest, RelativeTraceIsRelativeToTheStudyFile) {
  absl::StatusOr<v1::StudySpec> spec =
      LoadStudySpec(Write(Base() + "variants { name: \"a\" }\n"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->base().workload().trace_path(), dir_ + "/traces/t.csv");
}

TEST_F(StudySpecTest, ErrorsNameFileLineAndField) {
  const std::string path = Write(Base() +
                                 "variants { name: \"a\" }\n"  // line 9
                                 "variants {\n"                // line 10
                                 "  name: \"a\"\n"
                                 "}\n");
  absl::Status status = LoadStudySpec(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      status.message(),
      HasSubstr(path + ":11:3: variants[1] ('a'): field 'name' repeats"));

  status =
      LoadStudySpec(Write(Base() + "variants { name: \"a\" traffic_multiplier: "
                                   "-2 }\n"))
          .status();
  EXPECT_THAT(status.message(),
              HasSubstr(":9:22: variants[0] ('a'): field 'traffic_multiplier' "
                        "must be finite and >= 0"));

  status = LoadStudySpec(
               Write(Base() + "variants { name: \"a\" }\nbaseline: \"b\"\n"))
               .status();
  EXPECT_THAT(status.message(),
              HasSubstr(":10:1: field 'baseline' names no variant ('b')"));

  status =
      LoadStudySpec(Write(Base() + "variants { name: \"a b\" }\n")).status();
  EXPECT_THAT(status.message(), HasSubstr("[A-Za-z0-9_.-]"));

  status = LoadStudySpec(Write(Base())).status();
  EXPECT_THAT(status.message(), HasSubstr("field 'variants' is empty"));

  status =
      LoadStudySpec(Write(Base() + "variants { name: \"a\" }\nsensitivity { "
                                   "traffic: 1.5 }\n"))
          .status();
  EXPECT_THAT(
      status.message(),
      HasSubstr(":10:15: field 'sensitivity.traffic' must be in [0, 1)"));

  status =
      LoadStudySpec(Write(Base() + "variants { name: \"a\" chip_prices { chip: "
                                   "\"h100\" purchase_usd { value: 1 } } }\n"))
          .status();
  EXPECT_THAT(status.message(),
              HasSubstr("variants[0] ('a'): chip_prices[0]: field "
                        "'purchase_usd.source' is missing"));

  status = LoadStudySpec(Write(Base() + "variants { name: \"a\" bogus: 1 }\n"))
               .status();
  EXPECT_THAT(status.message(), HasSubstr(":9:"));
}

TEST_F(StudySpecTest, TheReallocationWhatIfIsNotAVariant) {
  absl::Status status =
      LoadStudySpec(Write(Base(" fixed_fleet { name: \"old\" }") +
                          "variants { name: \"a\" }\n"))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(status.message(), HasSubstr("fixed_fleet"));
  EXPECT_THAT(status.message(), HasSubstr("existing_pools"));
}

TEST(VariantRequestTest, AppliesTheVariantOverTheBase) {
  v1::StudySpec spec;
  ASSERT_TRUE(ParseTextProto(Base(" site { pue { value: 1.2 } }") + R"pb(
                               variants {
                                 name: "grown"
                                 traffic_multiplier: 2
                                 slo_preset: "strict"
                                 chips: [ "h100", "h200" ]
                                 cost_basis: COST_BASIS_RENTAL
                                 site { usd_per_kwh { value: 0.12 } }
                                 chip_prices { chip: "h200" multiplier: 0.8 }
                               }
                             )pb",
                             "test", &spec)
                  .ok());
  const v1::PlanRequest request = VariantRequest(spec, spec.variants(0));
  EXPECT_DOUBLE_EQ(request.workload().rate_per_s(), 6);
  EXPECT_EQ(request.slo_preset(), "strict");
  EXPECT_THAT(request.chips(), ElementsAre("h100", "h200"));
  EXPECT_EQ(request.cost_basis(), v1::COST_BASIS_RENTAL);
  EXPECT_EQ(request.objective(), v1::PLAN_OBJECTIVE_TCO);  // the study default
  EXPECT_DOUBLE_EQ(request.site().pue().value(), 1.2);
  EXPECT_EQ(request.site().pue().source(), "study assumption (base)");
  EXPECT_DOUBLE_EQ(request.site().usd_per_kwh().value(), 0.12);
  EXPECT_EQ(request.site().usd_per_kwh().source(),
            "study assumption (variant 'grown')");
  ASSERT_EQ(request.chip_prices_size(), 1);
  EXPECT_THAT(
      DescribeChanges(spec.variants(0)),
      ElementsAre("traffic x2", "SLO strict", "chips h100,h200",
                  "cost basis rental", "usd_per_kwh 0.12", "h200 price x0.8"));

  // The base is untouched by a variant with no changes.
  v1::StudyVariant same;
  same.set_name("same");
  const v1::PlanRequest base = VariantRequest(spec, same);
  EXPECT_DOUBLE_EQ(base.workload().rate_per_s(), 3);
  EXPECT_THAT(DescribeChanges(same), ElementsAre("as the base"));
}

TEST(VariantRequestTest, AVariantExtendsAnOwnedFleet) {
  v1::StudySpec spec;
  ASSERT_TRUE(ParseTextProto(Base() + R"pb(
                               variants {
                                 name: "extend"
                                 existing_pools {
                                   role: "colocated"
                                   chip: "h100"
                                   machines: 2
                                   tp: 8
                                 }
                               }
                             )pb",
                             "test", &spec)
                  .ok());
  const v1::PlanRequest request = VariantRequest(spec, spec.variants(0));
  ASSERT_EQ(request.existing_pools_size(), 1);
  EXPECT_EQ(request.existing_pools(0).machines(), 2);
  EXPECT_THAT(DescribeChanges(spec.variants(0)),
              ElementsAre("extends owned 2 h100 colocated tp8"));
}

TEST(ScaleTrafficTest, ResampledRateOrReplaySpeed) {
  v1::Workload resampled;
  resampled.set_arrival(v1::ARRIVAL_PROCESS_POISSON);
  resampled.set_rate_per_s(10);
  ScaleTraffic(1.5, &resampled);
  EXPECT_DOUBLE_EQ(resampled.rate_per_s(), 15);
  v1::Workload replay;
  ScaleTraffic(2, &replay);
  EXPECT_DOUBLE_EQ(replay.rate_scale(), 2);
  ScaleTraffic(2, &replay);
  EXPECT_DOUBLE_EQ(replay.rate_scale(), 4);
}

}  // namespace
}  // namespace fleetsim::study
