// File: hardware/calibration/fit_common.h
//
// What every calibration fit shares (efficiency_fit.h, collective_fit.h,
// cross_validation.h): the robust loss they minimise, the rounding of a
// fitted value to what is stored, and merging a fitted entry into a chip.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_FIT_COMMON_H_
#define FLEETSIM_HARDWARE_CALIBRATION_FIT_COMMON_H_

#include <vector>

#include "fleetsim/v1/calibration.pb.h"
#include "fleetsim/v1/chip.pb.h"
#include "hardware/operator_options.h"
#include "hardware/operator_query.h"

namespace fleetsim::hardware {

// Huber loss of the log error log(predicted / measured): quadratic within
// +-30 %, linear beyond, so a few pathological kernel choices do not drag
// the curve.
double HuberLog(double predicted, double measured);

// The mean HuberLog of `chip`'s predictions for `queries` against the
// measured `rows` (same order): what every fit minimises. `chip` must be
// priceable (OperatorPricer::Create succeeds).
double MeanLoss(const v1::Chip& chip, const OperatorModelOptions& base,
                const std::vector<OperatorQuery>& queries,
                const std::vector<v1::CalibrationRow>& rows);

// `v` rounded to 3 significant digits: stored entries are what the model
// uses. 0 (a term fitted off) stays 0.
double RoundTo3Digits(double v);

// The rows of class `c`, in order.
std::vector<v1::CalibrationRow> RowsOfClass(
    const std::vector<v1::CalibrationRow>& rows, v1::OperatorClass c);

// Returns `chip` with `fit` merged in: an existing entry for the class has
// the fitted fields replaced, otherwise the entry is appended. A fit with
// op_name goes into the class entry's `operators` the same way (the class
// entry is created, with op only, if missing).
v1::Chip WithEfficiency(const v1::Chip& chip,
                        const v1::OperatorEfficiency& fit);

// `chip` without the operator entries of class `c`.
v1::Chip WithoutOperatorEntries(const v1::Chip& chip, v1::OperatorClass c);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_FIT_COMMON_H_
