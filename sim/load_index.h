// File: sim/load_index.h
//
// LoadIndex: the least-loaded member of a set of RouteTargets by one
// LoadSignal, kept in a tournament tree, so that routing a request costs
// O(1) and a change of one instance's load O(log instances) instead of a
// scan of the whole fleet per request (a 4,000 + 4,000 machine fleet made
// the scans most of a replay's CPU time).
//
// Ties go to the smaller rank, then to the smaller instance index: with the
// instance index as rank (the default) the answer is LeastLoaded's over the
// members in index order. The index does not watch the instances: its
// owner re-puts a member whenever its load may have changed.
//
// Plain C++ (no SimGrid); not thread-safe.
#ifndef FLEETSIM_SIM_LOAD_INDEX_H_
#define FLEETSIM_SIM_LOAD_INDEX_H_

#include <cstdint>
#include <vector>

#include "sim/routing_policy.h"

namespace fleetsim::sim {

class LoadIndex final {
 public:
  // Members are instances with index in [0, instances).
  LoadIndex(int instances, LoadSignal signal);

  // Adds `target` with tie rank `rank`, or refreshes its load and rank.
  void Put(RouteTarget* target, int64_t rank);
  void Put(RouteTarget* target) { Put(target, target->index); }
  // Takes instance `index` out of the set (a no-op if it is not in it).
  void Remove(int index);

  // The member with the least (load, rank, index); null if none.
  RouteTarget* Least() const {
    return winner_[1] < 0 ? nullptr : members_[winner_[1]];
  }
  bool empty() const { return size_ == 0; }

 private:
  // A member's ordering key; load and rank side by side, so comparing two
  // members touches two cache lines, not four (in a fleet of thousands the
  // leaves' ends of the tree are cold).
  struct Key {
    double load = 0;
    int64_t rank = 0;
  };

  // Whether member a comes before member b (-1: absent, never first).
  bool Before(int a, int b) const;
  // Recomputes the winners on the path from `index`'s leaf to the root,
  // stopping where a node keeps a winner other than `index`: the nodes above
  // it see the same winner with the same key.
  void Replay(int index);

  const LoadSignal signal_;
  size_t leaves_ = 1;                  // a power of two >= instances
  std::vector<RouteTarget*> members_;  // by instance index; null if absent
  std::vector<Key> keys_;              // by instance index
  std::vector<int> winner_;  // heap layout: node n's children 2n, 2n + 1
  int size_ = 0;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_LOAD_INDEX_H_
