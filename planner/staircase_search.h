// File: planner/staircase_search.h
//
// StaircaseSearch: the search for one system's minimal fleets on machine
// counts alone (docs/planner.md "Search"): the least colocated count n, or
// a disaggregated system's staircase - p_min, then d(p) for p upward until
// d reaches d_min or the next step is dominated. The planner
// (planner/planner.cc) turns counts into fleets and simulations into the
// results recorded here.
//
// The search is sequential and is rerun from the start over what the
// system's simulations said (FeasibilityMap, with what monotonicity
// implies) each time a result comes in; it stops at the first count pair
// it cannot answer, which is the next probe. Its probes depend on results
// only, never on the search width, so the fleets simulated do not depend
// on how many run at once. Neighbours (NeighbourHints) pick where a search
// starts, never what it finds.
#ifndef FLEETSIM_PLANNER_STAIRCASE_SEARCH_H_
#define FLEETSIM_PLANNER_STAIRCASE_SEARCH_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "planner/feasibility_map.h"

namespace fleetsim::planner {

class StaircaseSearch;

// What one system's search found that its neighbours start from: the
// least prefill count p_min (with plenty of decode machines) of each
// prefill pool (chip and layout), and the least decode count d_min (with
// plenty of prefill machines) of each decode pool. Systems that share a
// prefill pool nearly always share p_min, and those that share a decode
// pool d_min, so a neighbour's answer, checked by simulation, replaces a
// search from the capacity bound.
struct NeighbourHints {
  // The first search to register a prefill key searches its p_min from
  // the bound; the others wait for it (deterministically: every search
  // asks one fleet per round whatever the width).
  std::map<std::string, const StaircaseSearch*> p_leader;
  // The first search to register a decode key searches d_min first, from
  // the bound; the others start their d searches from its answer.
  std::map<std::string, const StaircaseSearch*> d_leader;
  std::map<std::string, int> p_min;
  std::map<std::string, int> d_min;
};

class StaircaseSearch final {
 public:
  using Point = std::pair<int, int>;  // (prefill, decode); colocated (n, 0)
  // Whether a staircase point found costs no more and draws no more TDP
  // than (p, d); non-decreasing in d.
  using Dominated =
      std::function<bool(int p, int d, const std::vector<Point>& staircase)>;

  // A colocated system: the least n in [lb, hi].
  static StaircaseSearch Colocated(int lb, int hi);
  // A disaggregated one: prefill in [p_lb, p_hi], decode in [d_lb, d_hi];
  // `p_key` and `d_key` name its prefill and decode pools for `hints`
  // (which must outlive it, as must the search at its registered address:
  // call Start once it is in place).
  StaircaseSearch(int p_lb, int p_hi, int d_lb, int d_hi, std::string p_key,
                  std::string d_key, Dominated dominated,
                  NeighbourHints* hints);
  // Registers with the hints and finds the first probe.
  void Start();

  bool done() const { return !next_ && !waiting_; }
  // Waiting for a neighbour's answer: nothing to simulate this round.
  bool waiting() const { return waiting_; }
  // The counts to simulate next. REQUIRES: !done() && !waiting().
  Point next() const { return *next_; }

  // Records whether next() met the SLO (if one was asked) and advances, or
  // looks again for the neighbour's answer it waits for.
  void Record(std::optional<bool> feasible);

  // Counts this search may ask for after next(), whichever way the probes
  // go: both outcomes of next(), then of those, breadth-first over
  // `levels` levels (what a pool's idle slots can run meanwhile), one list
  // per level.
  std::vector<std::vector<Point>> Speculate(int levels) const;

  // The minimal fleets found, once done(): the least n (colocated), or the
  // staircase; empty when nothing in range meets the SLO.
  const std::vector<Point>& found() const { return found_; }

 private:
  StaircaseSearch() = default;

  // Where a search run over some results stops.
  struct Step {
    std::optional<Point> next;  // the counts to simulate; none: see waiting
    bool waiting = false;       // for a neighbour's answer (else finished)
    std::vector<Point> found;   // when finished
  };
  using Ask = std::function<std::optional<bool>(int p, int d)>;

  // Runs the search from the start over `known`. What it finds goes to
  // the neighbour hints only when `publish` (not for a what-if).
  Step Replay(const FeasibilityMap& known, bool publish) const;
  void ReplayStaircase(const Ask& ask, bool publish, Step* step) const;
  std::optional<int> PMinFromHint(int h, int d_lo, int d_guess,
                                  const Ask& ask) const;
  void Advance();

  bool colocated_ = false;
  int p_lb_ = 1, p_hi_ = 1, d_lb_ = 1, d_hi_ = 1;
  std::string p_key_, d_key_;
  Dominated dominated_;
  NeighbourHints* hints_ = nullptr;
  FeasibilityMap known_;
  std::optional<Point> next_;
  bool waiting_ = false;
  std::vector<Point> found_;
};

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_STAIRCASE_SEARCH_H_
