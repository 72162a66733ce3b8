#include "sim/load_index.h"

namespace fleetsim::sim {

LoadIndex::LoadIndex(int instances, LoadSignal signal) : signal_(signal) {
  while (leaves_ < static_cast<size_t>(instances)) leaves_ *= 2;
  members_.assign(leaves_, nullptr);
  keys_.assign(leaves_, Key());
  winner_.assign(2 * leaves_, -1);
}

void LoadIndex::Put(RouteTarget* target, int64_t rank) {
  int index = target->index;
  Key key{target->Load(signal_), rank};
  if (members_[index] == target && keys_[index].load == key.load &&
      keys_[index].rank == key.rank) {
    return;  // unchanged: every winner stands
  }
  if (members_[index] == nullptr) ++size_;
  members_[index] = target;
  keys_[index] = key;
  winner_[leaves_ + index] = index;
  Replay(index);
}

void LoadIndex::Remove(int index) {
  if (members_[index] == nullptr) return;
  --size_;
  members_[index] = nullptr;
  winner_[leaves_ + index] = -1;
  Replay(index);
}

bool LoadIndex::Before(int a, int b) const {
  if (a < 0) return false;
  if (b < 0) return true;
  const Key& ka = keys_[a];
  const Key& kb = keys_[b];
  if (ka.load != kb.load) return ka.load < kb.load;
  if (ka.rank != kb.rank) return ka.rank < kb.rank;
  return a < b;
}

void LoadIndex::Replay(int index) {
  for (size_t node = (leaves_ + index) / 2; node >= 1; node /= 2) {
    int left = winner_[2 * node], right = winner_[2 * node + 1];
    int winner = Before(right, left) ? right : left;
    if (winner == winner_[node] && winner != index) return;
    winner_[node] = winner;
  }
}

}  // namespace fleetsim::sim
