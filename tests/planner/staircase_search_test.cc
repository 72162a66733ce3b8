// StaircaseSearch against a brute-force reading of its definition
// (docs/planner.md "Search") on random monotone feasibility, with
// neighbours whose answers differ (wrong hints must cost probes, never
// fleets).
#include "planner/staircase_search.h"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

using Point = StaircaseSearch::Point;

// Meets the SLO at (p, d) when p >= p0 and d >= floor_d[p] (non-increasing
// in p): monotone in both counts.
struct World {
  int p0 = 0;
  std::vector<int> floor_d;
  bool Feasible(int p, int d) const {
    return p >= p0 && d >= floor_d[std::min<size_t>(p, floor_d.size() - 1)];
  }
};

World RandomWorld(std::mt19937* rng, int p_max) {
  World world;
  world.p0 = std::uniform_int_distribution<int>(3, 12)(*rng);
  int d = std::uniform_int_distribution<int>(4, 30)(*rng);
  const int floor = std::uniform_int_distribution<int>(1, 4)(*rng);
  for (int p = 0; p <= p_max; ++p) {
    world.floor_d.push_back(d);
    if (p >= world.p0) {
      d = std::max(floor, d - std::uniform_int_distribution<int>(0, 6)(*rng));
    }
  }
  return world;
}

// Machines cost 1 (prefill) and 0.7 (decode); equal TDP per machine.
bool Dominated(int p, int d, const std::vector<Point>& found) {
  for (auto [sp, sd] : found) {
    if (sp + 0.7 * sd <= p + 0.7 * d && sp + sd <= p + d) return true;
  }
  return false;
}

// The definition, evaluated on every point it names.
std::vector<Point> Reference(const World& w, int p_lb, int p_hi, int d_lb,
                             int d_hi) {
  auto least = [](int lo, int hi, auto pred) {
    for (int x = lo; x <= hi; ++x) {
      if (pred(x)) return x;
    }
    return hi + 1;
  };
  const int p_min =
      least(p_lb, p_hi, [&](int p) { return w.Feasible(p, d_hi); });
  if (p_min > p_hi) return {};
  const int d_min =
      least(d_lb, d_hi, [&](int d) { return w.Feasible(p_hi, d); });
  std::vector<Point> staircase;
  int d_prev = d_hi;
  for (int p = p_min;; ++p) {
    int d = std::min(
        d_prev, least(d_min, d_prev, [&](int x) { return w.Feasible(p, x); }));
    staircase.push_back({p, d});
    if (d <= d_min || p + 1 > p_hi || Dominated(p + 1, d_min, staircase)) break;
    d_prev = d;
  }
  return staircase;
}

TEST(StaircaseSearchTest, FindsTheDefinedStaircaseWhateverTheNeighbours) {
  std::mt19937 rng(7);
  int probes = 0, reference_points = 0;
  for (int trial = 0; trial < 300; ++trial) {
    // Four prefill pools x four decode pools, as the SPAD search: every
    // system has its own world, so neighbours' answers differ.
    const int budget = std::uniform_int_distribution<int>(20, 60)(rng);
    NeighbourHints hints;
    std::vector<std::unique_ptr<StaircaseSearch>> searches;
    std::vector<World> worlds;
    std::vector<std::vector<Point>> expected;
    for (int pk = 0; pk < 4; ++pk) {
      for (int dk = 0; dk < 4; ++dk) {
        const int p_lb = std::uniform_int_distribution<int>(1, 5)(rng);
        const int d_lb = std::uniform_int_distribution<int>(1, 3)(rng);
        const int p_hi = budget - d_lb, d_hi = budget - p_lb;
        worlds.push_back(RandomWorld(&rng, budget));
        expected.push_back(Reference(worlds.back(), p_lb, p_hi, d_lb, d_hi));
        searches.push_back(std::make_unique<StaircaseSearch>(
            p_lb, p_hi, d_lb, d_hi, std::to_string(pk), std::to_string(dk),
            Dominated, &hints));
      }
    }
    for (auto& search : searches) search->Start();
    for (int round = 0;; ++round) {
      ASSERT_LT(round, 10000) << "no progress";
      std::vector<std::optional<bool>> answers(searches.size());
      bool any = false, all_done = true;
      for (size_t i = 0; i < searches.size(); ++i) {
        all_done &= searches[i]->done();
        if (searches[i]->done() || searches[i]->waiting()) continue;
        auto [p, d] = searches[i]->next();
        answers[i] = worlds[i].Feasible(p, d);
        ++probes;
        any = true;
      }
      if (all_done) break;
      ASSERT_TRUE(any) << "every search waits";
      for (size_t i = 0; i < searches.size(); ++i) {
        if (!searches[i]->done()) searches[i]->Record(answers[i]);
      }
    }
    for (size_t i = 0; i < searches.size(); ++i) {
      EXPECT_EQ(searches[i]->found(), expected[i])
          << "trial " << trial << " system " << i;
      reference_points += static_cast<int>(expected[i].size());
    }
  }
  // Far fewer probes than the grid; a few per point found.
  EXPECT_LT(probes, 12 * reference_points);
}

TEST(StaircaseSearchTest, ColocatedFindsTheLeastCount) {
  for (int least = 1; least <= 42; ++least) {
    StaircaseSearch search = StaircaseSearch::Colocated(3, 40);
    search.Start();
    while (!search.done()) search.Record(search.next().first >= least);
    std::vector<Point> expected;
    if (least <= 40) expected.push_back({std::max(least, 3), 0});
    EXPECT_EQ(search.found(), expected) << least;
  }
}

}  // namespace
}  // namespace fleetsim::planner
