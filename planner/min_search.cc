#include "planner/min_search.h"

#include <algorithm>

namespace fleetsim::planner {

std::vector<int> MinSearch::Probes(int width) const {
  std::vector<int> probes;
  if (done()) return probes;
  int top = std::min(hi_, feasible_ - 1);
  if (!hi_tested_ && feasible_ > hi_) {
    probes.push_back(hi_);
    --width;
    top = hi_ - 1;
  }
  int span = top - lo_ + 1;
  if (span <= 0 || width <= 0) return probes;
  width = std::min(width, span);
  for (int i = 1; i <= width; ++i) {
    // Evenly spaced interior points; with width 1 the midpoint.
    int x = lo_ +
            static_cast<int>((static_cast<long long>(span) * i) / (width + 1));
    x = std::clamp(x, lo_, top);
    if (std::find(probes.begin(), probes.end(), x) == probes.end())
      probes.push_back(x);
  }
  return probes;
}

void MinSearch::Record(int x, bool feasible) {
  if (x == hi_) hi_tested_ = true;
  if (feasible) {
    feasible_ = std::min(feasible_, x);
  } else {
    lo_ = std::max(lo_, x + 1);
  }
}

}  // namespace fleetsim::planner
