// Idle slots run whole levels of what-ifs only (planner/speculation.h).
#include "planner/speculation.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

Candidate Fleet(int machines) {
  return {{v1::POOL_ROLE_COLOCATED, "h100", machines, 8}};
}

std::vector<int> Machines(const std::vector<Candidate>& fleets) {
  std::vector<int> out;
  for (const Candidate& c : fleets) out.push_back(c[0].machines);
  return out;
}

auto Unknown() {
  return [](const Candidate&) { return false; };
}

// With one search left and one idle slot, its next probe's two outcomes do
// not fit: running one of them is a bet that wasted half such runs.
TEST(SpeculationTest, APartOfALevelIsNotRun) {
  const WhatIfLevels search = {{Fleet(2), Fleet(3)},
                               {Fleet(4), Fleet(5), Fleet(6), Fleet(7)}};
  EXPECT_TRUE(WholeLevels({search}, 1, Unknown()).empty());
  EXPECT_EQ(Machines(WholeLevels({search}, 2, Unknown())),
            (std::vector<int>{2, 3}));
  EXPECT_EQ(Machines(WholeLevels({search}, 5, Unknown())),
            (std::vector<int>{2, 3}));
  EXPECT_EQ(Machines(WholeLevels({search}, 6, Unknown())),
            (std::vector<int>{2, 3, 4, 5, 6, 7}));
}

// A level spans every search: two searches' four what-ifs need four slots.
TEST(SpeculationTest, ALevelSpansEverySearch) {
  const WhatIfLevels a = {{Fleet(2), Fleet(3)}};
  const WhatIfLevels b = {{Fleet(12), Fleet(13)}};
  EXPECT_TRUE(WholeLevels({a, b}, 3, Unknown()).empty());
  EXPECT_EQ(Machines(WholeLevels({a, b}, 4, Unknown())),
            (std::vector<int>{2, 3, 12, 13}));
}

// Fleets already simulated or aside, and those two searches share, take no
// slot; a level with nothing new does not stop the next one.
TEST(SpeculationTest, KnownAndSharedFleetsTakeNoSlot) {
  const std::set<int> known = {2, 3};
  auto is_known = [&](const Candidate& c) {
    return known.count(c[0].machines) > 0;
  };
  const WhatIfLevels a = {{Fleet(2), Fleet(3)}, {Fleet(4), Fleet(5)}};
  const WhatIfLevels b = {{Fleet(3)}, {Fleet(5)}};
  EXPECT_EQ(Machines(WholeLevels({a, b}, 2, is_known)),
            (std::vector<int>{4, 5}));
}

}  // namespace
}  // namespace fleetsim::planner
