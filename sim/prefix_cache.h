// File: sim/prefix_cache.h
//
// PrefixCache: one instance's cache of prompt KV blocks named by the
// trace's prefix hashes (Mooncake's hash_ids: one per 512-token block, the
// id of a block naming its whole prefix, so equal ids mean shareable KV).
// An entry is one such block, holding `kv_blocks_per_entry` of the
// instance's KV blocks. Requests pin the entries they use; an unpinned
// entry stays cached, in KV, until the instance needs its room and evicts
// the least recently used, as vLLM's automatic prefix caching and SGLang's
// radix cache do. The BatchScheduler (sim/batch_scheduler.h) owns one per
// instance and does the KV accounting; this class only tracks entries.
//
// Plain C++ (no SimGrid); not thread-safe.
#ifndef FLEETSIM_SIM_PREFIX_CACHE_H_
#define FLEETSIM_SIM_PREFIX_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace fleetsim::sim {

class PrefixCache final {
 public:
  explicit PrefixCache(int64_t kv_blocks_per_entry);

  // Called with (hash, true) when an entry is added and (hash, false) when
  // it is evicted: the router's index of which instance holds what.
  void set_on_change(std::function<void(uint64_t, bool)> on_change) {
    on_change_ = std::move(on_change);
  }

  // How many of hashes[0..max) are cached, counting from the first up to
  // the first absent one.
  int MatchLength(const std::vector<uint64_t>& hashes, int max) const;
  bool Contains(uint64_t hash) const { return entries_.count(hash) > 0; }

  // Pins `hash` (REQUIRES: cached), so it is not evicted; pins count.
  void Pin(uint64_t hash);
  // Unpins hashes[0..n), each pinned. The first becomes the most recently
  // used: a prefix's later blocks are evicted before its earlier ones,
  // which more prompts share.
  void Unpin(const std::vector<uint64_t>& hashes, int n);
  // Adds `hash` (REQUIRES: not cached) as an entry pinned once: a request's
  // KV blocks for it become the cache's.
  void InsertPinned(uint64_t hash);

  // Evicts least recently used unpinned entries until at least `kv_blocks`
  // KV blocks are freed or none is left; returns the KV blocks freed.
  int64_t Evict(int64_t kv_blocks);

  int64_t kv_blocks_per_entry() const { return kv_blocks_per_entry_; }
  // KV blocks held by entries, and of them those no request pins.
  int64_t kv_blocks() const {
    return static_cast<int64_t>(entries_.size()) * kv_blocks_per_entry_;
  }
  int64_t evictable_kv_blocks() const {
    return static_cast<int64_t>(lru_.size()) * kv_blocks_per_entry_;
  }
  int64_t evicted_entries() const { return evicted_entries_; }

 private:
  struct Entry {
    int pins = 0;
    std::list<uint64_t>::iterator lru;  // valid when pins == 0
  };

  const int64_t kv_blocks_per_entry_;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  std::list<uint64_t> lru_;  // unpinned entries, least recently used first
  int64_t evicted_entries_ = 0;
  std::function<void(uint64_t, bool)> on_change_;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_PREFIX_CACHE_H_
