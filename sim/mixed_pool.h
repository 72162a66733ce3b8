// File: sim/mixed_pool.h
//
// SplitwiseSim's mixed pool (MixedPoolScheduler in SplitwiseSim's
// scheduler.py, which SPAD's baselines use), prompt side: decode instances
// lent to prompts when the prefill pool backs up. A queue is *long* when the
// instance has requests waiting for a batch and a prompt would take its
// pending prompt tokens past the threshold
// (Cluster.mixed_pool_prefill_queue_tokens, SplitwiseSim's
// prompt_max_pending_batch_tokens). A lent instance serves its prompts end
// to end and stays lent, taking more, until it has nothing left.
// The decode side of the mixed pool (a prefill instance keeping a request
// no decode instance has room for) is the Router's.
//
// The decode instances are kept in two LoadIndexes by outstanding load (the
// lent ones, ties to the earliest lent, and the others), which the Router
// refreshes through LoadChanged, so a prompt costs no scan of the fleet.
//
// Plain C++ over RouteTargets (no SimGrid); not thread-safe.
#ifndef FLEETSIM_SIM_MIXED_POOL_H_
#define FLEETSIM_SIM_MIXED_POOL_H_

#include <cstdint>
#include <vector>

#include "sim/live_request.h"
#include "sim/load_index.h"
#include "sim/routing_policy.h"

namespace fleetsim::sim {

class MixedPool final {
 public:
  // `decoders`: every decode instance, none lent (none for a colocated
  // fleet, which leaves every prompt where the policy sent it), with
  // indices below `instances`; `prefill_queue_tokens` > 0.
  MixedPool(int64_t prefill_queue_tokens,
            const std::vector<RouteTarget*>& decoders, int instances);

  // Where a prompt goes that the routing policy sent to `best`: `best`
  // unless its queue is long; else a lent instance whose queue is not long;
  // else the least-loaded decode instance not yet lent that could ever hold
  // the request, which is lent now; else (every decode instance lent or too
  // small) whichever of `best` and the least-loaded lent instance has the
  // smaller outstanding load, `best` on a tie.
  RouteTarget* Route(RouteTarget* best, const LiveRequest& request);

  // A lent instance with nothing left returns from the mixed pool
  // (SplitwiseSim's notify_free_instance); any other is left alone.
  void ReturnIfEmpty(RouteTarget* instance);

  // `decoder`, a decode instance, may have a new load.
  void LoadChanged(RouteTarget* decoder);

  bool any_lent() const { return !lent_.empty(); }

 private:
  bool QueueLong(const RouteTarget& instance, const LiveRequest& request) const;

  const int64_t prefill_queue_tokens_;
  const bool any_decoders_;
  LoadIndex lent_;                  // ranked by lending order
  LoadIndex not_lent_;              // ranked by instance index
  std::vector<int64_t> lent_rank_;  // by instance index, while lent
  int64_t next_rank_ = 0;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_MIXED_POOL_H_
