#include "hardware/moe_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

namespace fleetsim::hardware {
namespace {

// Draws averaged per row: the collector times 5 draws per row (trtllm
// collect_moe.py, num_iter = 5); more here only steadies the expectation.
constexpr int kDraws = 16;
constexpr uint64_t kSeed = 0x5eed5eedULL;

}  // namespace

double RanksPerToken(int top_k, int ep) {
  return -std::expm1(top_k * std::log1p(-1.0 / ep));
}

RankLoad BalancedRankLoad(int64_t tokens, int experts, int top_k, int ep) {
  ep = std::max(ep, 1);
  RankLoad r;
  r.pairs = std::max(1.0, static_cast<double>(tokens) * top_k / ep);
  r.experts = std::min(static_cast<double>(std::max(experts / ep, 1)), r.pairs);
  return r;
}

RankLoad PowerLawRankLoad(int64_t tokens, int experts, int top_k, int ep,
                          double alpha) {
  return PowerLawRankLoads(tokens, experts, top_k, ep, alpha).most_pairs;
}

RankLoads PowerLawRankLoads(int64_t tokens, int experts, int top_k, int ep,
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
  RankLoads sum;
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
    // The ranks of consecutive experts with the most pairs and with the
    // most experts touched.
    RankLoad most_pairs{-1, 0};
    RankLoad most_experts{0, -1};
    for (int g = 0; g + per_rank <= experts; g += per_rank) {
      RankLoad rank;
      for (int e = g; e < g + per_rank; ++e) {
        rank.pairs += static_cast<double>(load[e]);
        rank.experts += load[e] > 0 ? 1 : 0;
      }
      if (rank.pairs > most_pairs.pairs) most_pairs = rank;
      if (rank.experts > most_experts.experts ||
          (rank.experts == most_experts.experts &&
           rank.pairs > most_experts.pairs)) {
        most_experts = rank;
      }
    }
    for (auto [mean, rank] : {std::pair{&sum.most_pairs, most_pairs},
                              std::pair{&sum.most_experts, most_experts}}) {
      mean->pairs += rank.pairs;
      mean->experts += rank.experts;
    }
  }
  for (RankLoad* r : {&sum.most_pairs, &sum.most_experts}) {
    r->pairs = std::max(1.0, r->pairs / kDraws);
    r->experts = std::max(1.0, r->experts / kDraws);
  }
  return sum;
}

RankLoadCurve::RankLoadCurve(int experts, int top_k, int ep, double alpha) {
  auto add = [&](int64_t n) {
    RankLoads r = PowerLawRankLoads(n, experts, top_k, ep, alpha);
    r.most_pairs.pairs /= static_cast<double>(n);
    r.most_experts.pairs /= static_cast<double>(n);
    tokens_.push_back(static_cast<double>(n));
    loads_.push_back(r);
  };
  // Every token count to 16 (the load is a step function of whole pairs
  // there), then 2^(i/4) rounded, i = 17..80 (19 to 2^20 tokens).
  for (int64_t n = 1; n <= 16; ++n) add(n);
  for (int i = 17; i <= 80; ++i) add(std::llround(std::exp2(i / 4.0)));
}

RankLoads RankLoadCurve::At(double tokens) const {
  const auto hi = std::upper_bound(tokens_.begin(), tokens_.end(), tokens);
  if (hi == tokens_.begin()) return loads_.front();
  if (hi == tokens_.end()) return loads_.back();
  const size_t j = static_cast<size_t>(hi - tokens_.begin());
  const double w = (tokens - tokens_[j - 1]) / (tokens_[j] - tokens_[j - 1]);
  auto lerp = [w](const RankLoad& a, const RankLoad& b) {
    return RankLoad{a.pairs + w * (b.pairs - a.pairs),
                    a.experts + w * (b.experts - a.experts)};
  };
  return {lerp(loads_[j - 1].most_pairs, loads_[j].most_pairs),
          lerp(loads_[j - 1].most_experts, loads_[j].most_experts)};
}

}  // namespace fleetsim::hardware
