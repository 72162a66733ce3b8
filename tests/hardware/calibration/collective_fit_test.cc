// Tests for hardware/calibration/collective_fit.h (the all-reduce lines per
// rank count).
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/operator_model.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/calibration/calibration_rows.h"
#include "tests/hardware/cost_model_fixtures.h"

namespace fleetsim::hardware {
namespace {

using calibration_test::Synthetic;
using testutil::H100;

std::vector<v1::CalibrationRow> AllReduceSweep(int ranks) {
  std::vector<v1::CalibrationRow> rows;
  for (int64_t bytes = 1024; bytes <= (int64_t{1} << 30); bytes *= 4) {
    v1::CalibrationRow r;
    r.set_op("all_reduce");
    r.set_op_class(v1::OPERATOR_CLASS_COLLECTIVE);
    r.set_bytes(bytes);
    r.set_ranks(ranks);
    r.set_framework("nccl");
    r.set_median_s(1);
    rows.push_back(r);
  }
  return rows;
}

TEST(CollectiveFitTest, CollectiveFitRecoversTwoLinesPerRankCount) {
  v1::OperatorEfficiency truth;
  truth.set_op(v1::OPERATOR_CLASS_COLLECTIVE);
  for (auto [ranks, a, e, bulk_a, bulk_e] :
       std::vector<std::tuple<int, double, double, double, double>>{
           {2, 6, 0.25, 20, 0.65}, {8, 17, 0.45, 50, 0.95}}) {
    v1::CollectiveFit* f = truth.add_collective_fits();
    f->set_ranks(ranks);
    f->set_latency_us(a);
    f->set_bus_efficiency(e);
    f->set_bulk_latency_us(bulk_a);
    f->set_bulk_bus_efficiency(bulk_e);
  }
  auto generator = OperatorPricer::Create(WithEfficiency(H100(), truth));
  ASSERT_TRUE(generator.ok());
  std::vector<v1::CalibrationRow> rows = AllReduceSweep(2);
  for (const v1::CalibrationRow& r : AllReduceSweep(8)) rows.push_back(r);
  rows = Synthetic(*generator, rows, {});
  absl::StatusOr<ClassFit> fit =
      FitClass(H100(), v1::OPERATOR_CLASS_COLLECTIVE, rows);
  ASSERT_TRUE(fit.ok()) << fit.status();
  ASSERT_EQ(fit->efficiency.collective_fits_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const v1::CollectiveFit& got = fit->efficiency.collective_fits(i);
    const v1::CollectiveFit& want = truth.collective_fits(i);
    EXPECT_EQ(got.ranks(), want.ranks());
    EXPECT_NEAR(got.latency_us(), want.latency_us(), 0.03 * want.latency_us());
    EXPECT_NEAR(got.bus_efficiency(), want.bus_efficiency(),
                0.03 * want.bus_efficiency());
    EXPECT_NEAR(got.bulk_bus_efficiency(), want.bulk_bus_efficiency(),
                0.03 * want.bulk_bus_efficiency());
  }
  EXPECT_LT(fit->in_sample.p90_ape, 0.01);
  // Four ranks lie halfway in log(ranks): the lines' mean.
  const ClassEfficiency resolved =
      ResolveEfficiency(OperatorModelOptions(), WithEfficiency(H100(), truth),
                        v1::OPERATOR_CLASS_COLLECTIVE);
  const ClassEfficiency::CollectiveFit mid =
      CollectiveFitAt(resolved.collective_fits, 4);
  EXPECT_DOUBLE_EQ(mid.latency_s, 11.5e-6);
  EXPECT_DOUBLE_EQ(mid.bus_efficiency, 0.35);
  // Beyond the measured counts: the nearest.
  EXPECT_DOUBLE_EQ(CollectiveFitAt(resolved.collective_fits, 16).latency_s,
                   17e-6);
  // No all-reduce within a machine: nothing to fit.
  std::vector<v1::CalibrationRow> gathers = AllReduceSweep(2);
  for (v1::CalibrationRow& r : gathers) r.set_op("all_gather");
  EXPECT_EQ(
      FitClass(H100(), v1::OPERATOR_CLASS_COLLECTIVE, gathers).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetsim::hardware
