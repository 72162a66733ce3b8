#include "sim/load_index.h"

namespace fleetsim::sim {

LoadIndex::LoadIndex(int instances, LoadSignal signal) : signal_(signal) {
  while (leaves_ < static_cast<size_t>(instances)) leaves_ *= 2;
  members_.assign(leaves_, nullptr);
  load_.assign(leaves_, 0);
  rank_.assign(leaves_, 0);
  winner_.assign(2 * leaves_, -1);
}

void LoadIndex::Put(RouteTarget* target, int64_t rank) {
  int index = target->index;
  if (members_[index] == nullptr) ++size_;
  members_[index] = target;
  load_[index] = target->Load(signal_);
  rank_[index] = rank;
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
  if (load_[a] != load_[b]) return load_[a] < load_[b];
  if (rank_[a] != rank_[b]) return rank_[a] < rank_[b];
  return a < b;
}

void LoadIndex::Replay(int index) {
  for (size_t node = (leaves_ + index) / 2; node >= 1; node /= 2) {
    int left = winner_[2 * node], right = winner_[2 * node + 1];
    winner_[node] = Before(right, left) ? right : left;
  }
}

}  // namespace fleetsim::sim
