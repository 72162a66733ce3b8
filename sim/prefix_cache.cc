#include "sim/prefix_cache.h"

#include <algorithm>

namespace fleetsim::sim {

PrefixCache::PrefixCache(int64_t kv_blocks_per_entry)
    : kv_blocks_per_entry_(kv_blocks_per_entry) {}

int PrefixCache::MatchLength(const std::vector<uint64_t>& hashes,
                             int max) const {
  int n = 0;
  int limit = std::min(max, static_cast<int>(hashes.size()));
  while (n < limit && entries_.count(hashes[n]) > 0) ++n;
  return n;
}

void PrefixCache::Pin(uint64_t hash) {
  Entry& entry = entries_.at(hash);
  if (entry.pins++ == 0) lru_.erase(entry.lru);
}

void PrefixCache::Unpin(const std::vector<uint64_t>& hashes, int n) {
  for (int i = n - 1; i >= 0; --i) {
    Entry& entry = entries_.at(hashes[i]);
    if (--entry.pins == 0) entry.lru = lru_.insert(lru_.end(), hashes[i]);
  }
}

void PrefixCache::InsertPinned(uint64_t hash) {
  entries_[hash].pins = 1;
  if (on_change_) on_change_(hash, true);
}

int64_t PrefixCache::Evict(int64_t kv_blocks) {
  int64_t freed = 0;
  while (freed < kv_blocks && !lru_.empty()) {
    uint64_t hash = lru_.front();
    lru_.pop_front();
    entries_.erase(hash);
    ++evicted_entries_;
    freed += kv_blocks_per_entry_;
    if (on_change_) on_change_(hash, false);
  }
  return freed;
}

}  // namespace fleetsim::sim
