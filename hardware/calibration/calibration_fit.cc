#include "hardware/calibration/calibration_fit.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/ops/elementwise_op.h"
#include "util/distribution.h"
#include "util/status_macros.h"

namespace fleetsim::hardware {

absl::StatusOr<OperatorQuery> QueryFromRow(const CalibrationRow& row) {
  OperatorQuery q;
  q.name = row.op();
  q.op_class = row.op_class();
  q.tp = std::max(row.tp(), 1);
  if (row.dtype() == DTYPE_FP4 || row.kv_dtype() == DTYPE_FP4) {
    return absl::InvalidArgumentError(
        "fp4 rows cannot be priced yet (the cost model has no FP4 tensor "
        "path)");
  }
  const double b = row.dtype() == DTYPE_FP8 ? 1 : 2;
  q.weight_bytes = b;
  q.kv_bytes = row.kv_dtype() == DTYPE_UNSPECIFIED ? b
               : row.kv_dtype() == DTYPE_FP8       ? 1
                                                   : 2;
  // MLA: the cached latent is the compressed KV plus the rope key; prefill
  // runs the naive form (head_dim = nope + rope, value width v_head_dim),
  // absorbed decode MQA over the latent (hardware/ops/attention_op.h).
  const int latent = row.latent_dim() + row.rope_dim();
  const bool mla = row.latent_dim() > 0;
  auto set_heads = [&row, &q, latent, mla] {
    q.heads = row.heads();
    q.kv_heads = row.kv_heads();
    q.head_dim = row.head_dim();
    if (!mla) return;
    q.latent_dim = latent;
    if (row.absorbed()) {
      q.kv_heads = 1;
      q.head_dim = latent;
      q.v_head_dim = row.latent_dim();
    } else {
      q.kv_heads = row.heads();
      q.head_dim = row.head_dim() + row.rope_dim();
      q.v_head_dim = row.v_head_dim();
    }
  };
  const OperatorModelOptions defaults;
  // Sliding window: each query sees at most `w` keys (0 = unlimited).
  const double w = row.window_tokens() > 0
                       ? static_cast<double>(row.window_tokens())
                       : std::numeric_limits<double>::infinity();
  switch (row.op_class()) {
    case OPERATOR_CLASS_GEMM:
      q.m = row.m();
      q.n = row.n();
      q.k = row.k();
      q.heads = row.heads();  // > 0: one product per head (MLA BMM)
      return q;
    case OPERATOR_CLASS_ATTENTION_PREFILL: {
      const double t = static_cast<double>(row.new_tokens());
      const double l = static_cast<double>(row.context_tokens());
      const double batch = static_cast<double>(row.batch());
      // Query i (1..t) sees min(l + i, w) keys.
      const double full = std::clamp(w - l, 0.0, t);  // queries under w
      const double pairs_per_request =
          full * l + full * (full + 1) / 2.0 + (t - full) * std::min(w, l + t);
      q.requests = row.batch();
      q.new_tokens = row.batch() * row.new_tokens();
      q.context_tokens = row.batch() * static_cast<int64_t>(std::min(l, w) + t);
      q.attention_pairs = batch * pairs_per_request;
      set_heads();
      return q;
    }
    case OPERATOR_CLASS_ATTENTION_DECODE:
      // Rows store cached tokens per request; the query sums K/V rows read
      // (cached + the new token, within the window) over requests, as
      // BatchShape does.
      q.requests = row.batch();
      q.new_tokens = row.batch();
      q.context_tokens =
          row.batch() * static_cast<int64_t>(std::min(
                            static_cast<double>(row.context_tokens() + 1), w));
      set_heads();
      return q;
    case OPERATOR_CLASS_NORM:
    case OPERATOR_CLASS_ELEMENTWISE: {
      // The kernel the row measures, as the cost model prices it
      // (hardware/ops/elementwise_op.h).
      absl::StatusOr<RowKernel> kernel =
          RowKernelForCalibrationOp(row.op(), row.op_class(), defaults);
      if (!kernel.ok()) return kernel.status();
      q.elements = row.elements();
      q.width = row.width();
      q.io_rows = kernel->io_rows;
      q.vector_flops_per_element = kernel->vector_flops_per_element;
      if (row.op_class() == OPERATOR_CLASS_ELEMENTWISE &&
          NamedOperatorIndex(row.op()) ==
              static_cast<int>(NamedOperator::kRope) &&
          row.tokens() > 0 && row.elements() % row.tokens() == 0) {
        // Vidur's rotary rows have width = head_dim; a row of the cost
        // model is one token over all Q and K heads, which the wave term
        // counts. `tokens` recovers it.
        q.width = row.elements() / row.tokens();
      }
      return q;
    }
    case OPERATOR_CLASS_COLLECTIVE:
      q.message_bytes = static_cast<double>(row.bytes());
      q.ranks = row.ranks();
      // More ranks than one machine holds: the measurement crossed the
      // scale-out network.
      q.scale_out = std::max(row.ranks(), 2) > defaults.chips_per_machine;
      return q;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "op '", row.op(), "' of class ", OperatorClassShortName(row.op_class()),
      " cannot be priced from a calibration row"));
}

ErrorStats SummariseErrors(std::vector<double> errors) {
  ErrorStats s;
  s.rows = static_cast<int64_t>(errors.size());
  if (errors.empty()) return s;
  std::vector<double> abs_errors(errors.size());
  for (size_t i = 0; i < errors.size(); ++i)
    abs_errors[i] = std::fabs(errors[i]);
  std::sort(abs_errors.begin(), abs_errors.end());
  std::sort(errors.begin(), errors.end());
  s.median_ape = PercentileOfSorted(abs_errors, 50);
  s.p90_ape = PercentileOfSorted(abs_errors, 90);
  s.median_signed = PercentileOfSorted(errors, 50);
  return s;
}

absl::StatusOr<std::vector<double>> RowErrors(
    const OperatorPricer& pricer, const std::vector<CalibrationRow>& rows) {
  std::vector<double> errors;
  errors.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<OperatorQuery> q = QueryFromRow(rows[i]);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", i + 1, ": ", q.status().message()));
    }
    errors.push_back(pricer.Seconds(*q) / rows[i].median_s() - 1.0);
  }
  return errors;
}

absl::StatusOr<EvalReport> EvaluateRows(
    const OperatorPricer& pricer, const std::vector<CalibrationRow>& rows) {
  absl::StatusOr<std::vector<double>> errors = RowErrors(pricer, rows);
  if (!errors.ok()) return errors.status();
  struct Bucket {
    std::vector<double> slow;
    std::vector<double> fast;
  };
  std::vector<std::string> op_order;
  std::vector<std::string> class_order;
  std::map<std::string, Bucket> by_op;
  std::map<std::string, Bucket> by_class;
  Bucket all;
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool fast = rows[i].median_s() < kFastRowSeconds;
    const double e = (*errors)[i];
    const std::string cls = OperatorClassShortName(rows[i].op_class());
    if (!by_op.count(rows[i].op())) op_order.push_back(rows[i].op());
    if (!by_class.count(cls)) class_order.push_back(cls);
    for (Bucket* b : {&by_op[rows[i].op()], &by_class[cls], &all}) {
      (fast ? b->fast : b->slow).push_back(e);
    }
  }
  auto line = [](const std::string& name, const Bucket& b) {
    EvalLine l;
    l.name = name;
    l.rows = SummariseErrors(b.slow);
    l.fast = SummariseErrors(b.fast);
    return l;
  };
  EvalReport report;
  for (const std::string& op : op_order)
    report.by_op.push_back(line(op, by_op[op]));
  for (const std::string& c : class_order)
    report.by_class.push_back(line(c, by_class[c]));
  report.overall = line("overall", all);
  return report;
}

namespace {

// One fitted parameter: which OperatorEfficiency field, and the map from an
// unconstrained coordinate x to the field's value.
enum class Param {
  kCompute,
  kMemory,
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
  kRowsPerUnit  // chosen from a grid, never by Nelder-Mead
};

double ToValue(Param p, double x) {
  switch (p) {
    case Param::kCompute:
    case Param::kMemory:
    case Param::kCacheFraction:           // W0 cannot exceed the on-chip memory
      return 1.0 / (1.0 + std::exp(-x));  // (0, 1)
    case Param::kOverlap:
    case Param::kCacheSpeedup:
      return 1.0 + std::exp(x);  // (1, inf)
    default:
      return std::exp(x);  // (0, inf)
  }
}

double ToCoordinate(Param p, double v) {
  switch (p) {
    case Param::kCompute:
    case Param::kMemory:
    case Param::kCacheFraction: {
      const double c = std::clamp(v, 0.02, 0.98);
      return std::log(c / (1 - c));
    }
    case Param::kOverlap:
    case Param::kCacheSpeedup:
      return std::log(std::max(v - 1.0, 0.05));
    default:
      return std::log(std::max(v, 1e-3));
  }
}

void SetField(Param p, double v, OperatorEfficiency* e) {
  switch (p) {
    case Param::kCompute:
      e->set_compute(v);
      break;
    case Param::kMemory:
      e->set_memory(v);
      break;
    case Param::kRampMb:
      e->set_memory_ramp_mb(v);
      break;
    case Param::kParallelColumns:
      e->set_parallel_columns(v);
      break;
    case Param::kFloorUs:
      e->set_floor_us(v);
      break;
    case Param::kOverlap:
      e->set_overlap_exponent(v);
      break;
    case Param::kComputeRampTokens:
      e->set_compute_ramp_tokens(v);
      break;
    case Param::kCacheSpeedup:
      e->set_cache_speedup(v);
      break;
    case Param::kCacheFraction:
      e->set_cache_fraction(v);
      break;
    case Param::kRowsPerUnit:
      e->set_rows_per_unit(v);
      break;
    case Param::kRowOverheadKb:
      e->set_row_overhead_kb(v);
      break;
    case Param::kComputeLatencyUs:
      e->set_compute_latency_us(v);
      break;
    case Param::kTileOverheadRows:
      e->set_tile_overhead_rows(v);
      break;
    case Param::kLatencyUs:
      e->set_latency_us(v);
      break;
    case Param::kUnitLatencyUs:
      e->set_unit_latency_us(v);
      break;
  }
}

std::vector<Param> ParamsFor(OperatorClass c) {
  switch (c) {
    case OPERATOR_CLASS_GEMM:
      return {Param::kCompute,          Param::kMemory,
              Param::kRampMb,           Param::kParallelColumns,
              Param::kFloorUs,          Param::kOverlap,
              Param::kComputeLatencyUs, Param::kTileOverheadRows};
    case OPERATOR_CLASS_ATTENTION_PREFILL:
      // FlashAttention-3's tile loop (tiles fixed at its Hopper kernels'
      // 128 x 128, SetFixedFields): the tensor efficiency of a tile step,
      // the fixed work per tile and per call, and the overlap with the
      // memory traffic.
      return {Param::kCompute, Param::kUnitLatencyUs, Param::kLatencyUs,
              Param::kOverlap};
    case OPERATOR_CLASS_ATTENTION_DECODE:
      // A latency in seconds (the same microseconds on chips of different
      // bandwidth) plus the KV stream at eta_m plus fixed work per request
      // and KV head. Not eta_c: GQA decode is memory-bound and cannot
      // identify it (compute-bound MLA decode has its own rows).
      return {Param::kMemory, Param::kLatencyUs, Param::kUnitLatencyUs};
    case OPERATOR_CLASS_NORM:
      // No floor: one wave's bytes already set the shortest norm, and they
      // scale with the row width; a fitted floor would pin every width to
      // the widest measured model's single-wave time (Vidur's H100 rows:
      // 4 us at 4096, 6 us at 8192). The ramp carries the launch latency.
      return {Param::kMemory, Param::kRampMb, Param::kCacheSpeedup,
              Param::kCacheFraction, Param::kRowOverheadKb};
    case OPERATOR_CLASS_ELEMENTWISE:
      return {Param::kMemory,        Param::kRampMb,
              Param::kFloorUs,       Param::kCacheSpeedup,
              Param::kCacheFraction, Param::kRowOverheadKb};
    default:
      // COLLECTIVE: FitCollective.
      return {};
  }
}

// Fields a class's fit holds fixed rather than fits (see ParamsFor).
void SetFixedFields(OperatorClass c, OperatorEfficiency* e) {
  switch (c) {
    case OPERATOR_CLASS_NORM:
      e->set_floor_us(0);
      break;
    case OPERATOR_CLASS_ATTENTION_PREFILL:
      // FA3's Hopper tiles for head_dim 128 (Shah et al., arXiv 2407.08608
      // §4; hopper/tile_size.h in Dao-AILab/flash-attention): 128 query rows
      // x 128 keys. The latency replaces the floor; the tile loop replaces
      // the context ramp.
      e->set_tile_q_rows(128);
      e->set_tile_kv_rows(128);
      e->set_compute_ramp_tokens(0);
      e->set_floor_us(0);
      break;
    case OPERATOR_CLASS_ATTENTION_DECODE:
      // The latency (seconds) replaces the MB ramp and the floor.
      e->set_memory_ramp_mb(0);
      e->set_floor_us(0);
      break;
    default:
      break;
  }
}

// Starting point: the resolved efficiency in force, with neutral values for
// terms that are off (0) there.
double StartValue(Param p, const ClassEfficiency& e) {
  switch (p) {
    case Param::kCompute:
      return e.compute;
    case Param::kMemory:
      return e.memory;
    case Param::kRampMb:
      return e.memory_ramp_bytes > 0 ? e.memory_ramp_bytes * 1e-6 : 1.0;
    case Param::kParallelColumns:
      return e.parallel_columns > 0 ? e.parallel_columns : 256;
    case Param::kFloorUs:
      return e.floor_s > 0 ? e.floor_s * 1e6 : 2.0;
    case Param::kOverlap:
      return e.overlap_exponent > 0 ? e.overlap_exponent : 1.5;
    case Param::kComputeRampTokens:
      return e.compute_ramp_tokens > 0 ? e.compute_ramp_tokens : 256;
    case Param::kCacheSpeedup:
      return e.cache_speedup > 1.05 ? e.cache_speedup : 1.5;
    case Param::kCacheFraction:
      return e.cache_fraction > 0 ? e.cache_fraction : 0.5;
    case Param::kRowsPerUnit:
      return e.rows_per_unit > 0 ? e.rows_per_unit : 2;
    case Param::kRowOverheadKb:
      return e.row_overhead_bytes > 0 ? e.row_overhead_bytes * 1e-3 : 1.0;
    case Param::kComputeLatencyUs:
      return e.compute_latency_s > 0 ? e.compute_latency_s * 1e6 : 2.0;
    case Param::kTileOverheadRows:
      return e.tile_overhead_rows > 0 ? e.tile_overhead_rows : 16.0;
    case Param::kLatencyUs:
      return e.latency_s > 0 ? e.latency_s * 1e6 : 5.0;
    case Param::kUnitLatencyUs:
      return e.unit_latency_s > 0 ? e.unit_latency_s * 1e6 : 1.0;
  }
  return 1;
}

// Nelder-Mead simplex minimisation (Nelder & Mead 1965; standard
// coefficients 1, 2, 0.5, 0.5). Deterministic.
std::vector<double> NelderMead(
    const std::function<double(const std::vector<double>&)>& f,
    std::vector<double> x0, double step, int iterations) {
  const size_t n = x0.size();
  std::vector<std::vector<double>> pts(n + 1, x0);
  for (size_t i = 0; i < n; ++i) pts[i + 1][i] += step;
  std::vector<double> vals(n + 1);
  for (size_t i = 0; i <= n; ++i) vals[i] = f(pts[i]);
  std::vector<size_t> order(n + 1);
  for (int it = 0; it < iterations; ++it) {
    for (size_t i = 0; i <= n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&vals](size_t a, size_t b) { return vals[a] < vals[b]; });
    std::vector<std::vector<double>> p2(n + 1);
    std::vector<double> v2(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      p2[i] = pts[order[i]];
      v2[i] = vals[order[i]];
    }
    pts.swap(p2);
    vals.swap(v2);
    if (vals[n] - vals[0] <= 1e-10 * (std::fabs(vals[0]) + 1e-12)) break;
    std::vector<double> c(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) c[j] += pts[i][j] / n;
    auto along = [&](double t) {
      std::vector<double> x(n);
      for (size_t j = 0; j < n; ++j) x[j] = c[j] + t * (pts[n][j] - c[j]);
      return x;
    };
    std::vector<double> xr = along(-1.0);
    const double fr = f(xr);
    if (fr < vals[0]) {
      std::vector<double> xe = along(-2.0);
      const double fe = f(xe);
      if (fe < fr) {
        pts[n] = xe;
        vals[n] = fe;
      } else {
        pts[n] = xr;
        vals[n] = fr;
      }
    } else if (fr < vals[n - 1]) {
      pts[n] = xr;
      vals[n] = fr;
    } else {
      std::vector<double> xc = along(0.5);
      const double fc = f(xc);
      if (fc < vals[n]) {
        pts[n] = xc;
        vals[n] = fc;
      } else {
        for (size_t i = 1; i <= n; ++i) {
          for (size_t j = 0; j < n; ++j)
            pts[i][j] = pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]);
          vals[i] = f(pts[i]);
        }
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= n; ++i)
    if (vals[i] < vals[best]) best = i;
  return pts[best];
}

// Huber loss of the log error: quadratic within +-30 %, linear beyond, so
// a few pathological kernel choices do not drag the curve.
double HuberLog(double predicted, double measured) {
  constexpr double kDelta = 0.3;
  const double e = std::fabs(std::log(predicted / measured));
  return e < kDelta ? e * e : 2 * kDelta * e - kDelta * kDelta;
}

// The mean Huber loss of `chip`'s predictions for `queries` against the
// measured `rows` (same order): what every fit minimises.
double MeanLoss(const Chip& chip, const OperatorModelOptions& base,
                const std::vector<OperatorQuery>& queries,
                const std::vector<CalibrationRow>& rows) {
  const OperatorPricer pricer(*OperatorPricer::Create(chip, base));
  double sum = 0;
  for (size_t i = 0; i < queries.size(); ++i)
    sum += HuberLog(pricer.Seconds(queries[i]), rows[i].median_s());
  return sum / static_cast<double>(queries.size());
}

// `v` rounded to 3 significant digits: stored entries are what the model
// uses.
double RoundTo3Digits(double v) {
  const double digits = std::pow(10.0, 2 - std::floor(std::log10(v)));
  return std::round(v * digits) / digits;
}

std::vector<CalibrationRow> RowsOfClass(const std::vector<CalibrationRow>& rows,
                                        OperatorClass c) {
  std::vector<CalibrationRow> out;
  for (const CalibrationRow& r : rows)
    if (r.op_class() == c) out.push_back(r);
  return out;
}

}  // namespace

Chip WithEfficiency(const Chip& chip, const OperatorEfficiency& fit) {
  Chip out = chip;
  OperatorEfficiency* cls = nullptr;
  for (OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == fit.op() && e.framework() == fit.framework()) {
      cls = &e;
      break;
    }
  }
  if (fit.op_name().empty()) {
    if (cls != nullptr) {
      // Measured collective lines replace the entry's, not add to them.
      if (fit.collective_fits_size() > 0) cls->clear_collective_fits();
      cls->MergeFrom(fit);
    } else {
      *out.add_efficiency() = fit;
    }
    return out;
  }
  // An operator entry goes inside its class entry.
  if (cls == nullptr) {
    cls = out.add_efficiency();
    cls->set_op(fit.op());
    cls->set_framework(fit.framework());
  }
  for (OperatorEfficiency& sub : *cls->mutable_operators()) {
    if (sub.op_name() == fit.op_name()) {
      sub.MergeFrom(fit);
      return out;
    }
  }
  *cls->add_operators() = fit;
  return out;
}

namespace {

// `chip` without the operator entries of class `c`.
Chip WithoutOperatorEntries(const Chip& chip, OperatorClass c) {
  Chip out = chip;
  for (OperatorEfficiency& e : *out.mutable_efficiency()) {
    if (e.op() == c) e.clear_operators();
  }
  return out;
}

}  // namespace

namespace {

// Fits the class entry (named < 0: on every row of the class, with the
// chip's operator entries of the class removed so that the class entry
// prices them) or the entry of one named operator (on its rows only).
absl::StatusOr<ClassFit> FitImpl(const Chip& chip_in, OperatorClass op_class,
                                 int named,
                                 const std::vector<CalibrationRow>& rows,
                                 const OperatorModelOptions& base_in) {
  // The ELEMENTWISE class entry is fitted as if no operator had its own
  // defaults either: every row is then priced by the class entry alone.
  OperatorModelOptions base = base_in;
  if (op_class == OPERATOR_CLASS_ELEMENTWISE && named < 0) {
    base.operator_efficiency.fill(base.efficiency[OPERATOR_CLASS_ELEMENTWISE]);
  }
  std::vector<Param> params = ParamsFor(op_class);
  if (params.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no efficiency fit for class ", OperatorClassShortName(op_class)));
  }
  const Chip chip =
      named < 0 ? WithoutOperatorEntries(chip_in, op_class) : chip_in;
  const std::string op_name = named >= 0 ? NamedOperatorName(named) : "";
  std::vector<CalibrationRow> own = RowsOfClass(rows, op_class);
  if (named >= 0) {
    std::vector<CalibrationRow> mine;
    for (CalibrationRow& r : own)
      if (NamedOperatorIndex(r.op()) == named) mine.push_back(std::move(r));
    own.swap(mine);
  }
  if (own.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no rows of class ", OperatorClassShortName(op_class),
        op_name.empty() ? "" : " op ", op_name, " to fit on ", chip.name()));
  }
  // NORM on a chip with compute units: the wave term's rows per unit is
  // chosen from a grid (it enters through a ceiling, so the loss is a step
  // function of it).
  // The ELEMENTWISE class entry prices only operators without their own
  // entry (sampling, embedding: rows of a vocabulary or hidden width nobody
  // measured), so it keeps the plain memory roofline; the per-row, wave and
  // cache terms are fitted per named operator.
  if (op_class == OPERATOR_CLASS_ELEMENTWISE && named < 0) {
    params = {Param::kMemory, Param::kRampMb, Param::kFloorUs};
  }
  const bool fit_waves =
      (op_class == OPERATOR_CLASS_NORM ||
       (op_class == OPERATOR_CLASS_ELEMENTWISE && named >= 0)) &&
      chip.compute_units() > 0;
  if (fit_waves) params.push_back(Param::kRowsPerUnit);
  std::vector<OperatorQuery> queries;
  queries.reserve(own.size());
  for (size_t i = 0; i < own.size(); ++i) {
    absl::StatusOr<OperatorQuery> q = QueryFromRow(own[i]);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", i + 1, ": ", q.status().message()));
    }
    queries.push_back(*q);
  }
  absl::StatusOr<OperatorPricer> start = OperatorPricer::Create(chip, base);
  if (!start.ok()) return start.status();

  // The efficiency in force before the fit is the starting point.
  const ClassEfficiency current =
      ResolveEfficiency(base, chip, op_class, op_name);

  // The grid values being tried (kOverlap, kRowsPerUnit).
  double overlap_p = 1.5;
  double rows_per_unit = 2;
  auto is_grid = [](Param p) {
    return p == Param::kOverlap || p == Param::kRowsPerUnit;
  };
  auto value_of = [&](size_t i, const std::vector<double>& x) {
    if (params[i] == Param::kOverlap) return overlap_p;
    if (params[i] == Param::kRowsPerUnit) return rows_per_unit;
    return ToValue(params[i], x[i]);
  };
  auto entry_for = [&](const std::vector<double>& x) {
    OperatorEfficiency e;
    e.set_op(op_class);
    e.set_framework(base.framework);
    if (!op_name.empty()) e.set_op_name(op_name);
    for (size_t i = 0; i < params.size(); ++i)
      SetField(params[i], value_of(i, x), &e);
    SetFixedFields(op_class, &e);
    return e;
  };
  auto loss = [&](const std::vector<double>& x) {
    return MeanLoss(WithEfficiency(chip, entry_for(x)), base, queries, own);
  };
  // The overlap exponent is chosen from {1, 4/3, 3/2, 2}, the values the
  // model evaluates in closed form (operator_model.cc CombineMode), with
  // the other parameters fitted for each; the best loss wins.
  // Rows per unit from {0 (no wave term), 1, 2, 4} (thread blocks of one
  // row each resident per SM), likewise.
  std::vector<double> best_x;
  double best_loss = 0;
  double best_p = 1.5;
  double best_rows = 2;
  const bool fit_overlap =
      std::find(params.begin(), params.end(), Param::kOverlap) != params.end();
  std::vector<std::pair<double, double>> grid;
  for (double p : {1.0, 4.0 / 3.0, 1.5, 2.0}) {
    if (!fit_overlap && p != 1.0) break;
    for (double r : {0.0, 1.0, 2.0, 4.0}) {
      if (!fit_waves && r != 0.0) break;
      grid.emplace_back(p, r);
    }
  }
  for (const auto& [p, wave] : grid) {
    overlap_p = p;
    rows_per_unit = wave;
    std::vector<double> x(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      x[i] = is_grid(params[i])
                 ? 0
                 : ToCoordinate(params[i], StartValue(params[i], current));
    }
    std::vector<bool> frozen(params.size());
    for (size_t i = 0; i < params.size(); ++i) frozen[i] = is_grid(params[i]);
    // Minimise over the free coordinates only.
    std::vector<size_t> free;
    for (size_t i = 0; i < params.size(); ++i)
      if (!frozen[i]) free.push_back(i);
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
    }
  }
  std::vector<double> x = best_x;
  overlap_p = best_p;
  rows_per_unit = best_rows;

  ClassFit fit;
  fit.op_class = op_class;
  fit.op_name = op_name;
  fit.efficiency = entry_for(x);
  fit.rows = static_cast<int64_t>(own.size());
  fit.loss = loss(x);
  // Round to 3 significant digits: the stored entry is what the model uses.
  OperatorEfficiency rounded;
  rounded.set_op(op_class);
  rounded.set_framework(base.framework);
  if (!op_name.empty()) rounded.set_op_name(op_name);
  for (size_t i = 0; i < params.size(); ++i) {
    const double v = value_of(i, x);
    if (is_grid(params[i])) {
      SetField(params[i], std::round(v * 1e4) / 1e4, &rounded);
      continue;
    }
    SetField(params[i], RoundTo3Digits(v), &rounded);
  }
  SetFixedFields(op_class, &rounded);
  fit.efficiency = rounded;
  fit.efficiency.set_source(
      absl::StrCat("fleetsim calibrate fit: ", own.size(), " rows of ",
                   op_name.empty() ? OperatorClassShortName(op_class) : op_name,
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

namespace {

// The two alpha-beta lines of one rank count's all-reduce rows
// (ClassEfficiency::CollectiveFit), by Nelder-Mead on the same Huber loss,
// priced through the cost model with that one entry in force.
absl::StatusOr<CollectiveFit> FitAllReduceLines(
    const Chip& chip, int ranks, const std::vector<CalibrationRow>& rows,
    const std::vector<OperatorQuery>& queries,
    const OperatorModelOptions& base) {
  auto entry_for = [ranks](const std::vector<double>& x) {
    CollectiveFit f;
    f.set_ranks(ranks);
    f.set_latency_us(std::exp(x[0]));
    f.set_bus_efficiency(std::exp(x[1]));
    f.set_bulk_latency_us(std::exp(x[2]));
    f.set_bulk_bus_efficiency(std::exp(x[3]));
    return f;
  };
  auto chip_with = [&chip](const CollectiveFit& f) {
    OperatorEfficiency e;
    e.set_op(OPERATOR_CLASS_COLLECTIVE);
    *e.add_collective_fits() = f;
    return WithEfficiency(chip, e);
  };
  auto loss = [&](const std::vector<double>& x) {
    return MeanLoss(chip_with(entry_for(x)), base, queries, rows);
  };
  // Start: a ~10 us low-latency line at a third of the bus, a ~30 us bulk
  // line at 80 %.
  std::vector<double> x = {std::log(10.0), std::log(0.3), std::log(30.0),
                           std::log(0.8)};
  x = NelderMead(loss, x, 0.5, 800);
  x = NelderMead(loss, x, 0.1, 400);
  CollectiveFit f = entry_for(x);
  f.set_latency_us(RoundTo3Digits(f.latency_us()));
  f.set_bus_efficiency(RoundTo3Digits(f.bus_efficiency()));
  f.set_bulk_latency_us(RoundTo3Digits(f.bulk_latency_us()));
  f.set_bulk_bus_efficiency(RoundTo3Digits(f.bulk_bus_efficiency()));
  return f;
}

// COLLECTIVE: one pair of alpha-beta lines per rank count of the all-reduce
// rows within one machine (the other collectives keep the ring formula).
absl::StatusOr<ClassFit> FitCollective(const Chip& chip,
                                       const std::vector<CalibrationRow>& rows,
                                       const OperatorModelOptions& base) {
  std::map<int, std::vector<CalibrationRow>> by_ranks;
  for (const CalibrationRow& r : rows) {
    if (r.op_class() != OPERATOR_CLASS_COLLECTIVE || r.op() != "all_reduce" ||
        r.ranks() < 2 || r.ranks() > base.chips_per_machine) {
      continue;
    }
    by_ranks[r.ranks()].push_back(r);
  }
  if (by_ranks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no all_reduce rows within one machine (2-", base.chips_per_machine,
        " ranks) to fit collectives on ", chip.name()));
  }
  ClassFit fit;
  fit.op_class = OPERATOR_CLASS_COLLECTIVE;
  // NCCL's lines are the same whatever framework calls it.
  fit.efficiency.set_op(OPERATOR_CLASS_COLLECTIVE);
  std::vector<CalibrationRow> used;
  for (const auto& [ranks, own] : by_ranks) {
    std::vector<OperatorQuery> queries;
    for (size_t i = 0; i < own.size(); ++i) {
      absl::StatusOr<OperatorQuery> q = QueryFromRow(own[i]);
      if (!q.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("row ", i + 1, ": ", q.status().message()));
      }
      queries.push_back(*q);
    }
    absl::StatusOr<CollectiveFit> lines =
        FitAllReduceLines(chip, ranks, own, queries, base);
    if (!lines.ok()) return lines.status();
    *fit.efficiency.add_collective_fits() = *lines;
    used.insert(used.end(), own.begin(), own.end());
  }
  fit.rows = static_cast<int64_t>(used.size());
  fit.efficiency.set_source(absl::StrCat(
      "fleetsim calibrate fit: ", used.size(), " rows of all_reduce (",
      by_ranks.size(), " rank counts) on ", chip.name()));
  absl::StatusOr<OperatorPricer> pricer =
      OperatorPricer::Create(WithEfficiency(chip, fit.efficiency), base);
  if (!pricer.ok()) return pricer.status();
  absl::StatusOr<std::vector<double>> errors = RowErrors(*pricer, used);
  if (!errors.ok()) return errors.status();
  double loss = 0;
  for (double e : *errors) loss += HuberLog(1 + e, 1);
  fit.loss = loss / static_cast<double>(used.size());
  fit.in_sample = SummariseErrors(*errors);
  return fit;
}

}  // namespace

absl::StatusOr<ClassFit> FitClass(const Chip& chip, OperatorClass op_class,
                                  const std::vector<CalibrationRow>& rows,
                                  const OperatorModelOptions& base) {
  if (op_class == OPERATOR_CLASS_COLLECTIVE)
    return FitCollective(chip, rows, base);
  return FitImpl(chip, op_class, -1, rows, base);
}

absl::StatusOr<ClassFit> FitOperator(const Chip& chip, OperatorClass op_class,
                                     std::string_view op_name,
                                     const std::vector<CalibrationRow>& rows,
                                     const OperatorModelOptions& base) {
  const int named =
      op_class == OPERATOR_CLASS_ELEMENTWISE ? NamedOperatorIndex(op_name) : -1;
  if (named < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no per-operator fit for '", std::string(op_name),
                     "' of class ", OperatorClassShortName(op_class)));
  }
  return FitImpl(chip, op_class, named, rows, base);
}

absl::StatusOr<std::vector<ClassFit>> FitClassAndOperators(
    const Chip& chip, OperatorClass op_class,
    const std::vector<CalibrationRow>& rows, const OperatorModelOptions& base) {
  std::vector<ClassFit> fits;
  absl::StatusOr<ClassFit> cls = FitClass(chip, op_class, rows, base);
  if (!cls.ok()) return cls.status();
  fits.push_back(*std::move(cls));
  if (op_class != OPERATOR_CLASS_ELEMENTWISE) return fits;
  bool present[kNumNamedOperators] = {};
  for (const CalibrationRow& r : rows) {
    const int i = NamedOperatorIndex(r.op());
    if (r.op_class() == op_class && i >= 0) present[i] = true;
  }
  for (int i = 0; i < kNumNamedOperators; ++i) {
    if (!present[i]) continue;
    absl::StatusOr<ClassFit> op = FitImpl(chip, op_class, i, rows, base);
    if (!op.ok()) return op.status();
    fits.push_back(*std::move(op));
  }
  return fits;
}

absl::StatusOr<CvResult> CrossValidateClass(
    const Chip& chip, OperatorClass op_class,
    const std::vector<CalibrationRow>& rows, const OperatorModelOptions& base) {
  std::vector<CalibrationRow> own = RowsOfClass(rows, op_class);
  if (op_class == OPERATOR_CLASS_COLLECTIVE) {
    // Only what FitCollective fits: all-reduce within one machine.
    std::vector<CalibrationRow> fitted;
    for (CalibrationRow& r : own) {
      if (r.op() == "all_reduce" && r.ranks() <= base.chips_per_machine)
        fitted.push_back(std::move(r));
    }
    own.swap(fitted);
  }
  if (own.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no rows of class ", OperatorClassShortName(op_class)));
  }
  CvResult result;
  result.op_class = op_class;
  std::map<std::string, int> models;
  std::map<std::string, int> frameworks;
  for (const CalibrationRow& r : own) {
    ++models[r.model()];
    ++frameworks[r.framework()];
  }
  std::function<std::string(const CalibrationRow&)> key;
  if (models.size() >= 2) {
    result.grouping = "model";
    key = [](const CalibrationRow& r) { return r.model(); };
  } else if (frameworks.size() >= 2) {
    // Framework-measured tables (aiconfigurator): fit the other frameworks'
    // kernels, predict this one's.
    result.grouping = "framework";
    key = [](const CalibrationRow& r) { return r.framework(); };
  } else if (op_class == OPERATOR_CLASS_COLLECTIVE) {
    result.grouping = "ranks";
    key = [](const CalibrationRow& r) {
      return absl::StrCat(r.op(), " ranks=", r.ranks());
    };
  } else {
    // One source table: hold out octaves of the swept size (prefill chunk
    // tokens, decode batch), i.e. extrapolate to unseen sizes.
    const bool prefill = op_class == OPERATOR_CLASS_ATTENTION_PREFILL;
    result.grouping = prefill ? "chunk octave" : "batch octave";
    key = [prefill](const CalibrationRow& r) {
      const int64_t b =
          std::max<int64_t>(prefill ? r.new_tokens() : r.batch(), 1);
      const int octave = static_cast<int>(std::floor(std::log2(b)));
      return absl::StrCat(prefill ? "chunk " : "batch ", int64_t{1} << octave,
                          "-", (int64_t{2} << octave) - 1);
    };
  }
  std::map<std::string, std::vector<CalibrationRow>> groups;
  for (const CalibrationRow& r : own) groups[key(r)].push_back(r);
  if (groups.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("cross-validation of ", OperatorClassShortName(op_class),
                     " needs at least two groups, got ", groups.size()));
  }
  std::vector<double> pooled;
  std::vector<double> pooled_slow;
  for (const auto& [name, held_out] : groups) {
    std::vector<CalibrationRow> train;
    for (const CalibrationRow& r : own)
      if (key(r) != name) train.push_back(r);
    absl::StatusOr<std::vector<ClassFit>> fits =
        FitClassAndOperators(chip, op_class, train, base);
    if (!fits.ok()) return fits.status();
    Chip fitted = chip;
    for (const ClassFit& f : *fits)
      fitted = WithEfficiency(fitted, f.efficiency);
    absl::StatusOr<OperatorPricer> pricer =
        OperatorPricer::Create(fitted, base);
    if (!pricer.ok()) return pricer.status();
    absl::StatusOr<std::vector<double>> errors = RowErrors(*pricer, held_out);
    if (!errors.ok()) return errors.status();
    std::vector<double> slow;
    for (size_t i = 0; i < held_out.size(); ++i) {
      if (held_out[i].median_s() >= kFastRowSeconds)
        slow.push_back((*errors)[i]);
    }
    pooled.insert(pooled.end(), errors->begin(), errors->end());
    pooled_slow.insert(pooled_slow.end(), slow.begin(), slow.end());
    result.groups.push_back(
        CvGroup{name, SummariseErrors(*errors), SummariseErrors(slow)});
  }
  result.pooled = SummariseErrors(pooled);
  result.pooled_slow = SummariseErrors(pooled_slow);
  return result;
}

absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfModel(
    const std::string& path) {
  FLEETSIM_ASSIGN_OR_RETURN(std::vector<IterationPoint> rows,
                            ReadSplitwisePerfRows(path));
  struct Acc {
    IterationPoint p;
    std::vector<double> prompt;
    std::vector<double> token;
  };
  std::map<std::tuple<std::string, std::string, int, int, int>, Acc> acc;
  for (const IterationPoint& p : rows) {
    if (absl::EndsWith(p.hardware, "-pcap")) continue;
    Acc& a = acc[{p.model, p.hardware, p.tp, p.prompt_tokens, p.batch}];
    if (a.prompt.empty()) a.p = p;
    a.prompt.push_back(p.prompt_s);
    a.token.push_back(p.token_s);
  }
  std::vector<IterationPoint> out;
  for (auto& [k, a] : acc) {
    std::sort(a.prompt.begin(), a.prompt.end());
    std::sort(a.token.begin(), a.token.end());
    a.p.prompt_s = PercentileOfSorted(a.prompt, 50);
    a.p.token_s = PercentileOfSorted(a.token, 50);
    a.p.repetitions = static_cast<int>(a.prompt.size());
    out.push_back(a.p);
  }
  // A whole-batch prefill cannot be faster than half of it.
  for (IterationPoint& p : out) {
    if (p.batch < 2 || p.batch % 2 != 0) continue;
    auto half =
        acc.find({p.model, p.hardware, p.tp, p.prompt_tokens, p.batch / 2});
    if (half != acc.end() && p.prompt_s < half->second.p.prompt_s) {
      p.inconsistent = true;
    }
  }
  return out;
}

OverheadFit FitFrameworkOverhead(const std::vector<IterationSample>& samples,
                                 bool per_layer) {
  // Weighted least squares of r = measured - kernel on (1, layers), weights
  // 1 / measured^2 (relative error).
  double s11 = 0, s1l = 0, sll = 0, s1r = 0, slr = 0;
  for (const IterationSample& s : samples) {
    const double w = 1.0 / (s.measured_s * s.measured_s);
    const double r = s.measured_s - s.kernel_s;
    const double l = per_layer ? s.layers : 0;
    s11 += w;
    s1l += w * l;
    sll += w * l * l;
    s1r += w * r;
    slr += w * l * r;
  }
  OverheadFit fit;
  if (s11 <= 0) return fit;
  const double det = s11 * sll - s1l * s1l;
  if (!per_layer || std::fabs(det) < 1e-12 * s11 * sll) {
    if (per_layer) {
      // One layer count: all of it per layer.
      double num = 0, den = 0;
      for (const IterationSample& s : samples) {
        const double w = 1.0 / (s.measured_s * s.measured_s);
        num += w * s.layers * (s.measured_s - s.kernel_s);
        den += w * s.layers * s.layers;
      }
      fit.layer_overhead_s = den > 0 ? std::max(0.0, num / den) : 0;
    } else {
      fit.iteration_overhead_s = std::max(0.0, s1r / s11);
    }
    return fit;
  }
  double a = (sll * s1r - s1l * slr) / det;
  double b = (s11 * slr - s1l * s1r) / det;
  if (a < 0) {
    a = 0;
    b = sll > 0 ? std::max(0.0, slr / sll) : 0;
  } else if (b < 0) {
    b = 0;
    a = std::max(0.0, s1r / s11);
  }
  fit.iteration_overhead_s = a;
  fit.layer_overhead_s = b;
  return fit;
}

double OverheadFit::Overhead(const IterationSample& s) const {
  return iteration_overhead_s +
         s.layers * (layer_overhead_s + request_layer_overhead_s * s.requests) +
         attention_scale * s.attention_decode_s;
}

namespace {

// Non-negative weighted least squares of r = measured - kernel on two
// features (weights 1 / measured^2): both free, else the better of the two
// one-feature fits.
std::pair<double, double> FitTwoNonNegative(
    const std::vector<IterationSample>& samples,
    const std::function<double(const IterationSample&)>& f1,
    const std::function<double(const IterationSample&)>& f2) {
  double s11 = 0, s12 = 0, s22 = 0, s1r = 0, s2r = 0, srr = 0;
  for (const IterationSample& s : samples) {
    const double w = 1.0 / (s.measured_s * s.measured_s);
    const double r = s.measured_s - s.kernel_s;
    const double a = f1(s), b = f2(s);
    s11 += w * a * a;
    s12 += w * a * b;
    s22 += w * b * b;
    s1r += w * a * r;
    s2r += w * b * r;
    srr += w * r * r;
  }
  auto loss = [&](double a, double b) {
    return srr - 2 * (a * s1r + b * s2r) + a * a * s11 + 2 * a * b * s12 +
           b * b * s22;
  };
  const double det = s11 * s22 - s12 * s12;
  if (det > 1e-12 * s11 * s22) {
    const double a = (s22 * s1r - s12 * s2r) / det;
    const double b = (s11 * s2r - s12 * s1r) / det;
    if (a >= 0 && b >= 0) return {a, b};
  }
  const double a = s11 > 0 ? std::max(0.0, s1r / s11) : 0;
  const double b = s22 > 0 ? std::max(0.0, s2r / s22) : 0;
  return loss(a, 0) <= loss(0, b) ? std::make_pair(a, 0.0)
                                  : std::make_pair(0.0, b);
}

}  // namespace

OverheadFit FitServingStackProfile(
    const std::vector<IterationSample>& samples) {
  const auto [b, c] = FitTwoNonNegative(
      samples, [](const IterationSample& s) { return double(s.layers); },
      [](const IterationSample& s) { return double(s.layers) * s.requests; });
  OverheadFit fit;
  fit.layer_overhead_s = b;
  fit.request_layer_overhead_s = c;
  return fit;
}

OverheadFit FitDecodeAttentionScale(
    const std::vector<IterationSample>& samples) {
  const auto [b, scale] = FitTwoNonNegative(
      samples, [](const IterationSample& s) { return double(s.layers); },
      [](const IterationSample& s) { return s.attention_decode_s; });
  OverheadFit fit;
  fit.layer_overhead_s = b;
  fit.attention_scale = scale;
  return fit;
}

}  // namespace fleetsim::hardware
