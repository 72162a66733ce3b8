#include "hardware/moe_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace fleetsim::hardware {
namespace {

// Draws averaged per row: the collector times 5 draws per row (trtllm
// collect_moe.py, num_iter = 5); more here only steadies the expectation.
constexpr int kDraws = 16;
constexpr uint64_t kSeed = 0x5eed5eedULL;

}  // namespace

RankLoad BalancedRankLoad(int64_t tokens, int experts, int top_k, int ep) {
  ep = std::max(ep, 1);
  RankLoad r;
  r.pairs = std::max(1.0, static_cast<double>(tokens) * top_k / ep);
  r.experts = std::min(static_cast<double>(std::max(experts / ep, 1)), r.pairs);
  return r;
}

RankLoad PowerLawRankLoad(int64_t tokens, int experts, int top_k, int ep,
                          double alpha) {
  ep = std::max(ep, 1);
  const int per_rank = std::max(experts / ep, 1);
  const int64_t pairs = tokens * top_k;
  const bool many = pairs > experts;
  const double x_min = many ? 1.0 : 0.01;
  const double x_max = many ? 0.8 * static_cast<double>(tokens) : 2.0;
  const double a1 = 1.0 - alpha;
  const double lo = std::pow(x_min, a1);
  const double hi = std::pow(x_max, a1);
  std::mt19937_64 rng(kSeed);
  std::vector<double> x(experts);
  std::vector<int64_t> load(experts);
  std::vector<int> order(experts);
  RankLoad sum;
  for (int draw = 0; draw < kDraws; ++draw) {
    // Inverse-CDF samples of the truncated power law.
    for (double& v : x) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      v = std::pow((hi - lo) * u + lo, 1.0 / a1);
    }
    const double total = std::accumulate(x.begin(), x.end(), 0.0);
    int64_t assigned = 0;
    for (int e = 0; e < experts; ++e) {
      // Half to even, as torch.round.
      load[e] = static_cast<int64_t>(
          std::nearbyint(x[e] / total * static_cast<double>(pairs)));
      assigned += load[e];
    }
    // The collector's remainder: +1 to the largest loads in turn, or -1
    // from the smallest non-zero ones.
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&load](int a, int b) { return load[a] > load[b]; });
    const int64_t delta = pairs - assigned;
    for (int64_t i = 0; i < delta; ++i) ++load[order[i % experts]];
    for (int64_t i = 0; i < -delta; ++i) {
      int64_t& l = load[order[experts - 1 - i % experts]];
      if (l > 0) {
        --l;
      } else {
        --*std::max_element(load.begin(), load.end());
      }
    }
    // The most loaded rank of consecutive experts.
    int64_t best = -1;
    int best_touched = 0;
    for (int g = 0; g + per_rank <= experts; g += per_rank) {
      int64_t s = 0;
      int touched = 0;
      for (int e = g; e < g + per_rank; ++e) {
        s += load[e];
        touched += load[e] > 0 ? 1 : 0;
      }
      if (s > best) {
        best = s;
        best_touched = touched;
      }
    }
    sum.pairs += static_cast<double>(best);
    sum.experts += best_touched;
  }
  RankLoad r;
  r.pairs = std::max(1.0, sum.pairs / kDraws);
  r.experts = std::max(1.0, sum.experts / kDraws);
  return r;
}

RankLoadCurve::RankLoadCurve(int experts, int top_k, int ep, double alpha) {
  auto add = [&](int64_t n) {
    const RankLoad r = PowerLawRankLoad(n, experts, top_k, ep, alpha);
    tokens_.push_back(static_cast<double>(n));
    pairs_per_token_.push_back(r.pairs / static_cast<double>(n));
    experts_.push_back(r.experts);
  };
  // Every token count to 16 (the load is a step function of whole pairs
  // there), then 2^(i/4) rounded, i = 17..80 (19 to 2^20 tokens).
  for (int64_t n = 1; n <= 16; ++n) add(n);
  for (int i = 17; i <= 80; ++i) add(std::llround(std::exp2(i / 4.0)));
}

RankLoad RankLoadCurve::At(double tokens) const {
  const auto hi = std::upper_bound(tokens_.begin(), tokens_.end(), tokens);
  if (hi == tokens_.begin())
    return {pairs_per_token_.front(), experts_.front()};
  if (hi == tokens_.end()) return {pairs_per_token_.back(), experts_.back()};
  const size_t j = static_cast<size_t>(hi - tokens_.begin());
  const double w = (tokens - tokens_[j - 1]) / (tokens_[j] - tokens_[j - 1]);
  return {pairs_per_token_[j - 1] +
              w * (pairs_per_token_[j] - pairs_per_token_[j - 1]),
          experts_[j - 1] + w * (experts_[j] - experts_[j - 1])};
}

}  // namespace fleetsim::hardware
