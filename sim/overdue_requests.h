// File: sim/overdue_requests.h
//
// OverdueRequests finds requests still in flight whose TTFT or E2E is
// already a certain SLO miss: a request that has waited past its limit
// (and past the histogram bucket holding the limit) will be reported above
// the limit whenever it finishes. Counting them lets the early stop decide
// an overloaded run from its queue, long before the requests waiting in it
// finish (SloEvaluator::MissDecided).
#ifndef FLEETSIM_SIM_OVERDUE_REQUESTS_H_
#define FLEETSIM_SIM_OVERDUE_REQUESTS_H_

#include <cstdint>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sim/live_request.h"

namespace fleetsim::sim {

class OverdueRequests final {
 public:
  // One SLO target this tracker watches.
  struct Rule {
    int target = 0;                  // index in Slo.targets
    bool until_first_token = false;  // TTFT; else E2E (until the last token)
    // A request is overdue once its elapsed seconds divided by its scale
    // (its reference latency for a slowdown bound, 1 for an absolute one)
    // reach this: LogHistogram::FirstValueReportedAbove(limit).
    double first_value_above = 0;
    double limit = 0;  // the bound itself, to check against what is reported
  };

  // At most kMaxRules rules (the rest are not watched: fewer early stops,
  // never a wrong one).
  static constexpr int kMaxRules = 64;
  // `targets`: the SLO's target count (every index overdue() may be asked).
  OverdueRequests(int targets, std::vector<Rule> rules);

  // Watches `request` (which must outlive Finished(request->id)) with one
  // scale per rule (the same order).
  void Watch(const LiveRequest* request, const std::vector<double>& scales);

  // Counts every watched request whose deadline passed by `now_s` and
  // that is still waiting for the rule's token.
  void AdvanceTo(double now_s);

  // The request finished and its values are observed: it no longer counts.
  void Finished(int64_t id);

  // Requests counted overdue for `target` and not yet finished (0 for a
  // target no rule watches).
  int64_t overdue(int target) const { return overdue_[target]; }

 private:
  struct Deadline {
    double at_s;
    int64_t id;
    int rule;
    double scale;  // the request's, for this rule (Watch)
    bool operator>(const Deadline& other) const {
      return at_s != other.at_s ? at_s > other.at_s : id > other.id;
    }
  };
  struct Watched {
    const LiveRequest* request;
    uint64_t counted_rules = 0;  // bit per rule
  };

  std::vector<Rule> rules_;
  std::vector<int64_t> overdue_;  // per target
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>>
      deadlines_;
  absl::flat_hash_map<int64_t, Watched> watched_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_OVERDUE_REQUESTS_H_
