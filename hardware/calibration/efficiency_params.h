// File: hardware/calibration/efficiency_params.h
//
// The parameters the efficiency fit (efficiency_fit.h) searches: which
// OperatorEfficiency fields each operator class fits and which it holds
// fixed, where the search starts, and the map between a field's value and
// the unconstrained coordinate Nelder-Mead moves. A class that gains a fit
// adds its fields here.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_PARAMS_H_
#define FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_PARAMS_H_

#include <vector>

#include "fleetsim/v1/chip.pb.h"
#include "hardware/operator_options.h"

namespace fleetsim::hardware {

// One fitted parameter: which OperatorEfficiency field, and the map from an
// unconstrained coordinate x to the field's value.
enum class FitParam {
  kCompute,
  kMemory,
  kVector,
  kRampMb,
  kParallelColumns,
  kFloorUs,
  kOverlap,
  kComputeRampTokens,
  kCacheSpeedup,
  kCacheFraction,
  kRowOverheadKb,
  kComputeLatencyUs,
  kTileOverheadRows,
  kLatencyUs,
  kUnitLatencyUs,
  kLocalPairBytes,
  kLayerPairBytes,
  kRowsPerUnit  // chosen from a grid, never by Nelder-Mead
};

// The field's value at coordinate `x` (fractions through a logistic,
// exponents above 1 through 1 + exp, the rest through exp).
double ToValue(FitParam p, double x);

// The coordinate of value `v` (ToValue's inverse, `v` clamped inside the
// field's range).
double ToCoordinate(FitParam p, double v);

// Writes `v` into the field `p` names.
void SetField(FitParam p, double v, v1::OperatorEfficiency* e);

// The fields class `c` fits, in coordinate order; empty when the class has
// no efficiency fit (COLLECTIVE: collective_fit.h). `named` (a
// NamedOperator index of class `c`, or -1 for the class entry) selects a
// named operator's own fields where they differ from its class's.
std::vector<FitParam> ParamsFor(v1::OperatorClass c, int named = -1);

// Sets the fields class `c`'s fit holds fixed rather than fits.
void SetFixedFields(v1::OperatorClass c, v1::OperatorEfficiency* e);

// Starting point: the resolved efficiency in force, with neutral values for
// terms that are off (0) there.
double StartValue(FitParam p, const ClassEfficiency& e);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_EFFICIENCY_PARAMS_H_
