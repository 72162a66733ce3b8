// File: hardware/calibration/nelder_mead.h
//
// The derivative-free minimiser behind every calibration fit
// (efficiency_fit.h, collective_fit.h): the fitted losses are step-like in
// some parameters and have no useful gradient.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_NELDER_MEAD_H_
#define FLEETSIM_HARDWARE_CALIBRATION_NELDER_MEAD_H_

#include <functional>
#include <vector>

namespace fleetsim::hardware {

// NelderMead()
//
// Nelder-Mead simplex minimisation of `f` (Nelder & Mead 1965; standard
// coefficients 1, 2, 0.5, 0.5) from `x0`, the first simplex `step` along
// each axis, for at most `iterations` steps; returns the best vertex.
// Deterministic.
std::vector<double> NelderMead(
    const std::function<double(const std::vector<double>&)>& f,
    std::vector<double> x0, double step, int iterations);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_NELDER_MEAD_H_
