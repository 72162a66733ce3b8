#include "planner/min_search.h"

#include <algorithm>

namespace fleetsim::planner {
namespace {

// Least x in (miss, hit] with pred(x), given pred(miss) false and pred(hit)
// true (or hit past the range).
std::optional<int> Bisect(int miss, int hit, const MonotonePredicate& pred) {
  while (hit - miss > 1) {
    const int mid = miss + (hit - miss) / 2;
    std::optional<bool> holds = pred(mid);
    if (!holds) return std::nullopt;
    (*holds ? hit : miss) = mid;
  }
  return hit;
}

}  // namespace

std::optional<int> GallopUp(int lo, int hi, const MonotonePredicate& pred) {
  int miss = lo - 1;
  int step = 1;
  while (miss < hi) {
    const int x = std::min(hi, miss + step);
    std::optional<bool> holds = pred(x);
    if (!holds) return std::nullopt;
    if (*holds) return Bisect(miss, x, pred);
    miss = x;
    step *= 2;
  }
  return hi + 1;
}

std::optional<int> GallopDown(int lo, int hi, const MonotonePredicate& pred) {
  int hit = hi;
  int step = 1;
  while (hit > lo) {
    const int x = std::max(lo, hit - step);
    std::optional<bool> holds = pred(x);
    if (!holds) return std::nullopt;
    if (!*holds) return Bisect(x, hit, pred);
    hit = x;
    step *= 2;
  }
  return hit;
}

std::optional<int> GallopFrom(int lo, int hi, int guess,
                              const MonotonePredicate& pred) {
  if (lo > hi) return hi + 1;
  guess = std::clamp(guess, lo, hi);
  std::optional<bool> holds = pred(guess);
  if (!holds) return std::nullopt;
  return *holds ? GallopDown(lo, guess, pred) : GallopUp(guess + 1, hi, pred);
}

}  // namespace fleetsim::planner
