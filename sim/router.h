// File: sim/router.h
//
// Router: where every request goes, decided from the instances'
// BatchScheduler state alone (no SimGrid, so it is unit-testable; the
// simulation's actors call it and carry its decisions out).
//  - A new prompt goes to the instance the fleet's routing policy picks
//    (sim/routing_policy.h), redirected by the mixed pool when it is on
//    (sim/mixed_pool.h).
//  - Disaggregated, a prefilled request waits in a FIFO, so none starves,
//    for a decode instance with KV room: the least KV-loaded one, one lent
//    to the mixed pool only when no other has room, as SplitwiseSim places
//    tokens. Its KV transfer is then handed to `start_transfer`.
//  - The mixed pool's decode side: when no decode instance has room, the
//    prefill instance keeps the request and decodes it itself (no KV
//    transfer), provided its whole lifetime fits there.
// Every choice is read from LoadIndexes (sim/load_index.h), not a scan of
// the fleet. Each scheduler tells the router when its load may have
// changed; the router notes the instance and refreshes its place in the
// indexes before its next choice, so choices see the loads of that moment,
// as a scan would.
//
// Not thread-safe; SimGrid runs one actor at a time.
#ifndef FLEETSIM_SIM_ROUTER_H_
#define FLEETSIM_SIM_ROUTER_H_

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/batch_scheduler.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "sim/load_index.h"
#include "sim/mixed_pool.h"
#include "sim/routing_policy.h"

namespace fleetsim::sim {

class Router final {
 public:
  // Starts moving `request`'s KV from instance `from` to instance `to`,
  // which has reserved room for it.
  using StartTransfer =
      std::function<void(int from, int to, LiveRequestPtr request)>;

  // `schedulers[i]` is instance i's (outliving the router, which becomes
  // their load-change observer); decode-role instances form the decode
  // side, the others take prompts.
  // InvalidArgument from FindRoutingPolicy (fleet.router and the mixed
  // pool).
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      const FleetSpec& fleet, const std::vector<BatchScheduler*>& schedulers,
      StartTransfer start_transfer);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Picks the instance that takes a new request's prompt and records it in
  // `request` (prefill_instance, and decode_instance when that instance
  // decodes it too: colocated, or lent to the mixed pool). Returns its
  // index; the caller enqueues the request there.
  int Route(LiveRequest* request);

  // Whether some decode pool could ever hold `request`'s whole lifetime
  // (BatchScheduler::CanEverHold); always true without a decode side, where
  // the instance that takes the prompt checks it on Enqueue. A request no
  // decode instance can hold is rejected on arrival: prefilled, it would
  // wait at the head of the decode FIFO for ever.
  bool CanEverDecode(const LiveRequest& request) const;

  // A PREFILL-role instance finished `request`'s prefill: place it on a
  // decode instance now, or keep it waiting (or, mixed pool, decoding where
  // it is).
  void OnPrefillDone(int from, LiveRequestPtr request);

  // After an iteration of `instance`: a decode instance may return from the
  // mixed pool, and memory it freed may take waiting requests.
  void AfterIteration(int instance);

  // `instance` has nothing to run: if lent, it returns from the mixed pool.
  void ReturnIfEmpty(int instance);

  bool lent(int instance) const { return targets_[instance].lent; }
  // Prefilled requests waiting for decode memory.
  size_t waiting_for_decode() const { return waiting_.size(); }

 private:
  Router(const FleetSpec& fleet, const std::vector<BatchScheduler*>& schedulers,
         const RoutingPolicyInfo* policy, StartTransfer start_transfer);

  // Decode instances of one KV capacity with room in their batch, lent or
  // not, by KV load. Within one capacity the least loaded has the most free
  // blocks: if it cannot take a request, none of them can.
  struct DecodeGroup {
    int64_t capacity_blocks;
    std::vector<LoadIndex> with_room;  // [lent]
  };

  void PlaceWaiting();
  // The least KV-loaded decode instance, lent or not, that can reserve
  // room for `request` now (the first on ties); null if none.
  RouteTarget* DecoderFor(const LiveRequest& request, bool lent);
  void MarkChanged(int instance);
  // Puts every instance whose load may have changed back in its indexes.
  void Refresh();
  void Update(RouteTarget* target);

  std::vector<RouteTarget> targets_;    // by instance index
  std::vector<RouteTarget*> entry_;     // colocated or prefill instances
  std::vector<RouteTarget*> decoders_;  // decode instances
  // One decode instance's scheduler per decode pool.
  std::vector<const BatchScheduler*> decode_pools_;
  std::vector<DecodeGroup> groups_;
  std::vector<int> group_of_;  // by instance index (decoders only)
  std::vector<int> changed_;   // instances to refresh
  std::vector<bool> marked_;   // by instance index: in changed_
  std::unique_ptr<RoutingPolicy> policy_;
  std::unique_ptr<MixedPool> mixed_pool_;  // null when off
  StartTransfer start_transfer_;
  // Prefilled requests waiting for decode memory, FIFO, with their source.
  std::deque<std::pair<int, LiveRequestPtr>> waiting_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_ROUTER_H_
