// File: sim/slo_spec.h
//
// SLOs written inline, as a user states them: "ttft_p99=2s,tpot_p90=50ms"
// for absolute bounds, "ttft_p99=6x" for a slowdown against the request run
// alone on the reference chip. `--slo` and PlanRequest.slo_preset accept
// this form besides a preset name or a file.
#ifndef FLEETSIM_SIM_SLO_SPEC_H_
#define FLEETSIM_SIM_SLO_SPEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/slo.pb.h"

namespace fleetsim::sim {

// True when `text` is written in the inline form (it has an '=').
bool IsSloSpec(absl::string_view text);

// Parses comma-separated METRIC_pPERCENTILE=BOUND targets. METRIC is ttft,
// tbt, tpot or e2e; PERCENTILE in (0, 100] ("p99", "p99.9"); BOUND is a
// duration with its unit ("2s", "50ms", "1.5s", "800us": absl::ParseDuration)
// or a slowdown ("6x"). InvalidArgument naming the offending target.
absl::StatusOr<v1::Slo> ParseSloSpec(absl::string_view text);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_SLO_SPEC_H_
