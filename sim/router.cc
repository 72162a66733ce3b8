#include "sim/router.h"

#include <utility>

namespace fleetsim::sim {

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const FleetSpec& fleet, const std::vector<BatchScheduler*>& schedulers,
    StartTransfer start_transfer) {
  absl::StatusOr<const RoutingPolicyInfo*> info =
      FindRoutingPolicy(fleet.router, fleet.mixed_pool_prefill_queue_tokens);
  if (!info.ok()) return info.status();
  return std::unique_ptr<Router>(new Router(
      fleet, schedulers, (*info)->create(), std::move(start_transfer)));
}

Router::Router(const FleetSpec& fleet,
               const std::vector<BatchScheduler*>& schedulers,
               std::unique_ptr<RoutingPolicy> policy,
               StartTransfer start_transfer)
    : targets_(schedulers.size()),
      policy_(std::move(policy)),
      start_transfer_(std::move(start_transfer)) {
  for (size_t i = 0; i < schedulers.size(); ++i) {
    RouteTarget& target = targets_[i];
    target.index = static_cast<int>(i);
    target.scheduler = schedulers[i];
    (target.scheduler->pool().role == POOL_ROLE_DECODE ? decoders_ : entry_)
        .push_back(&target);
  }
  if (fleet.mixed_pool_prefill_queue_tokens > 0) {
    mixed_pool_ = std::make_unique<MixedPool>(
        fleet.mixed_pool_prefill_queue_tokens, decoders_);
  }
}

int Router::Route(LiveRequest* request) {
  RouteTarget* target = policy_->Pick(*request, entry_);
  if (mixed_pool_) target = mixed_pool_->Route(target, *request);
  request->prefill_instance = target->index;
  // Colocated, or a decode instance taking a prompt (mixed pool): it
  // decodes the request too.
  if (target->scheduler->pool().role != POOL_ROLE_PREFILL)
    request->decode_instance = target->index;
  return target->index;
}

void Router::OnPrefillDone(int from, LiveRequestPtr request) {
  LiveRequest* raw = request.get();
  waiting_.emplace_back(from, std::move(request));
  PlaceWaiting();
  // The mixed pool, decode side. PlaceWaiting may have ended this actor's
  // turn (a transfer's start is a SimGrid call), so the request is looked
  // for where it was queued, at the back.
  if (mixed_pool_ && !waiting_.empty() && waiting_.back().second.get() == raw &&
      targets_[from].scheduler->KeepForDecode(&waiting_.back().second)) {
    raw->decode_instance = from;  // still alive: the scheduler owns it
    waiting_.pop_back();
  }
}

void Router::PlaceWaiting() {
  while (!waiting_.empty()) {
    LiveRequest& request = *waiting_.front().second;
    RouteTarget* best = nullptr;
    for (bool lent : {false, true}) {
      for (RouteTarget* candidate : decoders_) {
        if (candidate->lent == lent &&
            candidate->scheduler->CanReserveForTransfer(request) &&
            (best == nullptr || candidate->KvLoad() < best->KvLoad())) {
          best = candidate;
        }
      }
      if (best != nullptr || !mixed_pool_ || !mixed_pool_->any_lent()) break;
    }
    if (best == nullptr) return;
    best->scheduler->ReserveForTransfer(request);
    request.decode_instance = best->index;
    int from = waiting_.front().first;
    LiveRequestPtr moving = std::move(waiting_.front().second);
    waiting_.pop_front();
    // Last: the callback may end this actor's turn (see OnPrefillDone).
    start_transfer_(from, best->index, std::move(moving));
  }
}

void Router::AfterIteration(int instance) {
  if (targets_[instance].scheduler->pool().role != POOL_ROLE_DECODE) return;
  ReturnIfEmpty(instance);
  if (!waiting_.empty()) PlaceWaiting();
}

void Router::ReturnIfEmpty(int instance) {
  if (mixed_pool_) mixed_pool_->ReturnIfEmpty(&targets_[instance]);
}

}  // namespace fleetsim::sim
