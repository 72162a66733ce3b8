#include "hardware/calibration/efficiency_fit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/collective_fit.h"
#include "hardware/calibration/efficiency_params.h"
#include "hardware/calibration/fit_common.h"
#include "hardware/calibration/nelder_mead.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_pricer.h"
#include "hardware/ops/op_query.h"
#include "hardware/ops/priced_op.h"
#include "util/status_macros.h"

namespace fleetsim::hardware {
namespace {

// The entry one fit searches: its fields in coordinate order, the
// grid-chosen ones (overlap exponent, rows per unit, whether the GEMM M-tile
// term is on) held at the grid point being tried rather than read from a
// coordinate.
struct EntryShape {
  v1::OperatorClass op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  std::string framework;
  // The precision of the rows' tensor work when they are all 8-bit (the
  // entry then applies to 8-bit GEMMs only, after the dtype-free one);
  // UNSPECIFIED for 16-bit rows.
  v1::Dtype dtype = v1::DTYPE_UNSPECIFIED;
  std::string op_name;  // empty for the class entry
  std::vector<FitParam> params;
  double overlap = 1.5;      // the kOverlap grid value being tried
  double rows_per_unit = 2;  // the kRowsPerUnit grid value being tried
  // Whether kTileOverheadRows is fitted (true) or held at 0, the term off
  // (its coordinate is log r, which cannot reach 0).
  bool tiles = true;

  static bool IsGrid(FitParam p) {
    return p == FitParam::kOverlap || p == FitParam::kRowsPerUnit;
  }

  double ValueOf(size_t i, const std::vector<double>& x) const {
    if (params[i] == FitParam::kOverlap) return overlap;
    if (params[i] == FitParam::kRowsPerUnit) return rows_per_unit;
    if (params[i] == FitParam::kTileOverheadRows && !tiles) return 0;
    return ToValue(params[i], x[i]);
  }

  // The entry at coordinates `x`; `rounded`: as stored (3 significant
  // digits, grid values to 1e-4), since the stored entry is what the model
  // uses.
  v1::OperatorEfficiency Entry(const std::vector<double>& x,
                               bool rounded) const {
    v1::OperatorEfficiency e;
    e.set_op(op_class);
    e.set_framework(framework);
    e.set_dtype(dtype);
    if (!op_name.empty()) e.set_op_name(op_name);
    for (size_t i = 0; i < params.size(); ++i) {
      double v = ValueOf(i, x);
      if (rounded)
        v = IsGrid(params[i]) ? std::round(v * 1e4) / 1e4 : RoundTo3Digits(v);
      SetField(params[i], v, &e);
    }
    SetFixedFields(op_class, &e);
    return e;
  }
};

// Minimises `loss` (of the full coordinate vector) at each grid point and
// keeps the best: the overlap exponent from {1, 4/3, 3/2, 2}, the values the
// model evaluates in closed form (operator_model.cc CombineMode), and, with
// `fit_waves`, rows per unit from {0 (no wave term), 1, 2, 4} (thread
// blocks of one row each resident per SM); both enter through closed forms
// or a ceiling, so the loss is a step function of them. A GEMM fit also
// tries its M-tile term off: on tables without padding steps (aiconfigurator's
// CUDA-graph GEMMs, where cuBLAS picks the tile per shape) tile_overhead_rows
// is not identified, and Nelder-Mead on log r wanders along a flat valley
// (24.9 to 1e9 fit alike) that never reaches the better r = 0
// (docs/calibration.md §4.1). The other coordinates start at `current` and
// are fitted by Nelder-Mead for each point. Leaves the best point in
// `shape` and returns its coordinates.
std::vector<double> SearchGrid(
    const std::function<double(const std::vector<double>&)>& loss,
    const ClassEfficiency& current, bool fit_waves, EntryShape* shape) {
  const std::vector<FitParam>& params = shape->params;
  std::vector<double> best_x;
  double best_loss = 0;
  double best_p = 1.5;
  double best_rows = 2;
  bool best_tiles = true;
  auto has = [&params](FitParam p) {
    return std::find(params.begin(), params.end(), p) != params.end();
  };
  const bool fit_overlap = has(FitParam::kOverlap);
  const bool fit_tiles = has(FitParam::kTileOverheadRows);
  struct GridPoint {
    double p;
    double wave;
    bool tiles;
  };
  std::vector<GridPoint> grid;
  for (double p : {1.0, 4.0 / 3.0, 1.5, 2.0}) {
    if (!fit_overlap && p != 1.0) break;
    for (double r : {0.0, 1.0, 2.0, 4.0}) {
      if (!fit_waves && r != 0.0) break;
      for (bool tiles : {true, false}) {
        if (!fit_tiles && !tiles) break;
        grid.push_back({p, r, tiles});
      }
    }
  }
  for (const auto& [p, wave, tiles] : grid) {
    shape->overlap = p;
    shape->rows_per_unit = wave;
    shape->tiles = tiles;
    // Minimise over the free coordinates only.
    std::vector<size_t> free;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!EntryShape::IsGrid(params[i]) &&
          (tiles || params[i] != FitParam::kTileOverheadRows))
        free.push_back(i);
    }
    std::vector<double> x(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      x[i] = EntryShape::IsGrid(params[i])
                 ? 0
                 : ToCoordinate(params[i], StartValue(params[i], current));
    }
    auto sub_loss = [&](const std::vector<double>& y) {
      std::vector<double> full = x;
      for (size_t j = 0; j < free.size(); ++j) full[free[j]] = y[j];
      return loss(full);
    };
    std::vector<double> y(free.size());
    for (size_t j = 0; j < free.size(); ++j) y[j] = x[free[j]];
    y = NelderMead(sub_loss, y, 0.5, 500);
    y = NelderMead(sub_loss, y, 0.1, 400);
    for (size_t j = 0; j < free.size(); ++j) x[free[j]] = y[j];
    const double l = loss(x);
    if (best_x.empty() || l < best_loss) {
      best_x = x;
      best_loss = l;
      best_p = p;
      best_rows = wave;
      best_tiles = tiles;
    }
  }
  shape->overlap = best_p;
  shape->rows_per_unit = best_rows;
  shape->tiles = best_tiles;
  return best_x;
}

// Whether the class entry of `op_class` is fitted on rows of its named
// operators too: ELEMENTWISE's prices every row in its fit (its operators'
// kernels are alike); ATTENTION_DECODE's does not price MLA decode (a
// compute-bound kernel with its own entry).
bool ClassFitsNamedRows(v1::OperatorClass op_class) {
  return op_class == v1::OPERATOR_CLASS_ELEMENTWISE;
}

// The rows one fit uses: those of `op_class`, and of them (named >= 0) only
// the named operator's, or (named < 0, a class that keeps its operators
// apart) only those of no named operator.
std::vector<v1::CalibrationRow> RowsToFit(
    const std::vector<v1::CalibrationRow>& rows, v1::OperatorClass op_class,
    int named) {
  std::vector<v1::CalibrationRow> own = RowsOfClass(rows, op_class);
  if (named < 0 && ClassFitsNamedRows(op_class)) return own;
  std::vector<v1::CalibrationRow> mine;
  for (v1::CalibrationRow& r : own)
    if (NamedOperatorIndexIn(op_class, r.op()) == named)
      mine.push_back(std::move(r));
  return mine;
}

// The dtype of the entry fitted on `queries`: that of their narrow tensor
// work (TensorDtype) when every query is priced at one narrow peak (GEMMs
// with 8-bit or FP4 weights), UNSPECIFIED when none is. One entry cannot
// price two precisions (the peaks differ, and so do the kernels): a mix is
// refused.
absl::StatusOr<v1::Dtype> EntryDtype(
    const v1::Chip& chip, const OperatorModelOptions& options,
    const std::vector<OperatorQuery>& queries) {
  std::array<int, kNumTensorPrecisions> count{};
  double x[kNumFeatures];
  for (const OperatorQuery& q : queries)
    ++count[static_cast<int>(CostOfQuery(q, options, x).precision)];
  const int n = static_cast<int>(queries.size());
  if (count[0] == n) return v1::DTYPE_UNSPECIFIED;
  for (int p = 1; p < kNumTensorPrecisions; ++p) {
    if (count[p] == n)
      return TensorDtype(chip, static_cast<TensorPrecision>(p));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      n - count[0], " of ", n,
      " rows have 8-bit or FP4 weights, the rest other weights: fit one "
      "precision at a time (--where dtype=...)"));
}

// Fits the class entry (named < 0: on every row of the class, with the
// chip's operator entries of the class removed so that the class entry
// prices them) or the entry of one named operator (on its rows only).
absl::StatusOr<ClassFit> FitImpl(const v1::Chip& chip_in,
                                 v1::OperatorClass op_class, int named,
                                 const std::vector<v1::CalibrationRow>& rows,
                                 const OperatorModelOptions& base_in) {
  // The ELEMENTWISE class entry is fitted as if no operator had its own
  // defaults either: every row is then priced by the class entry alone.
  const bool elementwise_class =
      op_class == v1::OPERATOR_CLASS_ELEMENTWISE && named < 0;
  OperatorModelOptions base = base_in;
  if (elementwise_class) {
    base.operator_efficiency.fill(
        base.efficiency[v1::OPERATOR_CLASS_ELEMENTWISE]);
  }
  EntryShape shape;
  shape.op_class = op_class;
  shape.framework = base.framework;
  shape.op_name = named >= 0 ? NamedOperatorName(named) : "";
  shape.params = ParamsFor(op_class, named);
  if (shape.params.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no efficiency fit for class ", OperatorClassShortName(op_class)));
  }
  const v1::Chip chip =
      named < 0 ? WithoutOperatorEntries(chip_in, op_class) : chip_in;
  const std::vector<v1::CalibrationRow> own = RowsToFit(rows, op_class, named);
  if (own.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no rows of class ", OperatorClassShortName(op_class),
                     shape.op_name.empty() ? "" : " op ", shape.op_name,
                     " to fit on ", chip.name()));
  }
  // The ELEMENTWISE class entry prices only operators without their own
  // entry (sampling, embedding: rows of a vocabulary or hidden width nobody
  // measured), so it keeps the plain memory roofline; the per-row, wave and
  // cache terms are fitted per named operator.
  if (elementwise_class) {
    shape.params = {FitParam::kMemory, FitParam::kRampMb, FitParam::kFloorUs};
  }
  // NORM and named operators on a chip with compute units: the wave term's
  // rows per unit is chosen from a grid (SearchGrid).
  const bool fit_waves =
      (op_class == v1::OPERATOR_CLASS_NORM ||
       (op_class == v1::OPERATOR_CLASS_ELEMENTWISE && named >= 0)) &&
      chip.compute_units() > 0;
  if (fit_waves) shape.params.push_back(FitParam::kRowsPerUnit);
  FLEETSIM_ASSIGN_OR_RETURN(const std::vector<OperatorQuery> queries,
                            QueriesFromRows(own));
  FLEETSIM_ASSIGN_OR_RETURN(shape.dtype, EntryDtype(chip, base, queries));
  absl::StatusOr<OperatorPricer> start = OperatorPricer::Create(chip, base);
  if (!start.ok()) return start.status();

  // The efficiency in force before the fit is the starting point.
  const ClassEfficiency current =
      ResolveEfficiency(base, chip, op_class, shape.op_name, shape.dtype);
  auto loss = [&](const std::vector<double>& x) {
    return MeanLoss(WithEfficiency(chip, shape.Entry(x, /*rounded=*/false)),
                    base, queries, own);
  };
  const std::vector<double> x = SearchGrid(loss, current, fit_waves, &shape);

  ClassFit fit;
  fit.op_class = op_class;
  fit.op_name = shape.op_name;
  fit.rows = static_cast<int64_t>(own.size());
  fit.loss = loss(x);
  fit.efficiency = shape.Entry(x, /*rounded=*/true);
  fit.efficiency.set_source(absl::StrCat(
      "fleetsim calibrate fit: ", own.size(), " rows of ",
      shape.op_name.empty() ? OperatorClassShortName(op_class) : shape.op_name,
      " on ", chip.name()));
  absl::StatusOr<OperatorPricer> fitted =
      OperatorPricer::Create(WithEfficiency(chip, fit.efficiency), base);
  if (!fitted.ok()) return fitted.status();
  absl::StatusOr<std::vector<double>> errors = RowErrors(*fitted, own);
  if (!errors.ok()) return errors.status();
  fit.in_sample = SummariseErrors(*errors);
  return fit;
}

}  // namespace

absl::StatusOr<ClassFit> FitClass(const v1::Chip& chip,
                                  v1::OperatorClass op_class,
                                  const std::vector<v1::CalibrationRow>& rows,
                                  const OperatorModelOptions& base) {
  if (op_class == v1::OPERATOR_CLASS_COLLECTIVE)
    return FitCollective(chip, rows, base);
  return FitImpl(chip, op_class, -1, rows, base);
}

absl::StatusOr<ClassFit> FitOperator(
    const v1::Chip& chip, v1::OperatorClass op_class, std::string_view op_name,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base) {
  const int named = NamedOperatorIndexIn(op_class, op_name);
  if (named < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no per-operator fit for '", std::string(op_name),
                     "' of class ", OperatorClassShortName(op_class)));
  }
  return FitImpl(chip, op_class, named, rows, base);
}

absl::StatusOr<std::vector<ClassFit>> FitClassAndOperators(
    const v1::Chip& chip, v1::OperatorClass op_class,
    const std::vector<v1::CalibrationRow>& rows,
    const OperatorModelOptions& base) {
  std::vector<ClassFit> fits;
  bool present[kNumNamedOperators] = {};
  bool class_rows = false;
  for (const v1::CalibrationRow& r : rows) {
    if (r.op_class() != op_class) continue;
    const int i = NamedOperatorIndexIn(op_class, r.op());
    if (i >= 0) present[i] = true;
    class_rows |= i < 0 || ClassFitsNamedRows(op_class);
  }
  // Only named operators' rows of a class that keeps them apart (MLA decode
  // tables): their entries alone.
  if (class_rows || op_class == v1::OPERATOR_CLASS_COLLECTIVE) {
    absl::StatusOr<ClassFit> cls = FitClass(chip, op_class, rows, base);
    if (!cls.ok()) return cls.status();
    fits.push_back(*std::move(cls));
  }
  for (int i = 0; i < kNumNamedOperators; ++i) {
    if (!present[i]) continue;
    absl::StatusOr<ClassFit> op = FitImpl(chip, op_class, i, rows, base);
    if (!op.ok()) return op.status();
    fits.push_back(*std::move(op));
  }
  return fits;
}

}  // namespace fleetsim::hardware
