#include "sim/slo_evaluator.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "hardware/reference_machine.h"
#include "sim/pool_latency.h"
#include "util/field_checks.h"
#include "util/run_limits.h"

namespace fleetsim::sim {
namespace {

// TTFT and E2E targets are watched while requests are in flight
// (OverdueRequests); per-token values have no bound before a request ends.
bool WatchedInFlight(const v1::SloTarget& target) {
  return target.metric() == v1::SLO_METRIC_TTFT ||
         target.metric() == v1::SLO_METRIC_E2E;
}

}  // namespace

const char* SloMetricName(v1::SloMetric metric) {
  switch (metric) {
    case v1::SLO_METRIC_TTFT:
      return "ttft";
    case v1::SLO_METRIC_TBT:
      return "tbt";
    case v1::SLO_METRIC_TPOT:
      return "tpot";
    case v1::SLO_METRIC_E2E:
      return "e2e";
    default:
      return "unspecified";
  }
}

// Sanity bounds, not data.
const FieldRanges& SloFieldRanges() {
  static const auto* ranges = new FieldRanges{
      {"fleetsim.v1.SloTarget.max_s", 1e-9, kMaxSimulatedSeconds, "seconds"},
      {"fleetsim.v1.SloTarget.max_slowdown", 1e-3, 1e6},
      {"fleetsim.v1.Slo.reference_tp", 1, 1e4},
  };
  return *ranges;
}

absl::Status ValidateSlo(const v1::Slo& slo, const std::string& origin) {
  for (int i = 0; i < slo.targets_size(); ++i) {
    const v1::SloTarget& target = slo.targets(i);
    std::string where = absl::StrCat(origin, ": targets[", i, "]: ");
    if (target.metric() == v1::SLO_METRIC_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "field 'metric' is missing"));
    }
    if (!(target.percentile() > 0 && target.percentile() <= 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "field 'percentile' must be in (0, 100] (got ",
                       target.percentile(), ")"));
    }
    double bound = target.bound_case() == v1::SloTarget::kMaxS
                       ? target.max_s()
                       : target.max_slowdown();
    if (target.bound_case() == v1::SloTarget::BOUND_NOT_SET || !(bound > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "needs a positive 'max_s' or 'max_slowdown'"));
    }
  }
  return CheckFields(slo, origin, SloFieldRanges());
}

absl::StatusOr<std::unique_ptr<SloEvaluator>> SloEvaluator::Create(
    const v1::Slo& slo, const FleetSpec& fleet,
    const v1::Chip& reference_chip) {
  absl::Status status = ValidateSlo(slo, "slo");
  if (!status.ok()) return status;
  bool needs_reference = false;
  for (const v1::SloTarget& target : slo.targets()) {
    needs_reference |= target.bound_case() == v1::SloTarget::kMaxSlowdown;
  }
  // Absolute bounds alone need no reference chip (nor a model that fits
  // its TP).
  if (!needs_reference) {
    return std::unique_ptr<SloEvaluator>(new SloEvaluator(slo, nullptr));
  }
  int tp = slo.reference_tp() > 0 ? slo.reference_tp()
                                  // SPAD: TP over one whole machine
                                  : hardware::kDefaultChipsPerMachine;
  auto reference = CreateLatencyModel(fleet, reference_chip, tp, 1);
  if (!reference.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "slo reference (reference_chip '", reference_chip.name(),
        "', reference_tp ", tp, "): ", reference.status().message()));
  }
  return std::unique_ptr<SloEvaluator>(
      new SloEvaluator(slo, std::move(*reference)));
}

SloEvaluator::SloEvaluator(const v1::Slo& slo,
                           std::unique_ptr<hardware::LatencyModel> reference)
    : slo_(slo),
      reference_(std::move(reference)),
      values_(slo.targets_size()),
      within_limit_(slo.targets_size(), 0) {}

SloEvaluator::Reference SloEvaluator::ReferenceFor(
    int32_t input_tokens, int32_t output_tokens) const {
  Reference ref;
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(input_tokens, 0);
  ref.ttft_s = reference_->IterationSeconds(prefill);
  hardware::BatchShape decode;
  decode.AddDecode(input_tokens + (output_tokens - 1) / 2);
  ref.tpot_s = reference_->IterationSeconds(decode);
  ref.e2e_s = ref.ttft_s + ref.tpot_s * (output_tokens - 1);
  return ref;
}

void SloEvaluator::Observe(RequestRecord* record) {
  std::optional<Reference> arrived;  // computed once, at Arrived
  if (overdue_) {
    overdue_->Finished(record->id);
    if (auto it = references_.find(record->id); it != references_.end()) {
      arrived = it->second;
      references_.erase(it);
    }
  }
  if (record->rejected || empty()) return;
  bool needs_reference = false;
  for (const v1::SloTarget& target : slo_.targets()) {
    needs_reference |= target.bound_case() == v1::SloTarget::kMaxSlowdown;
  }
  Reference ref;
  if (arrived) {
    ref = *arrived;
  } else if (needs_reference) {
    ref = ReferenceFor(record->input_tokens, record->sequence_tokens);
  }
  for (int i = 0; i < slo_.targets_size(); ++i) {
    const v1::SloTarget& target = slo_.targets(i);
    bool per_token = target.metric() == v1::SLO_METRIC_TBT ||
                     target.metric() == v1::SLO_METRIC_TPOT;
    if (per_token && record->sequence_tokens < 2) continue;  // no gaps
    double value = 0, reference = 0;
    switch (target.metric()) {
      case v1::SLO_METRIC_TTFT:
        value = record->ttft_s;
        reference = ref.ttft_s;
        break;
      case v1::SLO_METRIC_TBT:
      case v1::SLO_METRIC_TPOT:
        value = record->tpot_s;
        reference = ref.tpot_s;
        break;
      default:
        value = record->e2e_s;
        reference = ref.e2e_s;
    }
    bool slowdown = target.bound_case() == v1::SloTarget::kMaxSlowdown;
    double measured = slowdown ? value / reference : value;
    double limit = slowdown ? target.max_slowdown() : target.max_s();
    values_[i].Add(measured);
    if (values_[i].BucketValueOf(measured) <= limit) ++within_limit_[i];
    if (measured > limit) record->met_slo = false;
  }
}

void SloEvaluator::ExpectAtMost(int64_t requests,
                                int64_t multi_token_requests) {
  expected_requests_ = requests;
  expected_multi_token_requests_ = multi_token_requests;
  std::vector<OverdueRequests::Rule> rules;
  for (int i = 0; i < slo_.targets_size(); ++i) {
    const v1::SloTarget& target = slo_.targets(i);
    if (!WatchedInFlight(target)) continue;
    OverdueRequests::Rule rule;
    rule.target = i;
    rule.until_first_token = target.metric() == v1::SLO_METRIC_TTFT;
    rule.limit = target.bound_case() == v1::SloTarget::kMaxSlowdown
                     ? target.max_slowdown()
                     : target.max_s();
    rule.first_value_above = LogHistogram::FirstValueReportedAbove(rule.limit);
    rules.push_back(rule);
  }
  overdue_ =
      std::make_unique<OverdueRequests>(slo_.targets_size(), std::move(rules));
}

void SloEvaluator::Arrived(const LiveRequest& request) {
  if (!overdue_) return;
  std::optional<Reference> ref;
  std::vector<double> scales;
  for (int i = 0; i < slo_.targets_size(); ++i) {
    const v1::SloTarget& target = slo_.targets(i);
    if (!WatchedInFlight(target)) continue;  // ExpectAtMost's rules, in order
    if (target.bound_case() != v1::SloTarget::kMaxSlowdown) {
      scales.push_back(1);
      continue;
    }
    if (!ref) {
      ref = ReferenceFor(request.input_tokens, SequenceTokens(request));
      references_[request.id] = *ref;
    }
    scales.push_back(target.metric() == v1::SLO_METRIC_TTFT ? ref->ttft_s
                                                            : ref->e2e_s);
  }
  overdue_->Watch(&request, scales);
}

void SloEvaluator::AdvanceTo(double now_s) {
  if (overdue_) overdue_->AdvanceTo(now_s);
}

std::optional<SloEvaluator::DecidedMiss> SloEvaluator::MissDecided() const {
  if (expected_requests_ < 0) return std::nullopt;
  for (int i = 0; i < slo_.targets_size(); ++i) {
    const v1::SloTarget& target = slo_.targets(i);
    const bool slowdown = target.bound_case() == v1::SloTarget::kMaxSlowdown;
    if (target.metric() == v1::SLO_METRIC_TBT && !slowdown) continue;
    const bool per_token = target.metric() == v1::SLO_METRIC_TBT ||
                           target.metric() == v1::SLO_METRIC_TPOT;
    const int64_t expected =
        per_token ? expected_multi_token_requests_ : expected_requests_;
    const LogHistogram& seen = values_[i];
    const int64_t overdue = overdue_ ? overdue_->overdue(i) : 0;
    if (seen.count() + overdue == 0 || seen.count() + overdue > expected)
      continue;
    // Percentile's lower rank among `expected` samples. The samples still
    // to come sort first, except the overdue ones, which will report above
    // the limit. Fewer requests in the end (rejections) only lower the
    // misses needed, so `expected` may be a bound.
    const int64_t final_index = static_cast<int64_t>(std::floor(
        target.percentile() / 100.0 * static_cast<double>(expected - 1)));
    const double limit = slowdown ? target.max_slowdown() : target.max_s();
    // Samples reporting above the limit (a report is the bucket value
    // capped at the max, so none is while the max is not).
    const int64_t seen_above =
        seen.max() <= limit ? 0 : seen.count() - within_limit_[i];
    // The final sample at `final_index` reports above the limit exactly
    // when at least `expected - final_index` samples do.
    if (seen_above + overdue < expected - final_index) continue;
    if (overdue == 0) {
      return DecidedMiss{
          i, seen.ValueAtIndex(final_index - (expected - seen.count()))};
    }
    // The smallest report among the misses, seen or overdue.
    double least = LogHistogram::FirstValueReportedAbove(limit);
    if (seen_above > 0)
      least = std::min(least, seen.ValueAtIndex(within_limit_[i]));
    return DecidedMiss{i, least};
  }
  return std::nullopt;
}

std::vector<v1::SloAttainment> SloEvaluator::Finish(
    const LogHistogram& pooled_tbt) const {
  std::vector<v1::SloAttainment> out;
  for (int i = 0; i < slo_.targets_size(); ++i) {
    const v1::SloTarget& target = slo_.targets(i);
    bool slowdown = target.bound_case() == v1::SloTarget::kMaxSlowdown;
    const LogHistogram& values =
        target.metric() == v1::SLO_METRIC_TBT && !slowdown ? pooled_tbt
                                                           : values_[i];
    v1::SloAttainment attainment;
    attainment.set_metric(SloMetricName(target.metric()));
    attainment.set_percentile(target.percentile());
    attainment.set_bound_s(slowdown ? 0 : target.max_s());
    attainment.set_observed(values.Percentile(target.percentile()));
    attainment.set_limit(slowdown ? target.max_slowdown() : target.max_s());
    attainment.set_met(attainment.observed() <= attainment.limit());
    out.push_back(attainment);
  }
  return out;
}

}  // namespace fleetsim::sim
