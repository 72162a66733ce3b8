// PrefixCache: prefix matching, pins, least-recently-used eviction within
// what is asked, and the change notifications the router's index follows.
#include "sim/prefix_cache.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fleetsim::sim {
namespace {

// Inserts `hashes` as one prompt's computed prefix, then unpins them (the
// prompt completed): they stay cached, evictable.
void CacheAndRelease(PrefixCache* cache, const std::vector<uint64_t>& hashes) {
  for (uint64_t hash : hashes) cache->InsertPinned(hash);
  cache->Unpin(hashes, static_cast<int>(hashes.size()));
}

TEST(PrefixCacheTest, MatchCountsLeadingCachedBlocksUpToTheFirstMiss) {
  PrefixCache cache(/*kv_blocks_per_entry=*/32);
  CacheAndRelease(&cache, {10, 11, 12});
  EXPECT_EQ(cache.MatchLength({10, 11, 12, 13}, 4), 3);
  EXPECT_EQ(cache.MatchLength({10, 11, 12, 13}, 2), 2);  // at most `max`
  EXPECT_EQ(cache.MatchLength({10, 99, 12}, 3), 1);      // a gap ends it
  EXPECT_EQ(cache.MatchLength({11, 12}, 2), 2);
  EXPECT_EQ(cache.MatchLength({99}, 1), 0);
  EXPECT_EQ(cache.MatchLength({}, 5), 0);
  EXPECT_EQ(cache.kv_blocks(), 3 * 32);
  EXPECT_EQ(cache.evictable_kv_blocks(), 3 * 32);
}

TEST(PrefixCacheTest, EvictsLeastRecentlyUsedFirstAndLaterBlocksBeforeEarlier) {
  PrefixCache cache(/*kv_blocks_per_entry=*/2);
  CacheAndRelease(&cache, {1, 2, 3});  // unpinned 3, 2, 1: 1 most recent
  CacheAndRelease(&cache, {7, 8});     // then 8, 7
  // A later use of 2 makes it the most recent of all.
  cache.Pin(2);
  cache.Unpin({2}, 1);
  // LRU order now: 3, 1, 8, 7, 2. Asking for 3 KV blocks takes two entries.
  EXPECT_EQ(cache.Evict(3), 4);
  EXPECT_FALSE(cache.Contains(3));
  EXPECT_FALSE(cache.Contains(1));
  EXPECT_TRUE(cache.Contains(8));
  EXPECT_EQ(cache.Evict(4), 4);
  EXPECT_FALSE(cache.Contains(8));
  EXPECT_FALSE(cache.Contains(7));
  EXPECT_TRUE(cache.Contains(2));
  EXPECT_EQ(cache.evicted_entries(), 4);
  EXPECT_EQ(cache.kv_blocks(), 2);
}

TEST(PrefixCacheTest, PinnedEntriesAreNeverEvicted) {
  PrefixCache cache(/*kv_blocks_per_entry=*/16);
  CacheAndRelease(&cache, {1, 2});
  cache.Pin(1);
  cache.Pin(1);  // two prompts read it
  EXPECT_EQ(cache.evictable_kv_blocks(), 16);
  // Asking for more than is evictable frees what it can: only entry 2.
  EXPECT_EQ(cache.Evict(1000), 16);
  EXPECT_TRUE(cache.Contains(1));
  cache.Unpin({1}, 1);
  EXPECT_EQ(cache.Evict(1000), 0);  // still pinned once
  cache.Unpin({1}, 1);
  EXPECT_EQ(cache.Evict(1000), 16);
  EXPECT_EQ(cache.kv_blocks(), 0);
}

TEST(PrefixCacheTest, InsertedEntriesArePinnedUntilReleased) {
  PrefixCache cache(/*kv_blocks_per_entry=*/8);
  cache.InsertPinned(5);
  EXPECT_EQ(cache.kv_blocks(), 8);
  EXPECT_EQ(cache.evictable_kv_blocks(), 0);
  EXPECT_EQ(cache.Evict(8), 0);
  cache.Unpin({5}, 1);
  EXPECT_EQ(cache.evictable_kv_blocks(), 8);
}

TEST(PrefixCacheTest, ReportsEveryInsertionAndEviction) {
  PrefixCache cache(/*kv_blocks_per_entry=*/1);
  std::vector<std::pair<uint64_t, bool>> changes;
  cache.set_on_change([&changes](uint64_t hash, bool cached) {
    changes.push_back({hash, cached});
  });
  CacheAndRelease(&cache, {4, 5});
  cache.Evict(1);  // 5, the later block, goes first
  std::vector<std::pair<uint64_t, bool>> expected = {
      {4, true}, {5, true}, {5, false}};
  EXPECT_EQ(changes, expected);
}

}  // namespace
}  // namespace fleetsim::sim
