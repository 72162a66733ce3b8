#include "planner/min_search.h"

#include <set>

#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

// "Feasible from `threshold` on", answering every probe at once; counts
// the probes.
struct Threshold {
  int threshold;
  int probes = 0;
  std::optional<bool> operator()(int x) {
    ++probes;
    return x >= threshold;
  }
};

TEST(MinSearchTest, GallopUpFindsEveryThreshold) {
  for (int threshold = 3; threshold <= 41; ++threshold) {
    Threshold pred{threshold};
    EXPECT_EQ(GallopUp(3, 40, std::ref(pred)), threshold) << threshold;
  }
}

TEST(MinSearchTest, GallopDownFindsEveryThreshold) {
  for (int threshold = 3; threshold <= 40; ++threshold) {
    Threshold pred{threshold};
    EXPECT_EQ(GallopDown(3, 40, std::ref(pred)), threshold) << threshold;
  }
}

TEST(MinSearchTest, ProbesGrowWithTheDistanceNotTheRange) {
  Threshold near{5};
  GallopUp(3, 1000, std::ref(near));
  EXPECT_LE(near.probes, 3);  // 3, 5, then 4
  Threshold far{37};
  GallopUp(1, 64, std::ref(far));
  EXPECT_LE(far.probes, 12);  // 2 log2(36)
  Threshold flat{39};
  GallopDown(3, 40, std::ref(flat));
  EXPECT_LE(flat.probes, 3);  // 39, 37, 38
}

TEST(MinSearchTest, GallopFromFindsEveryThresholdFromEveryGuess) {
  for (int threshold = 3; threshold <= 41; ++threshold) {
    for (int guess = 0; guess <= 45; ++guess) {
      Threshold pred{threshold};
      EXPECT_EQ(GallopFrom(3, 40, guess, std::ref(pred)), threshold)
          << threshold << " from " << guess;
      if (guess == threshold && threshold > 3 && threshold <= 40) {
        EXPECT_EQ(pred.probes, 2);
      }
    }
  }
}

TEST(MinSearchTest, StopsAtTheFirstUnknownProbe) {
  std::set<int> known = {10, 12, 16};
  int unknown = -1;
  auto pred = [&](int x) -> std::optional<bool> {
    if (!known.count(x)) {
      unknown = x;
      return std::nullopt;
    }
    return x >= 14;
  };
  EXPECT_EQ(GallopUp(10, 40, pred), std::nullopt);
  EXPECT_EQ(unknown, 14);  // 10, 12 miss, 16 holds; then (12, 16)'s 14
}

}  // namespace
}  // namespace fleetsim::planner
