// File: study/assumptions.h
//
// The assumptions table of a study report: every price and site figure the
// study's dollars rest on, each with its source and date and whether it is
// an estimate, and where it came from (the chip catalog, the shipped site
// defaults, the study's base or one of its variants).
#ifndef FLEETSIM_STUDY_ASSUMPTIONS_H_
#define FLEETSIM_STUDY_ASSUMPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/study.pb.h"
#include "hardware/chip_catalog.h"

namespace fleetsim::study {

// `requests[i]` is the plan request of spec.variants(i). Lists the site
// defaults (data_dir's site file), the prices in `chips` of every candidate
// chip (the die-basis cost where a variant uses that basis), then what the
// base and each variant change. Errors: the site file's, NotFound for a
// chip not in `chips`, the price changes'.
absl::StatusOr<std::vector<v1::Assumption>> CollectAssumptions(
    const v1::StudySpec& spec, const std::vector<v1::PlanRequest>& requests,
    const hardware::ChipCatalog& chips, const std::string& data_dir);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_ASSUMPTIONS_H_
