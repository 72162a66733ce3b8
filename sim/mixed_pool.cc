#include "sim/mixed_pool.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace fleetsim::sim {

MixedPool::MixedPool(int64_t prefill_queue_tokens,
                     std::vector<RouteTarget*> decoders)
    : prefill_queue_tokens_(prefill_queue_tokens),
      decoders_(std::move(decoders)) {}

bool MixedPool::QueueLong(const RouteTarget& instance,
                          const LiveRequest& request) const {
  const BatchScheduler& s = *instance.scheduler;
  return s.has_waiting() && s.pending_prefill_tokens() + request.input_tokens >
                                prefill_queue_tokens_;
}

RouteTarget* MixedPool::Route(RouteTarget* best, const LiveRequest& request) {
  if (decoders_.empty() || !QueueLong(*best, request)) return best;
  RouteTarget* mixed = LeastLoaded(lent_, LoadSignal::kOutstanding);
  if (mixed != nullptr && !QueueLong(*mixed, request)) return mixed;
  RouteTarget* lend =
      LeastLoaded(decoders_, LoadSignal::kOutstanding, /*skip_lent=*/true);
  if (lend != nullptr && lend->scheduler->CanEverHold(request.input_tokens +
                                                      request.output_tokens)) {
    lend->lent = true;
    lent_.push_back(lend);
    return lend;
  }
  return mixed != nullptr &&
                 LeastLoaded({best, mixed}, LoadSignal::kOutstanding) == mixed
             ? mixed
             : best;
}

void MixedPool::ReturnIfEmpty(RouteTarget* instance) {
  if (!instance->lent || !instance->scheduler->idle()) return;
  instance->lent = false;
  auto it = std::find(lent_.begin(), lent_.end(), instance);
  assert(it != lent_.end());
  lent_.erase(it);
}

}  // namespace fleetsim::sim
