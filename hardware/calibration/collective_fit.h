// File: hardware/calibration/collective_fit.h
//
// The COLLECTIVE class's calibration fit (FitClass in efficiency_fit.h
// dispatches to it): measured NCCL all-reduce rows -> the two alpha-beta
// lines per rank count that ClassEfficiency::CollectiveFit carries
// (hardware/ops/collective_op.h prices with them).
#ifndef FLEETSIM_HARDWARE_CALIBRATION_COLLECTIVE_FIT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_COLLECTIVE_FIT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"
#include "fleetsim/v1/chip.pb.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/operator_options.h"

namespace fleetsim::hardware {

// FitCollective()
//
// One pair of alpha-beta lines (a low-latency and a bulk line) per rank
// count of the all-reduce rows within one machine (2 to
// base.chips_per_machine ranks), by Nelder-Mead on the fits' Huber loss;
// the other collectives keep the ring formula. Rows of other classes and
// ops are ignored. InvalidArgument when no such row is given or a row
// cannot be priced.
absl::StatusOr<ClassFit> FitCollective(
    const v1::Chip& chip, const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_COLLECTIVE_FIT_H_
