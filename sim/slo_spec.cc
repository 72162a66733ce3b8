#include "sim/slo_spec.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace fleetsim::sim {
namespace {

absl::StatusOr<v1::SloMetric> ParseMetric(absl::string_view name) {
  if (name == "ttft") return v1::SLO_METRIC_TTFT;
  if (name == "tbt") return v1::SLO_METRIC_TBT;
  if (name == "tpot") return v1::SLO_METRIC_TPOT;
  if (name == "e2e") return v1::SLO_METRIC_E2E;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown metric '", name, "' (ttft, tbt, tpot or e2e)"));
}

absl::StatusOr<v1::SloTarget> ParseTarget(absl::string_view text) {
  std::vector<absl::string_view> sides = absl::StrSplit(text, '=');
  if (sides.size() != 2) {
    return absl::InvalidArgumentError("expected METRIC_pPERCENTILE=BOUND");
  }
  absl::string_view key = absl::StripAsciiWhitespace(sides[0]);
  absl::string_view bound = absl::StripAsciiWhitespace(sides[1]);
  const size_t underscore = key.rfind("_p");
  if (underscore == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", key, "' has no _pPERCENTILE suffix (ttft_p99)"));
  }
  v1::SloTarget target;
  absl::StatusOr<v1::SloMetric> metric = ParseMetric(key.substr(0, underscore));
  if (!metric.ok()) return metric.status();
  target.set_metric(*metric);
  double percentile = 0;
  if (!absl::SimpleAtod(key.substr(underscore + 2), &percentile) ||
      !(percentile > 0 && percentile <= 100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "percentile '", key.substr(underscore + 2), "' must be in (0, 100]"));
  }
  target.set_percentile(percentile);
  if (absl::ConsumeSuffix(&bound, "x")) {
    double slowdown = 0;
    if (!absl::SimpleAtod(bound, &slowdown) || !(slowdown >= 1) ||
        slowdown > 1e6) {
      return absl::InvalidArgumentError(
          absl::StrCat("slowdown '", bound, "x' must be a number in [1, 1e6]"));
    }
    target.set_max_slowdown(slowdown);
    return target;
  }
  absl::Duration duration;
  if (!absl::ParseDuration(bound, &duration) ||
      duration <= absl::ZeroDuration() || duration > absl::Hours(24 * 365)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bound '", bound,
                     "' must be a positive duration with its unit (2s, "
                     "50ms) or a slowdown (6x)"));
  }
  target.set_max_s(absl::ToDoubleSeconds(duration));
  return target;
}

}  // namespace

bool IsSloSpec(absl::string_view text) {
  return text.find('=') != absl::string_view::npos;
}

absl::StatusOr<v1::Slo> ParseSloSpec(absl::string_view text) {
  v1::Slo slo;
  slo.set_name(std::string(text));
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    absl::StatusOr<v1::SloTarget> target = ParseTarget(part);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--slo '", part, "': ", target.status().message()));
    }
    *slo.add_targets() = *target;
  }
  if (slo.targets().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slo '", text, "': no targets"));
  }
  return slo;
}

}  // namespace fleetsim::sim
