// File: planner/min_search.h
//
// MinSearch: the least integer x in [lo, hi] with a monotone predicate
// true (false below some threshold, true from it on), found by k-ary
// bisection so that several probes can be simulated at once.
#ifndef FLEETSIM_PLANNER_MIN_SEARCH_H_
#define FLEETSIM_PLANNER_MIN_SEARCH_H_

#include <vector>

namespace fleetsim::planner {

class MinSearch final {
 public:
  MinSearch() = default;
  MinSearch(int lo, int hi) : lo_(lo), hi_(hi), feasible_(hi + 1) {}

  // Up to `width` untested points to probe next; always includes `hi` until
  // it has been tested (to learn early that nothing in range is feasible).
  std::vector<int> Probes(int width) const;
  void Record(int x, bool feasible);

  bool done() const { return lo_ >= feasible_ || lo_ > hi_; }
  bool found() const { return feasible_ <= hi_; }
  int answer() const { return feasible_; }  // REQUIRES: found()

 private:
  int lo_ = 0;  // every x < lo_ is infeasible
  int hi_ = -1;
  int feasible_ = 0;  // least x known feasible (hi_ + 1 = none yet)
  bool hi_tested_ = false;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_MIN_SEARCH_H_
