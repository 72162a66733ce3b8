// File: sim/memoized_latency.h
//
// MemoizedLatency: a LatencyModel that remembers recent answers of another
// one. IterationSeconds is a pure function of the BatchShape (latency_model.h:
// implementations are immutable), and the simulator asks for the same shapes
// again and again: every prefill of a prompt length already seen, and decode
// batches re-planned at the context a decode run already evaluated. A hit
// returns the very double the model returned for that shape (the key is
// compared field by field, the double bitwise), so results are unchanged.
//
// The table is direct-mapped with a fixed number of slots (a colliding shape
// overwrites the slot), so memory is bounded whatever the trace length.
//
// NOT thread-safe, unlike other LatencyModels: IterationSeconds() writes the
// table. One per pool per simulation (one SimGrid engine, one thread).
#ifndef FLEETSIM_SIM_MEMOIZED_LATENCY_H_
#define FLEETSIM_SIM_MEMOIZED_LATENCY_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hardware/latency_model.h"

namespace fleetsim::sim {

class MemoizedLatency final : public hardware::LatencyModel {
 public:
  // `model` must outlive this. 2^`log2_slots` slots of 48 bytes each.
  explicit MemoizedLatency(const hardware::LatencyModel* model,
                           int log2_slots = 15)
      : model_(model),
        mask_((uint64_t{1} << log2_slots) - 1),
        slots_(new Slot[mask_ + 1]) {}

  double IterationSeconds(const hardware::BatchShape& batch) const override {
    Key key = KeyOf(batch);
    Slot& slot = slots_[Hash(key) & mask_];
    if (slot.valid && slot.key == key) {
      ++hits_;
      return slot.seconds;
    }
    ++misses_;
    slot.key = key;
    slot.seconds = model_->IterationSeconds(batch);
    slot.valid = true;
    return slot.seconds;
  }

  hardware::IterationBreakdown Explain(
      const hardware::BatchShape& batch) const override {
    return model_->Explain(batch);
  }
  std::vector<hardware::OperatorLabel> OperatorLabels() const override {
    return model_->OperatorLabels();
  }
  double AddOperatorTotals(const hardware::BatchShape& batch, double* seconds,
                           double* tensor_flops) const override {
    return model_->AddOperatorTotals(batch, seconds, tensor_flops);
  }

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  struct Key {
    int64_t prefill_tokens;
    uint64_t prefill_attention_pairs_bits;
    int64_t prefill_context_tokens;
    int64_t decode_context_tokens;
    int64_t extra_logit_rows;
    int32_t prefill_requests;
    int32_t decode_requests;
    bool operator==(const Key& o) const {
      return prefill_tokens == o.prefill_tokens &&
             prefill_attention_pairs_bits == o.prefill_attention_pairs_bits &&
             prefill_context_tokens == o.prefill_context_tokens &&
             decode_context_tokens == o.decode_context_tokens &&
             extra_logit_rows == o.extra_logit_rows &&
             prefill_requests == o.prefill_requests &&
             decode_requests == o.decode_requests;
    }
  };
  struct Slot {
    Key key{};
    double seconds = 0;
    bool valid = false;
  };

  static Key KeyOf(const hardware::BatchShape& b) {
    Key key;
    key.prefill_tokens = b.prefill_tokens;
    std::memcpy(&key.prefill_attention_pairs_bits, &b.prefill_attention_pairs,
                sizeof(double));
    key.prefill_context_tokens = b.prefill_context_tokens;
    key.decode_context_tokens = b.decode_context_tokens;
    key.extra_logit_rows = b.extra_logit_rows;
    key.prefill_requests = b.prefill_requests;
    key.decode_requests = b.decode_requests;
    return key;
  }
  // splitmix64's finalizer: every input bit reaches every output bit.
  static uint64_t Mix(uint64_t h) {
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    return h ^ (h >> 31);
  }
  static uint64_t Hash(const Key& k) {
    uint64_t h = Mix(static_cast<uint64_t>(k.decode_context_tokens) ^
                     (static_cast<uint64_t>(k.decode_requests) << 44));
    // Decode-only: nothing else set (extra logit rows come with prefill
    // chunks only, a speculative verify's).
    if (k.prefill_requests == 0) return h;
    h = Mix(h ^ static_cast<uint64_t>(k.prefill_tokens) ^
            (static_cast<uint64_t>(k.prefill_requests) << 40));
    h = Mix(h ^ static_cast<uint64_t>(k.prefill_context_tokens) ^
            (static_cast<uint64_t>(k.extra_logit_rows) << 32));
    return Mix(h ^ k.prefill_attention_pairs_bits);
  }

  const hardware::LatencyModel* model_;
  const uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
  mutable int64_t hits_ = 0;
  mutable int64_t misses_ = 0;
};

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_MEMOIZED_LATENCY_H_
