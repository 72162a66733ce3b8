#include "sim/router.h"

#include <algorithm>
#include <string>
#include <utility>

namespace fleetsim::sim {

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const FleetSpec& fleet, const std::vector<BatchScheduler*>& schedulers,
    StartTransfer start_transfer) {
  absl::StatusOr<const RoutingPolicyInfo*> info =
      FindRoutingPolicy(fleet.router, fleet.mixed_pool_prefill_queue_tokens);
  if (!info.ok()) return info.status();
  return std::unique_ptr<Router>(
      new Router(fleet, schedulers, *info, std::move(start_transfer)));
}

Router::Router(const FleetSpec& fleet,
               const std::vector<BatchScheduler*>& schedulers,
               const RoutingPolicyInfo* policy, StartTransfer start_transfer)
    : targets_(schedulers.size()),
      group_of_(schedulers.size(), -1),
      marked_(schedulers.size(), false),
      start_transfer_(std::move(start_transfer)) {
  int instances = static_cast<int>(schedulers.size());
  for (int i = 0; i < instances; ++i) {
    RouteTarget& target = targets_[i];
    target.index = i;
    target.scheduler = schedulers[i];
    target.scheduler->set_on_load_change([this, i] { MarkChanged(i); });
    if (target.scheduler->pool().role != v1::POOL_ROLE_DECODE) {
      entry_.push_back(&target);
      continue;
    }
    decoders_.push_back(&target);
    const std::string& pool = target.scheduler->pool().name;
    if (std::none_of(decode_pools_.begin(), decode_pools_.end(),
                     [&pool](const BatchScheduler* s) {
                       return s->pool().name == pool;
                     })) {
      decode_pools_.push_back(target.scheduler);
    }
    int64_t capacity = target.scheduler->pool().kv_capacity_blocks;
    auto group = std::find_if(groups_.begin(), groups_.end(),
                              [capacity](const DecodeGroup& g) {
                                return g.capacity_blocks == capacity;
                              });
    if (group == groups_.end()) {
      group = groups_.insert(
          groups_.end(), DecodeGroup{capacity,
                                     {LoadIndex(instances, LoadSignal::kKv),
                                      LoadIndex(instances, LoadSignal::kKv)}});
    }
    group_of_[i] = static_cast<int>(group - groups_.begin());
    Update(&target);
  }
  policy_ = policy->create(entry_, instances);
  if (fleet.mixed_pool_prefill_queue_tokens > 0) {
    mixed_pool_ = std::make_unique<MixedPool>(
        fleet.mixed_pool_prefill_queue_tokens, decoders_, instances);
  }
}

Router::~Router() {
  for (RouteTarget& target : targets_)
    target.scheduler->set_on_load_change(nullptr);
}

void Router::MarkChanged(int instance) {
  if (marked_[instance]) return;
  marked_[instance] = true;
  changed_.push_back(instance);
}

void Router::Refresh() {
  for (int instance : changed_) {
    marked_[instance] = false;
    Update(&targets_[instance]);
  }
  changed_.clear();
}

void Router::Update(RouteTarget* target) {
  if (group_of_[target->index] < 0) {
    policy_->LoadChanged(target);
    return;
  }
  if (mixed_pool_) mixed_pool_->LoadChanged(target);
  std::vector<LoadIndex>& with_room =
      groups_[group_of_[target->index]].with_room;
  for (bool lent : {false, true}) {
    if (target->lent == lent && target->scheduler->has_batch_room()) {
      with_room[lent].Put(target);
    } else {
      with_room[lent].Remove(target->index);
    }
  }
}

int Router::Route(LiveRequest* request) {
  Refresh();
  RouteTarget* target = policy_->Pick(*request);
  if (mixed_pool_) {
    target = mixed_pool_->Route(target, *request);
    MarkChanged(target->index);  // it may have been lent just now
  }
  request->prefill_instance = target->index;
  // Colocated, or a decode instance taking a prompt (mixed pool): it
  // decodes the request too.
  if (target->scheduler->pool().role != v1::POOL_ROLE_PREFILL)
    request->decode_instance = target->index;
  return target->index;
}

bool Router::CanEverDecode(const LiveRequest& request) const {
  const int64_t lifetime =
      int64_t{request.input_tokens} + request.output_tokens;
  return decode_pools_.empty() ||
         std::any_of(decode_pools_.begin(), decode_pools_.end(),
                     [lifetime](const BatchScheduler* s) {
                       return s->CanEverHold(lifetime);
                     });
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

RouteTarget* Router::DecoderFor(const LiveRequest& request, bool lent) {
  RouteTarget* best = nullptr;
  for (DecodeGroup& group : groups_) {
    RouteTarget* candidate = group.with_room[lent].Least();
    if (candidate == nullptr ||
        !candidate->scheduler->CanReserveForTransfer(request) ||
        !candidate->scheduler->CanEverHold(int64_t{request.input_tokens} +
                                           request.output_tokens)) {
      continue;
    }
    if (best == nullptr || candidate->KvLoad() < best->KvLoad() ||
        (candidate->KvLoad() == best->KvLoad() &&
         candidate->index < best->index)) {
      best = candidate;
    }
  }
  return best;
}

void Router::PlaceWaiting() {
  while (!waiting_.empty()) {
    Refresh();
    LiveRequest& request = *waiting_.front().second;
    RouteTarget* best = nullptr;
    for (bool lent : {false, true}) {
      best = DecoderFor(request, lent);
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
  if (targets_[instance].scheduler->pool().role != v1::POOL_ROLE_DECODE) return;
  ReturnIfEmpty(instance);
  if (!waiting_.empty()) PlaceWaiting();
}

void Router::ReturnIfEmpty(int instance) {
  if (!mixed_pool_ || !targets_[instance].lent) return;
  mixed_pool_->ReturnIfEmpty(&targets_[instance]);
  if (!targets_[instance].lent) MarkChanged(instance);  // returned now
}

}  // namespace fleetsim::sim
