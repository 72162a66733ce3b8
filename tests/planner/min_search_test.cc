#include "planner/min_search.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

// Runs a search against "feasible from `threshold` on"; returns the probes.
int Solve(MinSearch* search, int threshold, int width, int* probes_used) {
  *probes_used = 0;
  while (!search->done()) {
    std::vector<int> probes = search->Probes(width);
    EXPECT_FALSE(probes.empty());
    EXPECT_LE(static_cast<int>(probes.size()), std::max(width, 1));
    for (int x : probes) search->Record(x, x >= threshold);
    *probes_used += static_cast<int>(probes.size());
  }
  return search->found() ? search->answer() : -1;
}

TEST(MinSearchTest, FindsTheThresholdForEveryWidth) {
  for (int width : {1, 2, 3, 8}) {
    for (int threshold = 3; threshold <= 40; ++threshold) {
      MinSearch search(3, 40);
      int used = 0;
      EXPECT_EQ(Solve(&search, threshold, width, &used), threshold)
          << "width " << width << " threshold " << threshold;
    }
  }
}

TEST(MinSearchTest, ReportsNothingFeasibleAfterOneProbe) {
  MinSearch search(1, 64);
  int used = 0;
  EXPECT_EQ(Solve(&search, 65, 1, &used), -1);
  EXPECT_EQ(used, 1);  // hi is probed first
}

TEST(MinSearchTest, BisectionIsLogarithmic) {
  MinSearch search(1, 64);
  int used = 0;
  Solve(&search, 37, 1, &used);
  EXPECT_LE(used, 8);  // hi + ceil(log2(64))
}

}  // namespace
}  // namespace fleetsim::planner
