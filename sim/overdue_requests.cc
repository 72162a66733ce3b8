#include "sim/overdue_requests.h"

#include <algorithm>
#include <utility>

#include "util/histogram.h"

namespace fleetsim::sim {

OverdueRequests::OverdueRequests(int targets, std::vector<Rule> rules)
    : rules_(std::move(rules)), overdue_(targets, 0) {
  if (rules_.size() > kMaxRules) rules_.resize(kMaxRules);
}

void OverdueRequests::Watch(const LiveRequest* request,
                            const std::vector<double>& scales) {
  watched_[request->id] = Watched{request};
  for (int r = 0; r < static_cast<int>(rules_.size()); ++r) {
    deadlines_.push(
        Deadline{request->arrival_s + rules_[r].first_value_above * scales[r],
                 request->id, r, scales[r]});
  }
}

void OverdueRequests::AdvanceTo(double now_s) {
  while (!deadlines_.empty() && deadlines_.top().at_s <= now_s) {
    const Deadline deadline = deadlines_.top();
    deadlines_.pop();
    auto it = watched_.find(deadline.id);
    if (it == watched_.end()) continue;  // finished before its deadline
    const LiveRequest& request = *it->second.request;
    const Rule& rule = rules_[deadline.rule];
    // When the rule's token comes, at the earliest: not before now (E2E:
    // a request still watched has not finished); for TTFT, the first token
    // once known, else the end of its prefill when that is past (a
    // disaggregated fleet may date the first token back to it,
    // Cluster.ttft_at_prefill_completion).
    double token_s = now_s;
    if (rule.until_first_token) {
      if (request.first_token_s >= 0) {
        token_s = request.first_token_s;
      } else if (request.prefill_done_s >= 0) {
        token_s = request.prefill_done_s;
      }
    }
    if (token_s < deadline.at_s) continue;  // in time, or not yet certain
    // What the request's value will be at least, in the rule's units; the
    // deadline was set so that it reports above the limit, checked here
    // against rounding (a request that does not is simply not counted).
    const double least = (token_s - request.arrival_s) / deadline.scale;
    if (!(LogHistogram::BucketValueOf(least) > rule.limit)) continue;
    it->second.counted_rules |= uint64_t{1} << deadline.rule;
    ++overdue_[rule.target];
  }
}

void OverdueRequests::Finished(int64_t id) {
  auto it = watched_.find(id);
  if (it == watched_.end()) return;
  for (int r = 0; r < static_cast<int>(rules_.size()); ++r) {
    if (it->second.counted_rules >> r & 1) --overdue_[rules_[r].target];
  }
  watched_.erase(it);
}

}  // namespace fleetsim::sim
