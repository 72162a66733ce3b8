// File: study/fleet_summary.h
//
// One fleet's simulations on a variant's seeds condensed into what a study
// reports (proto/fleetsim/v1/study.proto's StudyFleet): whether it met the SLOs
// on every seed and the min / median / max of its dollars, power, latencies and
// utilisation; and the Pareto front of TCO against facility power.
#ifndef FLEETSIM_STUDY_FLEET_SUMMARY_H_
#define FLEETSIM_STUDY_FLEET_SUMMARY_H_

#include <cstdint>
#include <vector>

#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/study.pb.h"

namespace fleetsim::study {

// min, median (linear interpolation) and max of `values`; zeros if empty.
v1::Spread SpreadOf(std::vector<double> values);

// The StudyFleet of one fleet simulated on each of `seeds` (per_seed[i] on
// seeds[i], all with the same pools). Figures spread over the seeds whose
// simulation finished; `tco` is the block of the seed with the median TCO
// (the lower middle one for an even count).
v1::StudyFleet SummarizeFleet(const std::vector<v1::PlannedFleet>& per_seed,
                              const std::vector<uint64_t>& seeds);

// The per-seed fleet whose TCO is the median one (as in `tco` above).
// REQUIRES: per_seed is not empty.
const v1::PlannedFleet& MedianSeedFleet(
    const std::vector<v1::PlannedFleet>& per_seed);

// Sets on_front on the robust fleets no other robust fleet beats on both
// median TCO and median facility power (ties kept).
void MarkFront(std::vector<v1::StudyFleet*> fleets);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_FLEET_SUMMARY_H_
