// File: study/study_spec.h
//
// A study file (proto/fleetsim/v1/study.proto's StudySpec): loading it with
// errors that name file, line and field, and turning each variant into the
// PlanRequest the planner answers.
#ifndef FLEETSIM_STUDY_STUDY_SPEC_H_
#define FLEETSIM_STUDY_STUDY_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/study.pb.h"
#include "fleetsim/v1/workload.pb.h"

namespace fleetsim::study {

// Reads and validates a study file. A relative base.workload.trace_path is
// made relative to the file's folder. Errors: NotFound; InvalidArgument
// "path:line: ..." naming the field.
absl::StatusOr<v1::StudySpec> LoadStudySpec(const std::string& path);

// The checks LoadStudySpec makes, for a spec from elsewhere (the Study
// rpc): a name, a base with a model, a trace and an SLO, at least one
// variant, unique variant names of [A-Za-z0-9_.-], multipliers finite and
// >= 0, swings in [0, 1), a baseline that names a variant, valid price
// changes. Errors name `origin` (and the line, when `origin` is a file).
// Unimplemented for base.fixed_fleet (extending a fleet is not supported).
absl::Status ValidateStudySpec(const v1::StudySpec& spec,
                               const std::string& origin);

// The request a variant plans: the base with the variant's changes; the
// objective is TCO when the base names none.
v1::PlanRequest VariantRequest(const v1::StudySpec& spec,
                               const v1::StudyVariant& variant);

// The variant's changes in words ("traffic x2", "SLO strict",
// "h200 price x0.8", "usd_per_kwh 0.12"); "as the base" when none.
std::vector<std::string> DescribeChanges(const v1::StudyVariant& variant);

// Index of the baseline variant (spec.baseline, else 0). REQUIRES: a
// validated spec.
int BaselineIndex(const v1::StudySpec& spec);

// Multiplies the workload's arrival rate: rate_per_s when it resamples
// arrivals, else the replay's rate_scale (0 reads as 1).
void ScaleTraffic(double multiplier, v1::Workload* workload);

}  // namespace fleetsim::study

#endif  // FLEETSIM_STUDY_STUDY_SPEC_H_
