// File: sim/slo_evaluator.h
//
// SloEvaluator checks a run against an Slo (proto/fleetsim/v1/slo.proto).
// Absolute bounds compare seconds; slowdown bounds compare each request's
// latency with the same request served alone (unbatched, uncontended) on the
// reference chip, as SPAD and Splitwise define their SLOs:
//   reference TTFT = one prefill of the whole prompt;
//   reference TPOT = one decode step at the request's mid-generation
//                    context (decode time is affine in context, so this is
//                    the exact mean of its steps);
//   reference E2E  = TTFT + TPOT x (output_tokens - 1).
// The TBT metric with a slowdown bound is evaluated on each request's mean
// gap (SplitwiseSim's per-request "TBT"); with an absolute bound, on every
// token gap pooled.
#ifndef FLEETSIM_SIM_SLO_EVALUATOR_H_
#define FLEETSIM_SIM_SLO_EVALUATOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "fleetsim/v1/result.pb.h"
#include "fleetsim/v1/slo.pb.h"
#include "hardware/latency_model.h"
#include "sim/fleet.h"
#include "sim/live_request.h"
#include "sim/metrics.h"
#include "sim/overdue_requests.h"
#include "util/field_checks.h"
#include "util/histogram.h"

namespace fleetsim::sim {

class SloEvaluator final {
 public:
  // InvalidArgument for a target with no metric, a percentile outside
  // (0, 100] or a non-positive bound; errors of the reference model. The
  // reference request runs `fleet`'s model on `reference_chip` with the
  // fleet's latency model (CreateLatencyModel: the same serving stack).
  static absl::StatusOr<std::unique_ptr<SloEvaluator>> Create(
      const v1::Slo& slo, const FleetSpec& fleet,
      const v1::Chip& reference_chip);

  struct Reference {
    double ttft_s = 0;
    double tpot_s = 0;
    double e2e_s = 0;
  };
  // REQUIRES: the SLO has a slowdown target (absolute bounds alone build no
  // reference model).
  Reference ReferenceFor(int32_t input_tokens, int32_t output_tokens) const;

  // Records a finished request's values; sets record->met_slo to whether
  // each of its own values is within every bound.
  void Observe(RequestRecord* record);

  // Attainment per target, using the pooled TBT histogram for absolute TBT.
  std::vector<v1::SloAttainment> Finish(const LogHistogram& pooled_tbt) const;

  // For stopping a run as soon as its verdict is a certain miss: at most
  // `requests` requests will be observed in all, `multi_token_requests` of
  // them with two or more output tokens (the per-token metrics' samples).
  void ExpectAtMost(int64_t requests, int64_t multi_token_requests);

  // After ExpectAtMost: watches a request that was just routed, so that
  // its TTFT or E2E counts as a miss as soon as it is certain to be one,
  // before it finishes (sim/overdue_requests.h). `request` must stay alive
  // until Observe sees its record.
  void Arrived(const LiveRequest& request);
  // Counts the watched requests that became certain misses by `now_s`.
  void AdvanceTo(double now_s);

  struct DecidedMiss {
    int target = 0;  // index in Slo.targets
    // The target's final percentile will be at least this (> its limit).
    double observed_at_least = 0;
  };
  // The first target whose bound can no longer be met, whatever the
  // requests still to come: the sample its final percentile reads is above
  // the limit even if every one of them lands below all samples seen so
  // far (so a run that meets its SLO is never decided). nullopt while none
  // is, and without ExpectAtMost. O(targets): cheap enough to call after
  // every request. The pooled absolute TBT (token gaps, whose
  // total is not known ahead) is never decided early. Requests counted
  // overdue by AdvanceTo count as samples above the limit.
  std::optional<DecidedMiss> MissDecided() const;

  bool empty() const { return slo_.targets().empty(); }

 private:
  SloEvaluator(const v1::Slo& slo,
               std::unique_ptr<hardware::LatencyModel> reference);

  v1::Slo slo_;
  std::unique_ptr<hardware::LatencyModel> reference_;
  std::vector<LogHistogram> values_;  // per target
  // Per target: samples whose bucket value is within the limit, so that
  // MissDecided need not scan the histograms.
  std::vector<int64_t> within_limit_;
  // Set by ExpectAtMost: the TTFT and E2E targets' watch on requests in
  // flight.
  std::unique_ptr<OverdueRequests> overdue_;
  // Reference latencies of the requests Arrived computed them for, until
  // Observe uses them (requests in flight only).
  absl::flat_hash_map<int64_t, Reference> references_;
  int64_t expected_requests_ = -1;  // -1: not known (ExpectAtMost)
  int64_t expected_multi_token_requests_ = -1;
};

// "ttft", "tbt", "tpot" or "e2e" (SloAttainment.metric).
const char* SloMetricName(v1::SloMetric metric);

// The sanity ranges of Slo's numeric fields (util/field_checks.h).
const FieldRanges& SloFieldRanges();

// Validates an Slo's targets (shared with config loading), then every
// number and enum of it (util/field_checks.h). `origin` names it in errors.
absl::Status ValidateSlo(const v1::Slo& slo, const std::string& origin);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SLO_EVALUATOR_H_
