#include "planner/staircase_search.h"

#include <algorithm>

#include "planner/min_search.h"

namespace fleetsim::planner {

StaircaseSearch StaircaseSearch::Colocated(int lb, int hi) {
  StaircaseSearch search;
  search.colocated_ = true;
  search.p_lb_ = lb;
  search.p_hi_ = hi;
  return search;
}

StaircaseSearch::StaircaseSearch(int p_lb, int p_hi, int d_lb, int d_hi,
                                 std::string p_key, std::string d_key,
                                 Dominated dominated, NeighbourHints* hints)
    : p_lb_(p_lb),
      p_hi_(p_hi),
      d_lb_(d_lb),
      d_hi_(d_hi),
      p_key_(std::move(p_key)),
      d_key_(std::move(d_key)),
      dominated_(std::move(dominated)),
      hints_(hints) {}

void StaircaseSearch::Start() {
  if (!colocated_) {
    hints_->p_leader.emplace(p_key_, this);
    hints_->d_leader.emplace(d_key_, this);
  }
  Advance();
}

void StaircaseSearch::Record(std::optional<bool> feasible) {
  if (next_ && feasible) known_.Record(next_->first, next_->second, *feasible);
  if (!done()) Advance();
}

void StaircaseSearch::Advance() {
  Step step = Replay(known_, true);
  next_ = step.next;
  waiting_ = step.waiting;
  found_ = std::move(step.found);
}

std::vector<std::vector<StaircaseSearch::Point>> StaircaseSearch::Speculate(
    int levels) const {
  std::vector<std::vector<Point>> out;
  std::vector<std::pair<FeasibilityMap, Point>> frontier;
  if (next_) frontier.push_back({known_, *next_});
  for (int level = 0; level < levels && !frontier.empty(); ++level) {
    std::vector<Point> what_ifs;
    std::vector<std::pair<FeasibilityMap, Point>> deeper;
    for (const auto& [known, point] : frontier) {
      for (bool feasible : {false, true}) {
        FeasibilityMap what_if = known;
        what_if.Record(point.first, point.second, feasible);
        Step step = Replay(what_if, false);
        if (!step.next) continue;
        what_ifs.push_back(*step.next);
        deeper.push_back({std::move(what_if), *step.next});
      }
    }
    out.push_back(std::move(what_ifs));
    frontier = std::move(deeper);
  }
  return out;
}

StaircaseSearch::Step StaircaseSearch::Replay(const FeasibilityMap& known,
                                              bool publish) const {
  Step step;
  Ask ask = [&](int p, int d) -> std::optional<bool> {
    std::optional<bool> answer = known.Known(p, d);
    if (!answer && !step.next) step.next = Point{p, d};
    return answer;
  };
  if (colocated_) {
    // From the capacity bound up: the misses below the least fleet stop
    // early, and only the fleets from it on run to the end.
    std::optional<int> n =
        GallopUp(p_lb_, p_hi_, [&](int x) { return ask(x, 0); });
    if (n && *n <= p_hi_) step.found.push_back({*n, 0});
    return step;
  }
  ReplayStaircase(ask, publish, &step);
  return step;
}

// The staircase of docs/planner.md: p_min, the least prefill count that
// meets the SLO with d_hi decode machines; for p from p_min on, d(p), the
// least decode count that meets it, until d(p) reaches d_min (the least
// with p_hi prefill machines), p leaves the range, or even (p + 1, d_min)
// is dominated by a point found. Outside the leader of its decode pool,
// d_min is searched only when the cheaper tests (d(p) at its lower bound,
// domination at the lower bound) cannot end the walk.
void StaircaseSearch::ReplayStaircase(const Ask& ask, bool publish,
                                      Step* step) const {
  auto at_p_hi = [&](int d) { return ask(p_hi_, d); };
  auto at_d_hi = [&](int p) { return ask(p, d_hi_); };
  std::optional<int> d_min;
  if (hints_->d_leader.at(d_key_) == this) {
    // Its misses at p_hi bound every d(p) from below.
    d_min = GallopUp(d_lb_, d_hi_, at_p_hi);
    if (!d_min) return;
    if (publish) hints_->d_min.emplace(d_key_, *d_min);
    if (*d_min > d_hi_) return;  // nothing feasible
  }
  auto d_hint = hints_->d_min.find(d_key_);
  const int d_guess =
      d_hint == hints_->d_min.end() ? d_lb_ : std::max(d_lb_, d_hint->second);
  const int d_lo = d_min.value_or(d_lb_);
  auto p_hint = hints_->p_min.find(p_key_);
  const StaircaseSearch* leader = hints_->p_leader.at(p_key_);
  std::optional<int> p_min;
  if (p_hint != hints_->p_min.end()) {
    p_min = PMinFromHint(p_hint->second, d_lo, d_guess, ask);
  } else if (leader == this || leader->done()) {
    // The leader, or the next in line when the leader ended without a
    // p_min (its own decode pool never met the SLO).
    if (publish) hints_->p_leader[p_key_] = this;
    p_min = GallopUp(p_lb_, p_hi_, at_d_hi);
    if (p_min && publish) hints_->p_min.emplace(p_key_, *p_min);
  } else {
    step->waiting = true;  // for the leader's p_min
    return;
  }
  if (!p_min || *p_min > p_hi_) return;  // pending, or nothing feasible
  std::vector<Point> staircase;
  int d_prev = d_hi_;
  for (int p = *p_min;; ++p) {
    const int lo = p == *p_min ? d_lo : d_min.value_or(d_lb_);
    auto at_p = [&](int d) { return ask(p, d); };
    // d(p_min) from d_min's expected value (from below: the misses are
    // cheap); later ones from the previous step down, as the staircase
    // flattens.
    std::optional<int> d = p == *p_min ? GallopFrom(lo, d_prev, d_guess, at_p)
                                       : GallopDown(lo, d_prev, at_p);
    if (!d) return;
    staircase.push_back({p, *d});
    const int next_p = p + 1;
    // d_min >= d_lb_: the tests with d_min would stop too.
    if (*d <= d_lb_ || next_p > p_hi_ || dominated_(next_p, d_lb_, staircase))
      break;
    if (!d_min) {
      // (p_hi, d) meets the SLO, as (p, d) does.
      d_min = GallopFrom(d_lb_, *d - 1, d_guess, at_p_hi);
      if (!d_min) return;
      if (publish) hints_->d_min.emplace(d_key_, *d_min);
    }
    if (*d <= *d_min || dominated_(next_p, *d_min, staircase)) break;
    d_prev = *d;
  }
  step->found = std::move(staircase);
}

// p_min from a neighbour's answer h: (h - 1, d_hi) should miss, and the
// search for d(h) that follows anyway shows that h meets the SLO with d_hi
// decode machines (its first feasible probe implies it), so a right hint
// costs no probe of the largest decode pool. A wrong one is corrected by
// galloping on at d_hi.
std::optional<int> StaircaseSearch::PMinFromHint(int h, int d_lo, int d_guess,
                                                 const Ask& ask) const {
  auto at_d_hi = [&](int p) { return ask(p, d_hi_); };
  h = std::clamp(h, p_lb_, p_hi_);
  if (h > p_lb_) {
    std::optional<bool> below = ask(h - 1, d_hi_);
    if (!below) return std::nullopt;
    if (*below) return GallopDown(p_lb_, h - 1, at_d_hi);
  }
  std::optional<int> d_h =
      GallopFrom(d_lo, d_hi_, d_guess, [&](int d) { return ask(h, d); });
  if (!d_h) return std::nullopt;
  if (*d_h <= d_hi_) return h;
  return GallopUp(h + 1, p_hi_, at_d_hi);
}

}  // namespace fleetsim::planner
