#include "hardware/calibration/nelder_mead.h"

#include <algorithm>
#include <cmath>

namespace fleetsim::hardware {

std::vector<double> NelderMead(
    const std::function<double(const std::vector<double>&)>& f,
    std::vector<double> x0, double step, int iterations) {
  const size_t n = x0.size();
  std::vector<std::vector<double>> pts(n + 1, x0);
  for (size_t i = 0; i < n; ++i) pts[i + 1][i] += step;
  std::vector<double> vals(n + 1);
  for (size_t i = 0; i <= n; ++i) vals[i] = f(pts[i]);
  std::vector<size_t> order(n + 1);
  for (int it = 0; it < iterations; ++it) {
    for (size_t i = 0; i <= n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&vals](size_t a, size_t b) { return vals[a] < vals[b]; });
    std::vector<std::vector<double>> p2(n + 1);
    std::vector<double> v2(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      p2[i] = pts[order[i]];
      v2[i] = vals[order[i]];
    }
    pts.swap(p2);
    vals.swap(v2);
    if (vals[n] - vals[0] <= 1e-10 * (std::fabs(vals[0]) + 1e-12)) break;
    std::vector<double> c(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) c[j] += pts[i][j] / n;
    auto along = [&](double t) {
      std::vector<double> x(n);
      for (size_t j = 0; j < n; ++j) x[j] = c[j] + t * (pts[n][j] - c[j]);
      return x;
    };
    std::vector<double> xr = along(-1.0);
    const double fr = f(xr);
    if (fr < vals[0]) {
      std::vector<double> xe = along(-2.0);
      const double fe = f(xe);
      if (fe < fr) {
        pts[n] = xe;
        vals[n] = fe;
      } else {
        pts[n] = xr;
        vals[n] = fr;
      }
    } else if (fr < vals[n - 1]) {
      pts[n] = xr;
      vals[n] = fr;
    } else {
      std::vector<double> xc = along(0.5);
      const double fc = f(xc);
      if (fc < vals[n]) {
        pts[n] = xc;
        vals[n] = fc;
      } else {
        for (size_t i = 1; i <= n; ++i) {
          for (size_t j = 0; j < n; ++j)
            pts[i][j] = pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]);
          vals[i] = f(pts[i]);
        }
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= n; ++i)
    if (vals[i] < vals[best]) best = i;
  return pts[best];
}

}  // namespace fleetsim::hardware
