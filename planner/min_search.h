// File: planner/min_search.h
//
// The least integer x in a range with a monotone predicate true (false
// below some threshold, true from it on), searched one probe at a time so
// that the planner can rerun a search from the start over what it knows
// (planner/feasibility_map.h) and stop at the first probe still unknown.
// Galloping from the end nearest the expected answer costs O(log distance)
// probes rather than O(log range), and probes that miss are the cheap ones
// (a simulation stops once its miss is certain).
#ifndef FLEETSIM_PLANNER_MIN_SEARCH_H_
#define FLEETSIM_PLANNER_MIN_SEARCH_H_

#include <functional>
#include <optional>

namespace fleetsim::planner {

// The predicate at x: true, false, or nullopt while unknown (a probe to
// simulate; the search then stops and returns nullopt).
using MonotonePredicate = std::function<std::optional<bool>(int x)>;

// Least x in [lo, hi] with pred(x), hi + 1 when none; probes lo, lo + 2,
// lo + 6, lo + 14, ... (doubling steps past the last miss) until one
// holds, then bisects between it and the last miss. nullopt: a probe is
// unknown.
std::optional<int> GallopUp(int lo, int hi, const MonotonePredicate& pred);

// Least x in [lo, hi] with pred(x), where pred(hi) is known to hold;
// probes hi - 1, hi - 2, hi - 4, ... below the last hit until one misses,
// then bisects. nullopt: a probe is unknown.
std::optional<int> GallopDown(int lo, int hi, const MonotonePredicate& pred);

// Least x in [lo, hi] with pred(x), hi + 1 when none, for an answer
// expected near `guess` (clamped to the range): probes the guess, then
// gallops down from it when it holds, else up from guess + 1. A right
// guess costs two probes.
std::optional<int> GallopFrom(int lo, int hi, int guess,
                              const MonotonePredicate& pred);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_MIN_SEARCH_H_
