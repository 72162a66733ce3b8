#include "sim/mixed_pool.h"

namespace fleetsim::sim {

MixedPool::MixedPool(int64_t prefill_queue_tokens,
                     const std::vector<RouteTarget*>& decoders, int instances)
    : prefill_queue_tokens_(prefill_queue_tokens),
      any_decoders_(!decoders.empty()),
      lent_(instances, LoadSignal::kOutstanding),
      not_lent_(instances, LoadSignal::kOutstanding),
      lent_rank_(instances, 0) {
  for (RouteTarget* decoder : decoders) not_lent_.Put(decoder);
}

bool MixedPool::QueueLong(const RouteTarget& instance,
                          const LiveRequest& request) const {
  const BatchScheduler& s = *instance.scheduler;
  return s.has_waiting() && s.pending_prefill_tokens() + request.input_tokens >
                                prefill_queue_tokens_;
}

RouteTarget* MixedPool::Route(RouteTarget* best, const LiveRequest& request) {
  if (!any_decoders_ || !QueueLong(*best, request)) return best;
  RouteTarget* mixed = lent_.Least();
  if (mixed != nullptr && !QueueLong(*mixed, request)) return mixed;
  RouteTarget* lend = not_lent_.Least();
  if (lend != nullptr && lend->scheduler->CanEverHold(request.input_tokens +
                                                      request.output_tokens)) {
    lend->lent = true;
    not_lent_.Remove(lend->index);
    lent_rank_[lend->index] = next_rank_++;
    lent_.Put(lend, lent_rank_[lend->index]);
    return lend;
  }
  // The prompt's choice wins a tie.
  return mixed != nullptr && mixed->OutstandingLoad() < best->OutstandingLoad()
             ? mixed
             : best;
}

void MixedPool::ReturnIfEmpty(RouteTarget* instance) {
  if (!instance->lent || !instance->scheduler->idle()) return;
  instance->lent = false;
  lent_.Remove(instance->index);
  not_lent_.Put(instance);
}

void MixedPool::LoadChanged(RouteTarget* decoder) {
  if (decoder->lent) {
    lent_.Put(decoder, lent_rank_[decoder->index]);
  } else {
    not_lent_.Put(decoder);
  }
}

}  // namespace fleetsim::sim
