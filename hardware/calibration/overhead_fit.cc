#include "hardware/calibration/overhead_fit.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "util/distribution.h"
#include "util/status_macros.h"

namespace fleetsim::hardware {

absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfModel(
    const std::string& path) {
  FLEETSIM_ASSIGN_OR_RETURN(std::vector<IterationPoint> rows,
                            ReadSplitwisePerfRows(path));
  struct Acc {
    IterationPoint p;
    std::vector<double> prompt;
    std::vector<double> token;
  };
  std::map<std::tuple<std::string, std::string, int, int, int>, Acc> acc;
  for (const IterationPoint& p : rows) {
    if (absl::EndsWith(p.hardware, "-pcap")) continue;
    Acc& a = acc[{p.model, p.hardware, p.tp, p.prompt_tokens, p.batch}];
    if (a.prompt.empty()) a.p = p;
    a.prompt.push_back(p.prompt_s);
    a.token.push_back(p.token_s);
  }
  std::vector<IterationPoint> out;
  for (auto& [k, a] : acc) {
    std::sort(a.prompt.begin(), a.prompt.end());
    std::sort(a.token.begin(), a.token.end());
    a.p.prompt_s = PercentileOfSorted(a.prompt, 50);
    a.p.token_s = PercentileOfSorted(a.token, 50);
    a.p.repetitions = static_cast<int>(a.prompt.size());
    out.push_back(a.p);
  }
  // A whole-batch prefill cannot be faster than half of it.
  for (IterationPoint& p : out) {
    if (p.batch < 2 || p.batch % 2 != 0) continue;
    auto half =
        acc.find({p.model, p.hardware, p.tp, p.prompt_tokens, p.batch / 2});
    if (half != acc.end() && p.prompt_s < half->second.p.prompt_s) {
      p.inconsistent = true;
    }
  }
  return out;
}

OverheadFit FitFrameworkOverhead(const std::vector<IterationSample>& samples,
                                 bool per_layer) {
  // Weighted least squares of r = measured - kernel on (1, layers), weights
  // 1 / measured^2 (relative error).
  double s11 = 0, s1l = 0, sll = 0, s1r = 0, slr = 0;
  for (const IterationSample& s : samples) {
    const double w = 1.0 / (s.measured_s * s.measured_s);
    const double r = s.measured_s - s.kernel_s;
    const double l = per_layer ? s.layers : 0;
    s11 += w;
    s1l += w * l;
    sll += w * l * l;
    s1r += w * r;
    slr += w * l * r;
  }
  OverheadFit fit;
  if (s11 <= 0) return fit;
  const double det = s11 * sll - s1l * s1l;
  if (!per_layer || std::fabs(det) < 1e-12 * s11 * sll) {
    if (per_layer) {
      // One layer count: all of it per layer.
      double num = 0, den = 0;
      for (const IterationSample& s : samples) {
        const double w = 1.0 / (s.measured_s * s.measured_s);
        num += w * s.layers * (s.measured_s - s.kernel_s);
        den += w * s.layers * s.layers;
      }
      fit.layer_overhead_s = den > 0 ? std::max(0.0, num / den) : 0;
    } else {
      fit.iteration_overhead_s = std::max(0.0, s1r / s11);
    }
    return fit;
  }
  double a = (sll * s1r - s1l * slr) / det;
  double b = (s11 * slr - s1l * s1r) / det;
  if (a < 0) {
    a = 0;
    b = sll > 0 ? std::max(0.0, slr / sll) : 0;
  } else if (b < 0) {
    b = 0;
    a = std::max(0.0, s1r / s11);
  }
  fit.iteration_overhead_s = a;
  fit.layer_overhead_s = b;
  return fit;
}

double OverheadFit::Overhead(const IterationSample& s) const {
  return iteration_overhead_s +
         s.layers * (layer_overhead_s + request_layer_overhead_s * s.requests) +
         attention_scale * s.attention_decode_s;
}

namespace {

// Non-negative weighted least squares of r = measured - kernel on two
// features (weights 1 / measured^2): both free, else the better of the two
// one-feature fits.
std::pair<double, double> FitTwoNonNegative(
    const std::vector<IterationSample>& samples,
    const std::function<double(const IterationSample&)>& f1,
    const std::function<double(const IterationSample&)>& f2) {
  double s11 = 0, s12 = 0, s22 = 0, s1r = 0, s2r = 0, srr = 0;
  for (const IterationSample& s : samples) {
    const double w = 1.0 / (s.measured_s * s.measured_s);
    const double r = s.measured_s - s.kernel_s;
    const double a = f1(s), b = f2(s);
    s11 += w * a * a;
    s12 += w * a * b;
    s22 += w * b * b;
    s1r += w * a * r;
    s2r += w * b * r;
    srr += w * r * r;
  }
  auto loss = [&](double a, double b) {
    return srr - 2 * (a * s1r + b * s2r) + a * a * s11 + 2 * a * b * s12 +
           b * b * s22;
  };
  const double det = s11 * s22 - s12 * s12;
  if (det > 1e-12 * s11 * s22) {
    const double a = (s22 * s1r - s12 * s2r) / det;
    const double b = (s11 * s2r - s12 * s1r) / det;
    if (a >= 0 && b >= 0) return {a, b};
  }
  const double a = s11 > 0 ? std::max(0.0, s1r / s11) : 0;
  const double b = s22 > 0 ? std::max(0.0, s2r / s22) : 0;
  return loss(a, 0) <= loss(0, b) ? std::make_pair(a, 0.0)
                                  : std::make_pair(0.0, b);
}

}  // namespace

OverheadFit FitServingStackProfile(
    const std::vector<IterationSample>& samples) {
  const auto [b, c] = FitTwoNonNegative(
      samples, [](const IterationSample& s) { return double(s.layers); },
      [](const IterationSample& s) { return double(s.layers) * s.requests; });
  OverheadFit fit;
  fit.layer_overhead_s = b;
  fit.request_layer_overhead_s = c;
  return fit;
}

OverheadFit FitDecodeAttentionScale(
    const std::vector<IterationSample>& samples) {
  const auto [b, scale] = FitTwoNonNegative(
      samples, [](const IterationSample& s) { return double(s.layers); },
      [](const IterationSample& s) { return s.attention_decode_s; });
  OverheadFit fit;
  fit.layer_overhead_s = b;
  fit.attention_scale = scale;
  return fit;
}

}  // namespace fleetsim::hardware
