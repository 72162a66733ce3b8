#include "hardware/operator_model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hardware/model_footprint.h"

namespace fleetsim::hardware {

const char* BoundName(Bound bound) {
  switch (bound) {
    case Bound::kCompute:
      return "compute";
    case Bound::kVector:
      return "vector";
    case Bound::kMemory:
      return "memory";
    case Bound::kFloor:
      return "floor";
    case Bound::kNetwork:
      return "network";
  }
  return "unknown";
}

int NamedOperatorIndex(std::string_view name) {
  if (name == "rope" || name == "rotary") {
    return static_cast<int>(NamedOperator::kRope);
  }
  if (name == "mlp_act" || name == "mlp_act_ungated" || name == "activation" ||
      name == "moe_activation") {
    return static_cast<int>(NamedOperator::kMlpAct);
  }
  if (name == "residual_add" || name == "add") {
    return static_cast<int>(NamedOperator::kResidualAdd);
  }
  return -1;
}

const char* NamedOperatorName(int index) {
  switch (index) {
    case 0:
      return "rope";
    case 1:
      return "mlp_act";
    case 2:
      return "residual_add";
    default:
      return "";
  }
}

namespace {

// Batch features every operator's FLOPs and bytes are linear in. Building
// them is O(1) from the aggregate BatchShape.
enum Feature : int {
  kOne = 0,          // constant (weights)
  kTokens,           // prefill tokens + decode requests: rows of token ops
  kPrefillTokens,    // sum T_i
  kPairs,            // causal query-key pairs
  kPrefillContext,   // sum (L_i + T_i)
  kPrefillRequests,  // prefill chunks
  kDecodeRequests,   // decode requests (one token each)
  kDecodeContext,    // sum (L_j + 1)
  kLmRows,           // LM-head rows: prefill requests + decode requests
  kNumFeatures
};

using Coeffs = std::array<double, kNumFeatures>;

inline double Dot(const Coeffs& c, const double* x) {
  double s = 0;
  for (int i = 0; i < kNumFeatures; ++i) s += c[i] * x[i];
  return s;
}

// How the tensor, vector and memory times of an operator combine.
// p in {1, 4/3, 3/2, 2} (within 0.005; what `fleetsim calibrate fit` picks
// from) and p >= 32 have closed forms with one or two sqrt/cbrt; any other p
// costs four std::pow calls per operator.
enum class CombineMode { kMax, kSum, kP43, kP15, kP2, kGeneric };

CombineMode ModeFor(double p) {
  if (p >= 32) return CombineMode::kMax;
  if (std::fabs(p - 1.0) < 0.005) return CombineMode::kSum;
  if (std::fabs(p - 4.0 / 3.0) < 0.005) return CombineMode::kP43;
  if (std::fabs(p - 1.5) < 0.005) return CombineMode::kP15;
  if (std::fabs(p - 2.0) < 0.005) return CombineMode::kP2;
  return CombineMode::kGeneric;
}

inline double Combine(CombineMode mode, double p, double a, double b,
                      double c) {
  const double m = std::max(a, std::max(b, c));
  if (m <= 0) return 0;
  switch (mode) {
    case CombineMode::kMax:
      return m;
    case CombineMode::kSum:
      return a + b + c;
    case CombineMode::kP43: {
      // (sum x^(4/3))^(3/4)
      const double s = a * std::cbrt(a) + b * std::cbrt(b) + c * std::cbrt(c);
      return std::sqrt(std::sqrt(s * s * s));
    }
    case CombineMode::kP15: {
      const double s = a * std::sqrt(a) + b * std::sqrt(b) + c * std::sqrt(c);
      return std::cbrt(s * s);
    }
    case CombineMode::kP2:
      return std::sqrt(a * a + b * b + c * c);
    case CombineMode::kGeneric:
      break;
  }
  return std::pow(std::pow(a, p) + std::pow(b, p) + std::pow(c, p), 1.0 / p);
}

std::string ClassName(OperatorClass c) {
  std::string name = OperatorClass_Name(c);
  constexpr std::string_view kPrefix = "OPERATOR_CLASS_";
  if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
  for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
  return name;
}

}  // namespace

// One operator of the per-iteration table: FLOPs, vector FLOPs and bytes of
// ONE invocation as linear functions of the batch features, how many
// invocations an iteration makes (usually once per layer), and the resolved
// rates of the unit that runs it.
struct OperatorModel::Op {
  enum class Kind { kRoofline, kMoeExperts, kAllReduce, kGather, kSendRecv };

  std::string name;
  OperatorClass op_class = OPERATOR_CLASS_UNSPECIFIED;
  Kind kind = Kind::kRoofline;
  Feature gate = kTokens;  // the op runs only when this feature is > 0
  double invocations = 1;
  Coeffs flops{};
  Coeffs vector_flops{};
  Coeffs bytes{};

  // Resolved at construction: seconds per FLOP / vector FLOP / byte.
  double s_per_flop = 0;
  double s_per_vector_flop = 0;
  double s_per_byte = 0;
  double ramp_bytes = 0;
  double floor_s = 0;
  double p = 1.5;  // smooth-maximum exponent of this op's class
  CombineMode mode = CombineMode::kP15;
  // Fused prefill attention: eta_c(L) = eta_c L / (L + ramp), L = mean
  // context per request = C_p / R_p.
  double compute_ramp_tokens = 0;
  // GEMM: seconds added to the tensor term, and the relative cost of a
  // 64-row tile's FLOPs (0 = no M-tile term; GemmTileRows).
  double compute_latency_s = 0;
  double tile_cost_64 = 0;
  // Norm / elementwise: rows per wave (0 = no wave term), the cache term's
  // W0 in bytes (0 = off) and speedup - 1 (docs/calibration.md §4).
  // Precomputed for the hot path: any of the three terms on, the bytes
  // of one row (bytes are linear in row_feature alone) plus its overhead,
  // 1 / wave_rows, 1 / cache_bytes.
  bool memory_terms = false;
  // Any non-zero FLOP / vector FLOP coefficient (set after the table is
  // built; the hot path skips empty dot products).
  bool has_flops = false;
  bool has_vector_flops = false;
  double wave_rows = 0;
  double inv_wave_rows = 0;
  double inv_cache_bytes = 0;
  double cache_gain = 0;
  double cache_resident = 1;  // 1 / (1 + cache_gain)
  double row_bytes = 0;       // per-row overhead in bytes (0 = off)

  // MoE: distinct experts touched E_hit(N) = E (1 - (1 - k/E)^N), each
  // streaming `expert_bytes` of weights (this chip's share).
  double num_experts = 0;
  double log_miss = 0;  // log(1 - k/E)
  double expert_bytes = 0;

  // Collectives: ranks, seconds per byte of the link, latency per step.
  int ranks = 1;
  double link_s_per_byte = 0;
  double alpha_s = 0;

  // Shape for OperatorQuery (calibration hooks).
  Feature row_feature = kTokens;
  int64_t gemm_k = 0;
  int64_t gemm_n = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int64_t width = 0;   // elements per row for norm/elementwise
  double io_rows = 0;  // rows of `width` read + written per output row
  double weight_bytes = 2;
  double kv_bytes = 2;
};

OperatorModel::OperatorModel(const Model& model, const Chip& chip, int tp,
                             int pp, const OperatorModelOptions& options)
    : model_(model), chip_(chip), tp_(tp), pp_(pp), options_(options) {}

OperatorModel::~OperatorModel() = default;

std::array<ClassEfficiency, kNumOperatorClasses>
OperatorModelOptions::DefaultEfficiencies() {
  std::array<ClassEfficiency, kNumOperatorClasses> e;
  // The efficiency behaviour learned on the measured GPUs (`fleetsim
  // calibrate fit`, docs/calibration.md §4; data/calibration/fits/), the
  // default for every chip nobody measured. Fields: eta_c, eta_m, eta_v,
  // floor, ramp bytes, parallel columns, overlap exponent.
  // GEMM: fit to Vidur's H100 QKV/O/up/down rows of 5 models, TP 1-8,
  // 1-4096 tokens (2380 rows; leave-one-model-out median / p90 APE 5.1 % /
  // 17.6 %, 6.2 % / 19.0 % before the M-tile and compute-latency terms):
  // token rows run in 64- or 128-row tiles (24.9 operand rows of overhead
  // per tile, so 64-row tiles cost 1.16x per FLOP and m = 160 pays for 192
  // rows), 4.76 us of tile-loop fill/drain adds to the tensor time, p = 2.
  ClassEfficiency gemm{0.725, 0.924, 0.7, 5.81e-6, 5.51e6, 630, 2.0};
  gemm.compute_latency_s = 4.76e-6;
  gemm.tile_overhead_rows = 24.9;
  e[OPERATOR_CLASS_UNSPECIFIED] = gemm;
  e[OPERATOR_CLASS_GEMM] = gemm;
  e[OPERATOR_CLASS_MOE] = gemm;
  // Attention: fit to Vidur's A100 FlashAttention table (the only measured
  // attention; H100 uses the same fractions of its own peaks). Prefill:
  // eta_c 0.565 ramping with context (half at 1820 tokens), p = 1 (the
  // softmax's vector time adds to the tensor time); eta_m stays 0.8 and
  // eta_v 0.7 (ASSUMPTIONS: the table cannot separate them).
  ClassEfficiency prefill{0.565, 0.8, 0.7, 21.7e-6, 0, 0, 1.0};
  prefill.compute_ramp_tokens = 1820;
  e[OPERATOR_CLASS_ATTENTION_PREFILL] = prefill;
  e[OPERATOR_CLASS_ATTENTION_DECODE] = {0.28, 0.807, 0.7, 13.6e-6, 24.9e6};
  // Norms: fit to Vidur's H100 RMSNorm rows (1155; leave-one-model-out
  // median / p90 APE 2.7 / 14.1 %): one thread block per token row, 2 rows
  // per SM per wave (a partial wave costs a full one, which sets the
  // shortest norm: no floor), 5.69 KB of traffic-equivalent fixed cost per
  // row, 1.52x the bandwidth while the working set is below ~0.47 of the
  // on-chip memory (Vidur re-runs the kernel on L2-resident tensors).
  ClassEfficiency norm{0.7, 0.435, 0.7, 0, 3.37e6};
  norm.cache_speedup = 1.52;
  norm.cache_fraction = 0.466;
  norm.rows_per_unit = 2;
  norm.row_overhead_bytes = 5.69e3;
  e[OPERATOR_CLASS_NORM] = norm;
  // Elementwise kernels without their own entry (sampling, embedding): the
  // class fit to Vidur's H100 rope/activation/add rows (plain roofline). The
  // three measured kernels have their own defaults
  // (DefaultOperatorEfficiencies()).
  e[OPERATOR_CLASS_ELEMENTWISE] = {0.7, 0.736, 0.7, 2.22e-6, 5.08e6};
  // Latency is alpha per ring step (OperatorModelOptions).
  e[OPERATOR_CLASS_COLLECTIVE] = {1.0, 1.0, 1.0, 0, 0};
  // ASSUMPTION: selective-scan/SSD kernels are bandwidth-bound and far from
  // tensor peak (arXiv 2508.17679).
  e[OPERATOR_CLASS_SSM] = {0.5, 0.7, 0.5, 5e-6, 0};
  return e;
}

std::array<ClassEfficiency, kNumNamedOperators>
OperatorModelOptions::DefaultOperatorEfficiencies() {
  // Per-operator fits to Vidur's H100 rows (595 each, 5 models;
  // `fleetsim calibrate fit`, docs/calibration.md §4): eta_m, floor, ramp
  // bytes, then cache speedup / fraction of sram_mb, rows per compute unit
  // per wave (0 = no wave term) and fixed bytes per row.
  auto entry = [](double memory, double floor_s, double ramp_bytes,
                  double cache_speedup, double cache_fraction,
                  double rows_per_unit, double row_bytes) {
    ClassEfficiency c{0.7, memory, 0.7, floor_s, ramp_bytes};
    c.cache_speedup = cache_speedup;
    c.cache_fraction = cache_fraction;
    c.rows_per_unit = rows_per_unit;
    c.row_overhead_bytes = row_bytes;
    return c;
  };
  std::array<ClassEfficiency, kNumNamedOperators> e;
  // Rotary (NeoX, Q and K heads): ~1.6 TB/s on H100.
  e[static_cast<int>(NamedOperator::kRope)] =
      entry(0.49, 1.98e-6, 3.19e6, 1.12, 0.66, 1, 0.161e3);
  // SiLU * mul: one block per token, 2 per SM per wave; 7.26 KB per row.
  e[static_cast<int>(NamedOperator::kMlpAct)] =
      entry(0.752, 1.97e-6, 0.0491e6, 1.21, 0.157, 2, 7.26e3);
  // Residual add: a grid-stride kernel at the full HBM bandwidth (no wave
  // term), 1.38x while the working set fits in ~0.71 of the on-chip memory.
  e[static_cast<int>(NamedOperator::kResidualAdd)] =
      entry(1.0, 1.55e-13, 6.94e6, 1.38, 0.707, 0, 1.55e3);
  return e;
}

OperatorModelOptions OperatorModelOptions::WithSplitwiseOverhead() {
  OperatorModelOptions o;
  o.layer_overhead_s = kSplitwiseLayerOverheadS;
  o.request_layer_overhead_s = kSplitwiseRequestLayerOverheadS;
  return o;
}

OperatorModelOptions OperatorModelOptions::LlmCompassLike() {
  OperatorModelOptions o;
  o.fuse_attention = false;
  // PrincetonUniversity/LLMCompass@software_model: softmax.py
  // (M*N*(flops_per_exp*3 + 7)), gelu.py (10 + flops_per_exp),
  // layernorm.py (7 per element); compute_module.py flops_per_exp = 35.
  o.exp_vector_flops = 35;
  o.softmax_exps_per_score = 3;
  o.softmax_flops_per_score = 7;
  o.gelu_flops = 10;
  o.layernorm_flops = 7;
  return o;
}

namespace {

// Collects validation problems; one InvalidArgument lists them all.
class Problems {
 public:
  void Add(std::string problem) { list_.push_back(std::move(problem)); }
  absl::Status ToStatus(const std::string& what) const {
    if (list_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", absl::StrJoin(list_, "; ")));
  }

 private:
  std::vector<std::string> list_;
};

void CheckDivides(Problems& p, const char* field, int64_t value, int tp) {
  if (value % tp != 0) {
    p.Add(absl::StrCat(field, " = ", value, " is not divisible by tp = ", tp));
  }
}

void ValidateChipAndOptions(const Chip& chip, const OperatorModelOptions& o,
                            Problems& p);

absl::Status Validate(const Model& model, const Chip& chip, int tp, int pp,
                      const OperatorModelOptions& o) {
  Problems p;
  if (tp > 1 && chip.scale_up_gbps() <= 0) {
    p.Add("tp > 1 needs chip scale_up_gbps > 0");
  }
  if (pp > 1 && tp * pp > o.chips_per_machine && chip.scale_out_gbps() <= 0) {
    p.Add("pipeline stages across machines need chip scale_out_gbps > 0");
  }
  if (tp < 1) p.Add(absl::StrCat("tp must be >= 1, got ", tp));
  if (pp < 1) p.Add(absl::StrCat("pp must be >= 1, got ", pp));
  if (model.num_layers() <= 0) p.Add("model num_layers must be > 0");
  if (model.hidden_size() <= 0) p.Add("model hidden_size must be > 0");
  if (model.vocab_size() <= 0) p.Add("model vocab_size must be > 0");
  if (pp > model.num_layers() && model.num_layers() > 0) {
    p.Add(absl::StrCat("pp = ", pp,
                       " exceeds num_layers = ", model.num_layers()));
  }
  const int t = std::max(tp, 1);
  if (NumAttentionLayers(model) > 0) {
    if (model.num_heads() <= 0) p.Add("model num_heads must be > 0");
    if (model.attention() == ATTENTION_KIND_MLA) {
      const MlaConfig& mla = model.mla();
      if (mla.kv_lora_rank() <= 0 || mla.qk_nope_head_dim() <= 0 ||
          mla.qk_rope_head_dim() <= 0 || mla.v_head_dim() <= 0) {
        p.Add(
            "MLA model needs mla.kv_lora_rank, qk_nope_head_dim, "
            "qk_rope_head_dim and v_head_dim > 0");
      }
    } else {
      if (model.head_dim() <= 0) p.Add("model head_dim must be > 0");
      if (model.num_kv_heads() <= 0) {
        p.Add("model num_kv_heads must be > 0");
      } else if (model.num_kv_heads() % t != 0 &&
                 t % model.num_kv_heads() != 0) {
        p.Add(absl::StrCat("num_kv_heads = ", model.num_kv_heads(),
                           " and tp = ", t,
                           " must divide one another (KV heads are split or "
                           "replicated)"));
      }
    }
    if (model.num_heads() > 0)
      CheckDivides(p, "num_heads", model.num_heads(), t);
  }
  if (NumDenseMlpLayers(model) > 0) {
    CheckDivides(p, "ffn_dim", DenseFfnDim(model), t);
  }
  if (NumMoeLayers(model) > 0) {
    const MoeConfig& moe = model.moe();
    if (moe.top_k() < 1 || moe.top_k() > moe.num_experts()) {
      p.Add(absl::StrCat("moe.top_k = ", moe.top_k(), " must be in [1, ",
                         moe.num_experts(), "]"));
    }
    if (moe.expert_ffn_dim() <= 0) p.Add("moe.expert_ffn_dim must be > 0");
    CheckDivides(p, "moe.expert_ffn_dim", moe.expert_ffn_dim(), t);
    if (moe.num_shared_experts() > 0) {
      CheckDivides(p, "moe.shared_expert_ffn_dim", moe.shared_expert_ffn_dim(),
                   t);
    }
  }
  if (NumSsmLayers(model) > 0) {
    const SsmConfig& ssm = model.ssm();
    if (ssm.d_state() <= 0 || ssm.conv_kernel() <= 0 || ssm.expand() <= 0) {
      p.Add("SSM model needs ssm.d_state, conv_kernel and expand > 0");
    } else {
      CheckDivides(p, "ssm d_inner (expand * hidden)", SsmInnerDim(model), t);
      if (ssm.head_dim() > 0) {
        if (SsmInnerDim(model) % ssm.head_dim() != 0) {
          p.Add("ssm.head_dim must divide expand * hidden");
        } else {
          CheckDivides(p, "ssm heads (d_inner / head_dim)",
                       SsmInnerDim(model) / ssm.head_dim(), t);
        }
      }
    }
  }
  ValidateChipAndOptions(chip, o, p);
  return p.ToStatus(absl::StrCat("cannot model ", model.name(), " on ",
                                 chip.name(), " with tp=", tp, " pp=", pp));
}

void ValidateChipAndOptions(const Chip& chip, const OperatorModelOptions& o,
                            Problems& p) {
  if (chip.bf16_tflops() <= 0) p.Add("chip bf16_tflops must be > 0");
  if (chip.vector_tflops() <= 0) p.Add("chip vector_tflops must be > 0");
  if (chip.memory_bandwidth_tbps() <= 0) {
    p.Add("chip memory_bandwidth_tbps must be > 0");
  }
  if (o.overlap_exponent < 1) {
    p.Add(absl::StrCat("options.overlap_exponent must be >= 1, got ",
                       o.overlap_exponent));
  }
  if (o.kv_page_tokens < 1) p.Add("options.kv_page_tokens must be >= 1");
  if (o.chips_per_machine < 1) p.Add("options.chips_per_machine must be >= 1");
  if (!(o.collective_efficiency > 0 && o.collective_efficiency <= 1)) {
    p.Add("options.collective_efficiency must be in (0, 1]");
  }
  for (int c = 0; c < kNumOperatorClasses; ++c) {
    const ClassEfficiency& e = o.efficiency[c];
    for (double v : {e.compute, e.memory, e.vector}) {
      if (!(v > 0 && v <= 1)) {
        p.Add(absl::StrCat("options.efficiency[", ClassName(OperatorClass(c)),
                           "] has a fraction outside (0, 1]: ", v));
        break;
      }
    }
  }
  for (int i = 0; i < kNumNamedOperators; ++i) {
    const ClassEfficiency& e = o.operator_efficiency[i];
    for (double v : {e.compute, e.memory, e.vector}) {
      if (!(v > 0 && v <= 1)) {
        p.Add(absl::StrCat("options.operator_efficiency[", NamedOperatorName(i),
                           "] has a fraction outside (0, 1]: ", v));
        break;
      }
    }
  }
  std::vector<const OperatorEfficiency*> entries;
  for (const OperatorEfficiency& e : chip.efficiency()) {
    entries.push_back(&e);
    for (const OperatorEfficiency& sub : e.operators()) {
      entries.push_back(&sub);
      if (e.op() != OPERATOR_CLASS_ELEMENTWISE ||
          NamedOperatorIndex(sub.op_name()) < 0) {
        p.Add(absl::StrCat(
            "chip efficiency for ", ClassName(e.op()),
            " has an operator entry '", sub.op_name(),
            "': only elementwise rope, mlp_act and residual_add have them"));
      }
    }
  }
  for (const OperatorEfficiency* ep : entries) {
    const OperatorEfficiency& e = *ep;
    if ((e.has_cache_speedup() && e.cache_speedup() < 1) ||
        (e.has_cache_fraction() && e.cache_fraction() < 0) ||
        (e.has_rows_per_unit() && e.rows_per_unit() < 0) ||
        (e.has_row_overhead_kb() && e.row_overhead_kb() < 0)) {
      p.Add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                         " has cache_speedup < 1 or a negative cache_fraction, "
                         "rows_per_unit or row_overhead_kb"));
    }
    for (double v : {e.has_compute() ? e.compute() : 1.0,
                     e.has_memory() ? e.memory() : 1.0,
                     e.has_vector() ? e.vector() : 1.0}) {
      if (!(v > 0 && v <= 1)) {
        p.Add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                           " has a fraction outside (0, 1]: ", v));
        break;
      }
    }
    if (e.has_overlap_exponent() && e.overlap_exponent() < 1) {
      p.Add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                         " has overlap_exponent < 1: ", e.overlap_exponent()));
    }
    if ((e.has_memory_ramp_mb() && e.memory_ramp_mb() < 0) ||
        (e.has_parallel_columns() && e.parallel_columns() < 0) ||
        (e.has_step_latency_us() && e.step_latency_us() < 0) ||
        (e.has_compute_latency_us() && e.compute_latency_us() < 0) ||
        (e.has_tile_overhead_rows() && e.tile_overhead_rows() < 0)) {
      p.Add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                         " has a negative ramp, column, latency or tile term"));
    }
  }
  if (chip.has_compute_units() && chip.compute_units() < 1) {
    p.Add("chip compute_units must be >= 1 when set");
  }
  if (o.iteration_overhead_s < 0 || o.layer_overhead_s < 0 ||
      o.request_layer_overhead_s < 0) {
    p.Add(
        "options.iteration_overhead_s, layer_overhead_s and "
        "request_layer_overhead_s must be >= 0");
  }
}

// The cost model's default for `c`, overridden by the chip's chip-wide entry
// (op UNSPECIFIED) and then by its entry for `c` (the convention of
// hardware/chip_catalog.h's EffectiveEfficiency).
// `named` = NamedOperatorIndex of the operator (ELEMENTWISE only), or -1.
ClassEfficiency Resolve(const OperatorModelOptions& o, const Chip& chip,
                        OperatorClass c, int named = -1);

}  // namespace

ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const Chip& chip, OperatorClass op_class) {
  return Resolve(options, chip, op_class);
}

ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const Chip& chip, OperatorClass op_class,
                                  std::string_view op_name) {
  return Resolve(options, chip, op_class,
                 op_class == OPERATOR_CLASS_ELEMENTWISE
                     ? NamedOperatorIndex(op_name)
                     : -1);
}

namespace {

ClassEfficiency Resolve(const OperatorModelOptions& o, const Chip& chip,
                        OperatorClass c, int named) {
  if (c != OPERATOR_CLASS_ELEMENTWISE) named = -1;
  ClassEfficiency e =
      named >= 0 ? o.operator_efficiency[named] : o.efficiency[c];
  auto apply = [&e](const OperatorEfficiency& x) {
    if (x.has_compute()) e.compute = x.compute();
    if (x.has_memory()) e.memory = x.memory();
    if (x.has_vector()) e.vector = x.vector();
    if (x.has_floor_us()) e.floor_s = x.floor_us() * 1e-6;
    if (x.has_memory_ramp_mb()) e.memory_ramp_bytes = x.memory_ramp_mb() * 1e6;
    if (x.has_parallel_columns()) e.parallel_columns = x.parallel_columns();
    if (x.has_overlap_exponent()) e.overlap_exponent = x.overlap_exponent();
    if (x.has_step_latency_us()) e.step_latency_s = x.step_latency_us() * 1e-6;
    if (x.has_compute_ramp_tokens())
      e.compute_ramp_tokens = x.compute_ramp_tokens();
    if (x.has_cache_speedup()) e.cache_speedup = x.cache_speedup();
    if (x.has_cache_fraction()) e.cache_fraction = x.cache_fraction();
    if (x.has_rows_per_unit()) e.rows_per_unit = x.rows_per_unit();
    if (x.has_row_overhead_kb())
      e.row_overhead_bytes = x.row_overhead_kb() * 1e3;
    if (x.has_compute_latency_us())
      e.compute_latency_s = x.compute_latency_us() * 1e-6;
    if (x.has_tile_overhead_rows())
      e.tile_overhead_rows = x.tile_overhead_rows();
  };
  if (c == OPERATOR_CLASS_COLLECTIVE) {
    // Collectives run on the links, not on memory: only the class's own
    // entry applies, and unset fields come from the options.
    e.memory = o.collective_efficiency;
    if (e.step_latency_s <= 0) e.step_latency_s = o.collective_alpha_s;
    for (const OperatorEfficiency& x : chip.efficiency()) {
      if (x.op() == c) apply(x);
    }
    return e;
  }
  for (const OperatorEfficiency& x : chip.efficiency()) {
    if (x.op() == OPERATOR_CLASS_UNSPECIFIED) apply(x);
  }
  if (c != OPERATOR_CLASS_UNSPECIFIED) {
    for (const OperatorEfficiency& x : chip.efficiency()) {
      if (x.op() != c) continue;
      apply(x);
      if (named < 0) continue;
      for (const OperatorEfficiency& sub : x.operators()) {
        if (NamedOperatorIndex(sub.op_name()) == named) apply(sub);
      }
    }
  }
  return e;
}

// Seconds per FLOP / vector FLOP / byte and the combine rule of one class.
struct Rates {
  double s_per_flop = 0;
  double s_per_vector_flop = 0;
  double s_per_byte = 0;
  double ramp_bytes = 0;
  double floor_s = 0;
  double p = 1.5;
  CombineMode mode = CombineMode::kP15;
  double wave_rows = 0;    // rows per wave, 0 = off
  double cache_bytes = 0;  // W0, 0 = off
  double cache_gain = 0;   // cache_speedup - 1
  double row_bytes = 0;    // per-row overhead, bytes
  double compute_latency_s = 0;
};

// The wave and cache terms of `e` for class `c` on `chip` (norm and
// elementwise only; see ClassEfficiency).
void SetMemoryTerms(const ClassEfficiency& e, OperatorClass c, const Chip& chip,
                    Rates* r) {
  if (c != OPERATOR_CLASS_NORM && c != OPERATOR_CLASS_ELEMENTWISE) return;
  r->row_bytes = e.row_overhead_bytes;
  if (e.rows_per_unit > 0 && chip.compute_units() > 0) {
    r->wave_rows = e.rows_per_unit * chip.compute_units();
  }
  if (e.cache_speedup > 1 && e.cache_fraction > 0 && chip.sram_mb() > 0) {
    r->cache_bytes = e.cache_fraction * chip.sram_mb() * 1e6;
    r->cache_gain = e.cache_speedup - 1;
  }
}

// Rows rounded up to whole waves: ceil(rows / wave_rows) * wave_rows, with
// `inv_wave_rows` = 1 / wave_rows (a truncating cast instead of a libm
// ceil on the hot path). rows >= 0.
inline double WaveRows(double rows, double wave_rows, double inv_wave_rows) {
  double waves =
      static_cast<double>(static_cast<int64_t>(rows * inv_wave_rows));
  if (waves * wave_rows < rows) waves += 1;
  return waves * wave_rows;
}

// Bytes charged for `bytes` of traffic over `rows` rows: each row adds
// `row_bytes`, and a partial last wave costs a full one.
inline double WaveBytes(double wave_rows, double row_bytes, double rows,
                        double bytes) {
  if (rows <= 0) return bytes;
  bytes += row_bytes * rows;
  if (wave_rows <= 0) return bytes;
  return bytes / rows * WaveRows(rows, wave_rows, 1.0 / wave_rows);
}

// Factor on seconds per byte for a working set of u = W / W0:
// 1 / speedup(W) = (1 + u^8) / (1 + u^8 + gain). `resident` = 1 / (1 +
// gain), the value for u -> 0. Below u = 1/4 and above u = 4 the factor is
// within 2e-5 of its limit and the division is skipped (hot path).
inline double CacheFactor(double u, double gain, double resident) {
  if (u <= 0.25) return resident;
  if (u >= 4) return 1.0;
  const double u2 = u * u;
  const double u8 = 1.0 + (u2 * u2) * (u2 * u2);
  return u8 / (u8 + gain);
}

Rates MakeRates(const ClassEfficiency& e, const OperatorModelOptions& o,
                double tensor_peak, double vector_peak, double bandwidth) {
  Rates r;
  r.s_per_flop = 1.0 / (tensor_peak * e.compute);
  r.s_per_vector_flop = 1.0 / (vector_peak * e.vector);
  r.s_per_byte = 1.0 / (bandwidth * e.memory);
  r.ramp_bytes = e.memory_ramp_bytes;
  r.floor_s = e.floor_s;
  r.compute_latency_s = e.compute_latency_s;
  r.p = e.overlap_exponent > 0 ? e.overlap_exponent : o.overlap_exponent;
  r.mode = ModeFor(r.p);
  return r;
}

// The roofline time of one invocation and the unit that bounds it.
inline double RooflineSeconds(CombineMode mode, double p, double s_per_flop,
                              double s_per_vector_flop, double s_per_byte,
                              double ramp_bytes, double floor_s,
                              double compute_latency_s, double flops,
                              double vflops, double bytes, Bound* bound) {
  const double tc = flops > 0 ? flops * s_per_flop + compute_latency_s : 0;
  const double tv = vflops * s_per_vector_flop;
  const double tm = bytes > 0 ? (bytes + ramp_bytes) * s_per_byte : 0;
  const double seconds = Combine(mode, p, tc, tv, tm);
  if (seconds < floor_s) {
    *bound = Bound::kFloor;
    return floor_s;
  }
  if (tc >= tv && tc >= tm) {
    *bound = Bound::kCompute;
  } else if (tv >= tm) {
    *bound = Bound::kVector;
  } else {
    *bound = Bound::kMemory;
  }
  return seconds;
}

// Ring all-reduce 2 (t-1)/t S / BW + 2 (t-1) alpha; gather to one rank
// (t-1) (S / BW + alpha) with S per rank; send S / BW + alpha.
enum class CollectiveKind { kAllReduce, kGather, kSendRecv };
inline double CollectiveSeconds(CollectiveKind kind, double t, double bytes,
                                double link_s_per_byte, double alpha_s) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return 2.0 * (t - 1) / t * bytes * link_s_per_byte +
             2.0 * (t - 1) * alpha_s;
    case CollectiveKind::kGather:
      return (t - 1) * (bytes * link_s_per_byte + alpha_s);
    case CollectiveKind::kSendRecv:
      break;
  }
  return bytes * link_s_per_byte + alpha_s;
}

// eta_m(n) = eta_m * n / (n + n0): the factor on seconds per byte.
inline double ParallelColumnsFactor(const ClassEfficiency& e, double n) {
  return e.parallel_columns > 0 && n > 0 ? (n + e.parallel_columns) / n : 1.0;
}

// The relative cost of a 64-row tile's FLOPs, (1 + r / 64) / (1 + r / 128);
// 0 when the M-tile term is off (r <= 0).
inline double TileCost64(double tile_overhead_rows) {
  const double r = tile_overhead_rows;
  return r > 0 ? (1.0 + r / 64.0) / (1.0 + r / 128.0) : 0.0;
}

// GemmTileRows with c64 = TileCost64(r) > 0 (hot path: two truncating casts,
// no libm). m >= 0.
inline double TileRows(double m, double c64) {
  if (m <= 64) return m * c64;
  double t64 = static_cast<double>(static_cast<int64_t>(m * (1.0 / 64)));
  if (t64 * 64 < m) t64 += 1;
  double t128 = static_cast<double>(static_cast<int64_t>(m * (1.0 / 128)));
  if (t128 * 128 < m) t128 += 1;
  return std::min(t64 * 64 * c64, t128 * 128);
}

}  // namespace

double GemmTileRows(double m, double tile_overhead_rows) {
  const double c64 = TileCost64(tile_overhead_rows);
  return c64 > 0 ? TileRows(std::max(m, 0.0), c64) : std::max(m, 0.0);
}

absl::StatusOr<std::unique_ptr<OperatorModel>> OperatorModel::Create(
    const Model& model, const Chip& chip, int tp, int pp,
    const OperatorModelOptions& options) {
  absl::Status status = Validate(model, chip, tp, pp, options);
  if (!status.ok()) return status;
  std::unique_ptr<OperatorModel> m(
      new OperatorModel(model, chip, tp, pp, options));
  m->Build();
  return m;
}

namespace {

// Builds the operator table. Kept apart from OperatorModel so Build() reads
// as the list of what a layer does.
class TableBuilder {
 public:
  using Op = OperatorModel::Op;

  TableBuilder(const Model& model, const Chip& chip, int tp, int pp,
               const OperatorModelOptions& o, std::vector<Op>* ops)
      : model_(model), chip_(chip), tp_(tp), pp_(pp), o_(o), ops_(ops) {
    b_w_ = WeightBytesPerElement(model);
    b_kv_ = KvBytesPerElement(model);
    // Activations stay bf16 even with fp8 weights. ASSUMPTION.
    b_a_ = 2;
    const bool fp8 = model.dtype() == DTYPE_FP8 && chip.fp8_tflops() > 0;
    gemm_peak_ = (fp8 ? chip.fp8_tflops() : chip.bf16_tflops()) * 1e12;
    bf16_peak_ = chip.bf16_tflops() * 1e12;
    vector_peak_ = chip.vector_tflops() * 1e12;
    bandwidth_ = chip.memory_bandwidth_tbps() * 1e12;
  }

  void Build();

 private:
  Op& Add(std::string name, OperatorClass c, Feature gate, double invocations,
          bool tensor_in_gemm_precision = false) {
    Op op;
    op.name = std::move(name);
    op.op_class = c;
    op.gate = gate;
    op.row_feature = gate;
    op.invocations = invocations;
    const ClassEfficiency e =
        Resolve(o_, chip_, c, NamedOperatorIndex(op.name));
    const double peak = tensor_in_gemm_precision ? gemm_peak_ : bf16_peak_;
    Rates r = MakeRates(e, o_, peak, vector_peak_, bandwidth_);
    SetMemoryTerms(e, c, chip_, &r);
    op.wave_rows = r.wave_rows;
    op.inv_wave_rows = r.wave_rows > 0 ? 1.0 / r.wave_rows : 0;
    op.inv_cache_bytes = r.cache_bytes > 0 ? 1.0 / r.cache_bytes : 0;
    op.cache_gain = r.cache_gain;
    op.cache_resident = 1.0 / (1.0 + r.cache_gain);
    op.row_bytes = r.row_bytes;
    op.memory_terms = r.wave_rows > 0 || r.cache_bytes > 0 || r.row_bytes > 0;
    op.s_per_flop = r.s_per_flop;
    op.s_per_vector_flop = r.s_per_vector_flop;
    op.s_per_byte = r.s_per_byte;
    op.ramp_bytes = r.ramp_bytes;
    op.floor_s = r.floor_s;
    op.compute_latency_s = r.compute_latency_s;
    op.p = r.p;
    op.mode = r.mode;
    op.weight_bytes = b_w_;
    op.kv_bytes = b_kv_;
    ops_->push_back(std::move(op));
    return ops_->back();
  }

  int64_t PerChip(const GemmShape& g, bool k_side) const {
    const int64_t v = k_side ? g.k : g.n;
    const bool split = k_side ? g.split == GemmShape::Split::kK
                              : g.split == GemmShape::Split::kN;
    return split ? (v + tp_ - 1) / tp_ : v;
  }

  // C[rows, n] = A[rows, k] W[k, n] per chip: FLOPs 2 k n rows, bytes
  // b_w k n + b_a (k + n) rows.
  void AddGemm(const std::string& name, OperatorClass c, double invocations,
               const GemmShape& g, Feature rows) {
    if (g.k <= 0 || g.n <= 0 || invocations <= 0) return;
    const int64_t k = PerChip(g, true);
    const int64_t n = PerChip(g, false);
    Op& op = Add(name, c, rows, invocations, /*tensor_in_gemm_precision=*/true);
    op.flops[rows] = 2.0 * k * n;
    op.bytes[kOne] = static_cast<double>(b_w_) * k * n;
    op.bytes[rows] = static_cast<double>(b_a_) * (k + n);
    op.gemm_k = k;
    op.gemm_n = n;
    // Skinny GEMMs stream their weights below full bandwidth.
    const ClassEfficiency e = Resolve(o_, chip_, c);
    op.s_per_byte *= ParallelColumnsFactor(e, n);
    // Token rows run in M tiles (GEMM class only: MoE experts see their own
    // rows per expert, not the batch's).
    if (c == OPERATOR_CLASS_GEMM)
      op.tile_cost_64 = TileCost64(e.tile_overhead_rows);
  }

  // A memory-bound per-token kernel over `width` elements per row that reads
  // `reads` and writes `writes` such rows and spends `flops_per_element`
  // vector FLOPs per element.
  void AddElementwise(const std::string& name, OperatorClass c,
                      double invocations, double width, double reads,
                      double writes, double flops_per_element,
                      Feature rows = kTokens) {
    if (invocations <= 0 || width <= 0) return;
    Op& op = Add(name, c, rows, invocations);
    op.vector_flops[rows] = flops_per_element * width;
    op.width = static_cast<int64_t>(width);
    op.io_rows = reads + writes;
    if (o_.fuse_elementwise &&
        (c == OPERATOR_CLASS_NORM || c == OPERATOR_CLASS_ELEMENTWISE)) {
      op.floor_s = 0;  // fused into a neighbour: no launch, no traffic
    } else {
      op.bytes[rows] = b_a_ * width * (reads + writes);
    }
  }

  void AddCollective(const std::string& name, Op::Kind kind, double invocations,
                     double bytes_per_row, Feature rows, double link_gbps) {
    if (invocations <= 0) return;
    Op& op = Add(name, OPERATOR_CLASS_COLLECTIVE, rows, invocations);
    op.kind = kind;
    op.bytes[rows] = bytes_per_row;
    op.ranks = kind == Op::Kind::kSendRecv ? 2 : tp_;
    const ClassEfficiency e = Resolve(o_, chip_, OPERATOR_CLASS_COLLECTIVE);
    op.link_s_per_byte = 1.0 / (link_gbps * 1e9 * e.memory);
    op.alpha_s = e.step_latency_s;
  }

  double SoftmaxFlopsPerScore() const {
    return o_.softmax_exps_per_score * o_.exp_vector_flops +
           o_.softmax_flops_per_score;
  }

  bool UsesRotary() const {
    switch (o_.rotary) {
      case OperatorModelOptions::Rotary::kOn:
        return true;
      case OperatorModelOptions::Rotary::kOff:
        return false;
      case OperatorModelOptions::Rotary::kAuto:
        break;
    }
    return !(model_.norm() == NORM_KIND_LAYERNORM &&
             model_.mlp() == MLP_KIND_GELU);
  }

  void AddAttentionLayers(int layers);
  void AddMlaLayers(int layers);
  void AddSsmLayers(int layers);

  const Model& model_;
  const Chip& chip_;
  const int tp_;
  const int pp_;
  const OperatorModelOptions& o_;
  std::vector<Op>* ops_;
  double b_w_ = 2;
  double b_kv_ = 2;
  double b_a_ = 2;
  double gemm_peak_ = 0;
  double bf16_peak_ = 0;
  double vector_peak_ = 0;
  double bandwidth_ = 0;
};

// MHA / GQA / CCA attention layers.
void TableBuilder::AddAttentionLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  const double d_h = model_.head_dim();
  const int h_c = model_.num_heads() / tp_;
  // KV heads split across TP ranks, or replicated when fewer than tp.
  const int kv_c = std::max(1, model_.num_kv_heads() / tp_);
  const double kv_row = b_kv_ * 2.0 * kv_c * d_h;  // K and V of one token

  AddGemm("qkv_proj", OPERATOR_CLASS_GEMM, layers, g.qkv, kTokens);
  if (model_.attention() == ATTENTION_KIND_CCA) {
    // Depthwise conv (k0 taps) and grouped d_h x d_h conv (k1 taps) over
    // q||k, q-k mixing and RMS normalisation of q and k (operators.md §2.5):
    // read and write q||k about twice.
    const double e = static_cast<double>(h_c + kv_c) * d_h;
    const double k0 = model_.cca().conv_kernel_q();
    const double k1 = model_.cca().conv_kernel_k();
    Op& op = Add("cca_conv", OPERATOR_CLASS_ELEMENTWISE, kTokens, layers);
    op.flops[kTokens] = 2.0 * k1 * (h_c + kv_c) * d_h * d_h;
    op.vector_flops[kTokens] = 2.0 * k0 * e + 6.0 * e;
    op.bytes[kTokens] = b_a_ * e * 4.0;
    op.width = static_cast<int64_t>(e);
  }
  if (UsesRotary()) {
    AddElementwise("rotary", OPERATOR_CLASS_ELEMENTWISE, layers,
                   static_cast<double>(h_c + kv_c) * d_h, 1, 1, 3);
  }

  const double score_flops = SoftmaxFlopsPerScore();
  if (o_.fuse_attention) {
    Op& op = Add("attn_prefill", OPERATOR_CLASS_ATTENTION_PREFILL,
                 kPrefillTokens, layers);
    op.compute_ramp_tokens =
        Resolve(o_, chip_, OPERATOR_CLASS_ATTENTION_PREFILL)
            .compute_ramp_tokens;
    op.flops[kPairs] = 4.0 * h_c * d_h;  // QK^T and PV, causal
    op.vector_flops[kPairs] = h_c * score_flops;
    // Read Q, write O; write the new tokens' K/V; read K/V of the context.
    op.bytes[kPrefillTokens] = b_a_ * 2.0 * h_c * d_h + kv_row;
    op.bytes[kPrefillContext] = kv_row;
    op.heads = h_c;
    op.kv_heads = kv_c;
    op.head_dim = static_cast<int>(d_h);
  } else {
    // Scores S = h_c * sum T_i (L_i + T_i) = h_c (2 pairs - T) for chunks
    // without a cached prefix (exact) and up to 2x the causal half with one.
    Coeffs scores{};
    scores[kPairs] = 2.0 * h_c;
    scores[kPrefillTokens] = -1.0 * h_c;
    Op& qk = Add("attn_scores", OPERATOR_CLASS_ATTENTION_PREFILL,
                 kPrefillTokens, layers);
    for (int i = 0; i < kNumFeatures; ++i) {
      qk.flops[i] = 2.0 * d_h * scores[i];
      qk.bytes[i] = b_a_ * scores[i];
    }
    qk.bytes[kPrefillTokens] += b_a_ * h_c * d_h + kv_row;  // Q; new K/V
    qk.bytes[kPrefillContext] += kv_row / 2;                // K
    qk.heads = h_c;
    qk.kv_heads = kv_c;
    qk.head_dim = static_cast<int>(d_h);
    Op& sm =
        Add("attn_softmax", OPERATOR_CLASS_ELEMENTWISE, kPrefillTokens, layers);
    for (int i = 0; i < kNumFeatures; ++i) {
      sm.vector_flops[i] = score_flops * scores[i];
      sm.bytes[i] = 2.0 * b_a_ * scores[i];
    }
    Op& pv = Add("attn_context", OPERATOR_CLASS_ATTENTION_PREFILL,
                 kPrefillTokens, layers);
    for (int i = 0; i < kNumFeatures; ++i) {
      pv.flops[i] = 2.0 * d_h * scores[i];
      pv.bytes[i] = b_a_ * scores[i];
    }
    pv.bytes[kPrefillTokens] += b_a_ * h_c * d_h;  // O
    pv.bytes[kPrefillContext] += kv_row / 2;       // V
    pv.heads = h_c;
    pv.kv_heads = kv_c;
    pv.head_dim = static_cast<int>(d_h);
  }

  Op& dec = Add("attn_decode", OPERATOR_CLASS_ATTENTION_DECODE, kDecodeRequests,
                layers);
  dec.flops[kDecodeContext] = 4.0 * h_c * d_h;
  dec.vector_flops[kDecodeContext] = h_c * score_flops;
  dec.bytes[kDecodeContext] = kv_row;
  // Partial last page, Q read / O write, the new token's K/V write.
  dec.bytes[kDecodeRequests] =
      kv_row * (o_.kv_page_tokens - 1) / 2.0 + b_a_ * 2.0 * h_c * d_h + kv_row;
  dec.heads = h_c;
  dec.kv_heads = kv_c;
  dec.head_dim = static_cast<int>(d_h);

  AddGemm("o_proj", OPERATOR_CLASS_GEMM, layers, g.o, kTokens);
}

// DeepSeek MLA layers: naive form for prefill, absorbed form for decode
// (operators.md §2.4). The latent cache is replicated on every TP rank.
void TableBuilder::AddMlaLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  const MlaConfig& mla = model_.mla();
  const int h_c = model_.num_heads() / tp_;
  const double d_n = mla.qk_nope_head_dim();
  const double d_r = mla.qk_rope_head_dim();
  const double d_v = mla.v_head_dim();
  const double r_kv = mla.kv_lora_rank();
  const double latent = r_kv + d_r;  // cached width (576 for DeepSeek-V3)
  const double score_flops = SoftmaxFlopsPerScore();

  AddGemm("mla_q_a", OPERATOR_CLASS_GEMM, layers, g.mla_q_a, kTokens);
  AddGemm("mla_q_b", OPERATOR_CLASS_GEMM, layers, g.mla_q_b, kTokens);
  AddGemm("mla_kv_a", OPERATOR_CLASS_GEMM, layers, g.mla_kv_a, kTokens);
  if (UsesRotary()) {
    AddElementwise("rotary", OPERATOR_CLASS_ELEMENTWISE, layers,
                   (h_c + 1.0) * d_r, 1, 1, 3);
  }

  // Prefill, naive form: up-project K/V of every context token, then MHA
  // with qk dim d_n + d_r and v dim d_v.
  const size_t before = ops_->size();
  AddGemm("mla_kv_up", OPERATOR_CLASS_GEMM, layers, g.mla_kv_b,
          kPrefillContext);
  if (ops_->size() > before) ops_->back().gate = kPrefillTokens;
  Op& pre = Add("attn_prefill", OPERATOR_CLASS_ATTENTION_PREFILL,
                kPrefillTokens, layers);
  pre.compute_ramp_tokens =
      Resolve(o_, chip_, OPERATOR_CLASS_ATTENTION_PREFILL).compute_ramp_tokens;
  pre.flops[kPairs] = 2.0 * h_c * (d_n + d_r + d_v);
  pre.vector_flops[kPairs] = h_c * score_flops;
  pre.bytes[kPrefillTokens] =
      b_a_ * h_c * (d_n + d_r + d_v) + b_kv_ * latent;  // Q, O; latent write
  pre.bytes[kPrefillContext] = b_a_ * h_c * (d_n + d_r + d_v);  // K, V
  pre.heads = h_c;
  pre.kv_heads = h_c;
  pre.head_dim = static_cast<int>(d_n + d_r);

  // Decode, absorbed form: W_UK folded into q, MQA over the latent, W_UV
  // folded into the output.
  {
    Op& q =
        Add("mla_q_absorb", OPERATOR_CLASS_GEMM, kDecodeRequests, layers, true);
    q.flops[kDecodeRequests] = 2.0 * h_c * d_n * r_kv;
    q.bytes[kOne] = b_w_ * h_c * d_n * r_kv;
    q.bytes[kDecodeRequests] = b_a_ * h_c * (d_n + r_kv);
    q.gemm_k = static_cast<int64_t>(d_n);
    q.gemm_n = static_cast<int64_t>(r_kv);
  }
  Op& dec = Add("attn_decode", OPERATOR_CLASS_ATTENTION_DECODE, kDecodeRequests,
                layers);
  dec.flops[kDecodeContext] = 2.0 * h_c * (latent + r_kv);
  dec.vector_flops[kDecodeContext] = h_c * score_flops;
  dec.bytes[kDecodeContext] = b_kv_ * latent;
  dec.bytes[kDecodeRequests] = b_kv_ * latent * (o_.kv_page_tokens - 1) / 2.0 +
                               b_a_ * h_c * (latent + r_kv) + b_kv_ * latent;
  dec.heads = h_c;
  dec.kv_heads = 1;
  dec.head_dim = static_cast<int>(latent);
  {
    Op& out = Add("mla_out_absorb", OPERATOR_CLASS_GEMM, kDecodeRequests,
                  layers, true);
    out.flops[kDecodeRequests] = 2.0 * h_c * r_kv * d_v;
    out.bytes[kOne] = b_w_ * h_c * r_kv * d_v;
    out.bytes[kDecodeRequests] = b_a_ * h_c * (r_kv + d_v);
    out.gemm_k = static_cast<int64_t>(r_kv);
    out.gemm_n = static_cast<int64_t>(d_v);
  }
  AddGemm("o_proj", OPERATOR_CLASS_GEMM, layers, g.o, kTokens);
  // q_a and kv_a RMSNorms on the compressed widths.
  AddElementwise("mla_norm", OPERATOR_CLASS_NORM, layers,
                 mla.q_lora_rank() + r_kv, 1, 1, o_.rmsnorm_flops);
}

// Mamba-1 / Mamba-2 mixers (operators.md §2.7).
void TableBuilder::AddSsmLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  const SsmConfig& ssm = model_.ssm();
  const double d_inner = static_cast<double>(SsmInnerDim(model_)) / tp_;
  const double n = ssm.d_state();
  const double conv_k = ssm.conv_kernel();
  const bool mamba2 = ssm.head_dim() > 0;
  const double groups_n = mamba2 ? 2.0 * n : 0;  // B and C, G = 1
  const double conv_dim = d_inner + groups_n;
  const double b_s = b_kv_;  // state dtype

  AddGemm("ssm_in_proj", OPERATOR_CLASS_GEMM, layers, g.ssm_in, kTokens);
  {
    Op& conv = Add("ssm_conv", OPERATOR_CLASS_SSM, kTokens, layers);
    conv.vector_flops[kTokens] = 2.0 * conv_dim * conv_k;
    conv.bytes[kTokens] = b_a_ * 2.0 * conv_dim;
    conv.bytes[kDecodeRequests] = 2.0 * b_s * conv_dim * conv_k;  // state
    conv.width = static_cast<int64_t>(conv_dim);
  }
  AddGemm("ssm_x_proj", OPERATOR_CLASS_GEMM, layers, g.ssm_x, kTokens);
  AddGemm("ssm_dt_proj", OPERATOR_CLASS_GEMM, layers, g.ssm_dt, kTokens);
  if (mamba2) {
    const double p = ssm.head_dim();
    const double heads = d_inner / p;
    const double chunk = 256;  // ASSUMPTION: mamba2.py chunk_size default
    Op& pre =
        Add("ssm_scan_prefill", OPERATOR_CLASS_SSM, kPrefillTokens, layers);
    pre.flops[kPrefillTokens] =
        2.0 * d_inner * (chunk + 2 * n) + 2.0 * chunk * n;
    pre.bytes[kPrefillTokens] = b_a_ * (2 * d_inner + groups_n + heads);
    pre.bytes[kPrefillRequests] = b_s * heads * p * n;  // final state write
    Op& dec =
        Add("ssm_scan_decode", OPERATOR_CLASS_SSM, kDecodeRequests, layers);
    dec.vector_flops[kDecodeRequests] = 6.0 * heads * p * n;
    dec.bytes[kDecodeRequests] =
        2.0 * b_s * heads * p * n + b_a_ * (2 * d_inner + groups_n);
    AddElementwise("ssm_gated_norm", OPERATOR_CLASS_NORM, layers, d_inner, 2, 1,
                   o_.rmsnorm_flops + 2);
  } else {
    Op& pre =
        Add("ssm_scan_prefill", OPERATOR_CLASS_SSM, kPrefillTokens, layers);
    pre.vector_flops[kPrefillTokens] = 9.0 * d_inner * n + d_inner;
    pre.bytes[kPrefillTokens] = b_a_ * (4 * d_inner + 2 * n);
    pre.bytes[kPrefillRequests] = b_s * d_inner * n;
    Op& dec =
        Add("ssm_scan_decode", OPERATOR_CLASS_SSM, kDecodeRequests, layers);
    dec.vector_flops[kDecodeRequests] = 6.0 * d_inner * n;
    dec.bytes[kDecodeRequests] =
        2.0 * b_s * d_inner * n + b_a_ * (4 * d_inner + 2 * n);
  }
  AddGemm("ssm_out_proj", OPERATOR_CLASS_GEMM, layers, g.ssm_out, kTokens);
}

void TableBuilder::Build() {
  const double d = model_.hidden_size();
  const int layers = model_.num_layers();
  const int attn_layers = NumAttentionLayers(model_);
  const int ssm_layers = NumSsmLayers(model_);
  const int dense_layers = NumDenseMlpLayers(model_);
  const int moe_layers = NumMoeLayers(model_);
  const int ffn_layers = dense_layers + moe_layers;
  const LayerGemms g = LayerGemmShapes(model_);
  const bool layernorm = model_.norm() == NORM_KIND_LAYERNORM;
  const double norm_flops = layernorm ? o_.layernorm_flops : o_.rmsnorm_flops;
  const double vocab_c =
      std::ceil(static_cast<double>(model_.vocab_size()) / tp_);

  // Vocab-parallel embedding: gather rows, then all-reduce (below).
  AddElementwise("embedding", OPERATOR_CLASS_ELEMENTWISE, 1, d, b_w_ / b_a_, 1,
                 0);

  // Pre-mixer norm on every layer, pre-MLP norm on layers with an MLP, one
  // final norm; all over the full hidden width (replicated under TP).
  AddElementwise("norm", OPERATOR_CLASS_NORM, layers + ffn_layers + 1, d, 1, 1,
                 norm_flops);

  if (model_.attention() == ATTENTION_KIND_MLA) {
    AddMlaLayers(attn_layers);
  } else {
    AddAttentionLayers(attn_layers);
  }
  AddSsmLayers(ssm_layers);

  // Dense MLP.
  if (dense_layers > 0) {
    AddGemm("mlp_up", OPERATOR_CLASS_GEMM, dense_layers, g.mlp_up, kTokens);
    const double ffn_c = static_cast<double>(DenseFfnDim(model_)) / tp_;
    if (model_.mlp() == MLP_KIND_GELU) {
      AddElementwise("activation", OPERATOR_CLASS_ELEMENTWISE, dense_layers,
                     ffn_c, 1, 1, o_.gelu_flops + o_.exp_vector_flops);
    } else {
      AddElementwise("activation", OPERATOR_CLASS_ELEMENTWISE, dense_layers,
                     ffn_c, 2, 1, o_.silu_mul_flops + o_.exp_vector_flops);
    }
    AddGemm("mlp_down", OPERATOR_CLASS_GEMM, dense_layers, g.mlp_down, kTokens);
  }

  // MoE layers: router, routed experts (E_hit distinct experts stream their
  // weights), shared experts; experts split by TP (no expert parallelism in
  // version 1).
  if (moe_layers > 0) {
    const MoeConfig& moe = model_.moe();
    const double e = moe.num_experts();
    const double k = moe.top_k();
    const double d_e = static_cast<double>(moe.expert_ffn_dim()) / tp_;
    AddGemm("moe_router", OPERATOR_CLASS_GEMM, moe_layers,
            GemmShape{model_.hidden_size(), moe.num_experts(),
                      GemmShape::Split::kNone},
            kTokens);
    Op& ex = Add("moe_experts", OPERATOR_CLASS_MOE, kTokens, moe_layers, true);
    ex.kind = Op::Kind::kMoeExperts;
    ex.flops[kTokens] = 2.0 * k * 3.0 * d * d_e;
    ex.bytes[kTokens] = b_a_ * k * (2.0 * d + 3.0 * d_e);
    ex.num_experts = e;
    ex.log_miss = std::log1p(-std::min(k / e, 1.0 - 1e-12));
    ex.expert_bytes = b_w_ * 3.0 * d * d_e;
    ex.gemm_k = static_cast<int64_t>(d);
    ex.gemm_n = static_cast<int64_t>(d_e);
    double act_width = k * d_e;
    if (moe.num_shared_experts() > 0 && moe.shared_expert_ffn_dim() > 0) {
      const int64_t shared = static_cast<int64_t>(moe.num_shared_experts()) *
                             moe.shared_expert_ffn_dim();
      AddGemm("shared_expert_up", OPERATOR_CLASS_MOE, moe_layers,
              GemmShape{model_.hidden_size(), 2 * shared, GemmShape::Split::kN},
              kTokens);
      AddGemm("shared_expert_down", OPERATOR_CLASS_MOE, moe_layers,
              GemmShape{shared, model_.hidden_size(), GemmShape::Split::kK},
              kTokens);
      act_width += static_cast<double>(shared) / tp_;
    }
    AddElementwise("moe_activation", OPERATOR_CLASS_ELEMENTWISE, moe_layers,
                   act_width, 2, 1, o_.silu_mul_flops + o_.exp_vector_flops);
  }

  // Residual adds: after the mixer and after the MLP.
  AddElementwise("residual_add", OPERATOR_CLASS_ELEMENTWISE,
                 layers + ffn_layers, d, 2, 1, 1);

  // LM head on the rows that produce a token, then sampling over the
  // gathered logits (full vocabulary on rank 0).
  AddGemm("lm_head", OPERATOR_CLASS_GEMM, 1, g.lm_head, kLmRows);
  AddElementwise("sampling", OPERATOR_CLASS_ELEMENTWISE, 1,
                 static_cast<double>(model_.vocab_size()), 2, 1,
                 4 + o_.exp_vector_flops, kLmRows);

  // Tensor-parallel collectives: all-reduce after the embedding, after every
  // mixer and every MLP (Megatron); logits gathered to rank 0.
  if (tp_ > 1) {
    AddCollective("allreduce", Op::Kind::kAllReduce, 1 + layers + ffn_layers,
                  b_a_ * d, kTokens, chip_.scale_up_gbps());
    AddCollective("logits_gather", Op::Kind::kGather, 1, b_a_ * vocab_c,
                  kLmRows, chip_.scale_up_gbps());
  }
  // Pipeline stages: one activation send per stage boundary.
  if (pp_ > 1) {
    const bool cross_machine = tp_ * pp_ > o_.chips_per_machine;
    AddCollective(
        "pp_send", Op::Kind::kSendRecv, pp_ - 1, b_a_ * d, kTokens,
        cross_machine ? chip_.scale_out_gbps() : chip_.scale_up_gbps());
  }
}

// Fills the batch features.
inline void Features(const BatchShape& b, double* x) {
  x[kOne] = 1;
  x[kTokens] = static_cast<double>(b.total_tokens());
  x[kPrefillTokens] = static_cast<double>(b.prefill_tokens);
  x[kPairs] = b.prefill_attention_pairs;
  x[kPrefillContext] = static_cast<double>(b.prefill_context_tokens);
  x[kPrefillRequests] = b.prefill_requests;
  x[kDecodeRequests] = b.decode_requests;
  x[kDecodeContext] = static_cast<double>(b.decode_context_tokens);
  x[kLmRows] = static_cast<double>(b.prefill_requests) + b.decode_requests;
}

OperatorQuery MakeQuery(const OperatorModel::Op& op, const double* x, int tp,
                        double flops, double vflops, double bytes,
                        double analytic_s) {
  OperatorQuery q;
  q.name = op.name;
  q.op_class = op.op_class;
  q.tp = tp;
  q.flops = flops;
  q.vector_flops = vflops;
  q.bytes = bytes;
  q.analytic_s = analytic_s;
  const auto rows = static_cast<int64_t>(x[op.row_feature]);
  switch (op.op_class) {
    case OPERATOR_CLASS_GEMM:
    case OPERATOR_CLASS_MOE:
      q.m = rows;
      q.k = op.gemm_k;
      q.n = op.gemm_n;
      break;
    case OPERATOR_CLASS_ATTENTION_PREFILL:
      q.requests = static_cast<int64_t>(x[kPrefillRequests]);
      q.new_tokens = static_cast<int64_t>(x[kPrefillTokens]);
      q.context_tokens = static_cast<int64_t>(x[kPrefillContext]);
      q.attention_pairs = x[kPairs];
      break;
    case OPERATOR_CLASS_ATTENTION_DECODE:
      q.requests = static_cast<int64_t>(x[kDecodeRequests]);
      q.new_tokens = q.requests;
      q.context_tokens = static_cast<int64_t>(x[kDecodeContext]);
      break;
    case OPERATOR_CLASS_COLLECTIVE:
      q.message_bytes = bytes;
      q.ranks = op.ranks;
      break;
    default:
      q.width = op.width;
      q.elements = rows * op.width;
      q.io_rows = op.io_rows;
      q.vector_flops_per_element =
          op.width > 0 && rows > 0
              ? vflops / static_cast<double>(rows * op.width)
              : 0;
      break;
  }
  q.weight_bytes = op.weight_bytes;
  q.kv_bytes = op.kv_bytes;
  q.heads = op.heads;
  q.kv_heads = op.kv_heads;
  q.head_dim = op.head_dim;
  return q;
}

}  // namespace

void OperatorModel::Build() {
  TableBuilder(model_, chip_, tp_, pp_, options_, &ops_).Build();
  // The wave, per-row and cache terms take bytes as bytes-per-row times
  // rows; an operator whose traffic has other terms (unfused softmax over
  // the scores) keeps the plain roofline.
  for (Op& op : ops_) {
    for (int f = 0; f < kNumFeatures; ++f) {
      op.has_flops |= op.flops[f] != 0;
      op.has_vector_flops |= op.vector_flops[f] != 0;
      if (f != op.row_feature && op.bytes[f] != 0) op.memory_terms = false;
    }
  }
  overhead_s_ = options_.iteration_overhead_s +
                options_.layer_overhead_s * model_.num_layers();
  request_overhead_s_ = options_.request_layer_overhead_s * model_.num_layers();
}

double OperatorModel::OperatorSeconds(const OperatorQuery& q) const {
  return OperatorPricer(chip_, options_).Seconds(q);
}

OperatorPricer::OperatorPricer(const Chip& chip,
                               const OperatorModelOptions& options)
    : chip_(chip), options_(options) {
  for (int c = 0; c < kNumOperatorClasses; ++c) {
    eff_[c] = Resolve(options_, chip_, static_cast<OperatorClass>(c));
  }
  for (int i = 0; i < kNumNamedOperators; ++i) {
    op_eff_[i] = Resolve(options_, chip_, OPERATOR_CLASS_ELEMENTWISE, i);
  }
}

absl::StatusOr<OperatorPricer> OperatorPricer::Create(
    const Chip& chip, const OperatorModelOptions& options) {
  Problems p;
  ValidateChipAndOptions(chip, options, p);
  absl::Status status =
      p.ToStatus(absl::StrCat("cannot price on ", chip.name()));
  if (!status.ok()) return status;
  return OperatorPricer(chip, options);
}

double OperatorPricer::Seconds(const OperatorQuery& q,
                               OperatorQuery* filled) const {
  const OperatorModelOptions& o = options_;
  const int cls = q.op_class >= 0 && q.op_class < kNumOperatorClasses
                      ? static_cast<int>(q.op_class)
                      : 0;
  const int named = q.op_class == OPERATOR_CLASS_ELEMENTWISE
                        ? NamedOperatorIndex(q.name)
                        : -1;
  const ClassEfficiency& e = named >= 0 ? op_eff_[named] : eff_[cls];
  const double b_a = 2;  // activations stay bf16 (as TableBuilder)
  const double score_flops =
      o.softmax_exps_per_score * o.exp_vector_flops + o.softmax_flops_per_score;
  const double bf16_peak = chip_.bf16_tflops() * 1e12;
  double peak = bf16_peak;
  double flops = 0;
  double vflops = 0;
  double bytes = 0;
  double bytes_factor = 1;
  double flop_factor = 1;
  double seconds = 0;
  switch (q.op_class) {
    case OPERATOR_CLASS_ATTENTION_PREFILL: {
      const double hd = static_cast<double>(q.heads) * q.head_dim;
      const double kv_row = q.kv_bytes * 2.0 * q.kv_heads * q.head_dim;
      flops = 4.0 * hd * q.attention_pairs;
      vflops = q.heads * q.attention_pairs * score_flops;
      bytes = (b_a * 2.0 * hd + kv_row) * static_cast<double>(q.new_tokens) +
              kv_row * static_cast<double>(q.context_tokens);
      if (e.compute_ramp_tokens > 0 && q.context_tokens > 0) {
        flop_factor =
            1.0 + e.compute_ramp_tokens *
                      static_cast<double>(std::max<int64_t>(q.requests, 1)) /
                      static_cast<double>(q.context_tokens);
      }
      break;
    }
    case OPERATOR_CLASS_ATTENTION_DECODE: {
      const double hd = static_cast<double>(q.heads) * q.head_dim;
      const double kv_row = q.kv_bytes * 2.0 * q.kv_heads * q.head_dim;
      const double c = static_cast<double>(q.context_tokens);
      flops = 4.0 * hd * c;
      vflops = q.heads * c * score_flops;
      bytes = kv_row * c + static_cast<double>(q.requests) *
                               (kv_row * (o.kv_page_tokens - 1) / 2.0 +
                                b_a * 2.0 * hd + kv_row);
      break;
    }
    case OPERATOR_CLASS_NORM:
    case OPERATOR_CLASS_ELEMENTWISE:
    case OPERATOR_CLASS_SSM:
      vflops = q.vector_flops_per_element * static_cast<double>(q.elements);
      bytes = b_a * static_cast<double>(q.elements) * q.io_rows;
      break;
    case OPERATOR_CLASS_COLLECTIVE: {
      const int t = std::max(q.ranks, 2);
      const absl::string_view name(q.name.data(), q.name.size());
      const CollectiveKind kind =
          name == "send_recv" || name == "pp_send" ? CollectiveKind::kSendRecv
          : name == "all_gather" || name == "logits_gather"
              ? CollectiveKind::kGather
              : CollectiveKind::kAllReduce;
      const double link_gbps = t > o.chips_per_machine ? chip_.scale_out_gbps()
                                                       : chip_.scale_up_gbps();
      bytes = q.message_bytes;
      seconds = CollectiveSeconds(
          kind, t, bytes, 1.0 / (link_gbps * 1e9 * e.memory), e.step_latency_s);
      seconds = std::max(seconds, e.floor_s);
      break;
    }
    default: {  // GEMM, MOE, UNSPECIFIED: C[m, n] = A[m, k] W[k, n]
      const double m = static_cast<double>(q.m);
      const double n = static_cast<double>(q.n);
      const double k = static_cast<double>(q.k);
      flops = 2.0 * m * n * k;
      bytes = q.weight_bytes * k * n + b_a * (k + n) * m;
      if (q.weight_bytes <= 1 && chip_.fp8_tflops() > 0) {
        peak = chip_.fp8_tflops() * 1e12;
      }
      bytes_factor = ParallelColumnsFactor(e, n);
      if (q.op_class == OPERATOR_CLASS_GEMM && e.tile_overhead_rows > 0 &&
          m > 0) {
        flop_factor = TileRows(m, TileCost64(e.tile_overhead_rows)) / m;
      }
      break;
    }
  }
  if (q.op_class != OPERATOR_CLASS_COLLECTIVE) {
    Rates r = MakeRates(e, o, peak, chip_.vector_tflops() * 1e12,
                        chip_.memory_bandwidth_tbps() * 1e12);
    SetMemoryTerms(e, q.op_class, chip_, &r);
    double charged_bytes = bytes;
    if ((r.wave_rows > 0 || r.row_bytes > 0) && q.width > 0) {
      const double rows =
          static_cast<double>(q.elements) / static_cast<double>(q.width);
      charged_bytes = WaveBytes(r.wave_rows, r.row_bytes, rows, bytes);
    }
    if (r.cache_bytes > 0) {
      bytes_factor *= CacheFactor(bytes * (1.0 / r.cache_bytes), r.cache_gain,
                                  1.0 / (1.0 + r.cache_gain));
    }
    Bound bound;
    seconds = RooflineSeconds(r.mode, r.p, r.s_per_flop * flop_factor,
                              r.s_per_vector_flop, r.s_per_byte * bytes_factor,
                              r.ramp_bytes, r.floor_s, r.compute_latency_s,
                              flops, vflops, charged_bytes, &bound);
  }
  if (filled != nullptr) {
    *filled = q;
    filled->flops = flops;
    filled->vector_flops = vflops;
    filled->bytes = bytes;
    filled->analytic_s = seconds;
  }
  return seconds;
}

template <bool kExplain>
double OperatorModel::Evaluate(const BatchShape& batch,
                               IterationBreakdown* out) const {
  double x[kNumFeatures];
  Features(batch, x);
  const double overhead_s = overhead_s_ + request_overhead_s_ * x[kLmRows];
  double total = overhead_s;
  if constexpr (kExplain) {
    if (overhead_s > 0) {
      OperatorTime t;
      t.name = "framework_overhead";
      t.op_class = OPERATOR_CLASS_UNSPECIFIED;
      t.bound = Bound::kFloor;
      t.seconds = overhead_s;
      out->ops.push_back(t);
    }
  }
  for (const Op& op : ops_) {
    if (x[op.gate] <= 0) continue;
    // Memory-bound kernels have no tensor FLOPs, GEMMs no vector FLOPs,
    // collectives neither: skip the empty dot products.
    const double flops = op.has_flops ? Dot(op.flops, x) : 0.0;
    const double vflops = op.has_vector_flops ? Dot(op.vector_flops, x) : 0.0;
    double bytes = Dot(op.bytes, x);
    double seconds = 0;
    Bound bound = Bound::kNetwork;
    if (op.kind == Op::Kind::kAllReduce || op.kind == Op::Kind::kGather ||
        op.kind == Op::Kind::kSendRecv) {
      const CollectiveKind kind =
          op.kind == Op::Kind::kAllReduce ? CollectiveKind::kAllReduce
          : op.kind == Op::Kind::kGather  ? CollectiveKind::kGather
                                          : CollectiveKind::kSendRecv;
      seconds = CollectiveSeconds(kind, op.ranks, bytes, op.link_s_per_byte,
                                  op.alpha_s);
      if (seconds < op.floor_s) {
        seconds = op.floor_s;
        bound = Bound::kFloor;
      }
    } else {
      if (op.kind == Op::Kind::kMoeExperts) {
        const double hit =
            op.num_experts * (1.0 - std::exp(x[kTokens] * op.log_miss));
        bytes += hit * op.expert_bytes;
      }
      double s_per_flop = op.s_per_flop;
      if (op.tile_cost_64 > 0 && x[op.row_feature] > 0) {
        // GEMM: FLOPs are linear in the rows; charge the padded tiles.
        const double rows = x[op.row_feature];
        s_per_flop *= TileRows(rows, op.tile_cost_64) / rows;
      }
      if (op.compute_ramp_tokens > 0) {
        s_per_flop *= 1.0 + op.compute_ramp_tokens * x[kPrefillRequests] /
                                x[kPrefillContext];
      }
      double s_per_byte = op.s_per_byte;
      double charged_bytes = bytes;
      if (op.memory_terms && bytes > 0) {
        // Norm / elementwise: bytes = bytes[row_feature] * rows.
        const double rows = x[op.row_feature];
        const double per_row = op.bytes[op.row_feature] + op.row_bytes;
        charged_bytes =
            per_row * (op.wave_rows > 0
                           ? WaveRows(rows, op.wave_rows, op.inv_wave_rows)
                           : rows);
        if (op.inv_cache_bytes > 0) {
          s_per_byte *= CacheFactor(bytes * op.inv_cache_bytes, op.cache_gain,
                                    op.cache_resident);
        }
      }
      seconds = RooflineSeconds(op.mode, op.p, s_per_flop, op.s_per_vector_flop,
                                s_per_byte, op.ramp_bytes, op.floor_s,
                                op.compute_latency_s, flops, vflops,
                                charged_bytes, &bound);
    }
    if (const OperatorCorrection& fix = options_.corrections[op.op_class];
        fix) {
      seconds = fix(MakeQuery(op, x, tp_, flops, vflops, bytes, seconds));
    }
    const double op_total = seconds * op.invocations;
    total += op_total;
    if constexpr (kExplain) {
      auto it = std::find_if(
          out->ops.begin(), out->ops.end(),
          [&op](const OperatorTime& t) { return t.name == op.name; });
      if (it == out->ops.end()) {
        OperatorTime t;
        t.name = op.name;
        t.op_class = op.op_class;
        t.bound = bound;
        out->ops.push_back(t);
        it = out->ops.end() - 1;
      } else if (op_total > it->seconds) {
        it->bound = bound;  // the larger contribution names the bound
      }
      it->seconds += op_total;
      it->flops += flops * op.invocations;
      it->vector_flops += vflops * op.invocations;
      it->bytes += bytes * op.invocations;
    }
  }
  if constexpr (kExplain) out->seconds = total;
  return total;
}

double OperatorModel::IterationSeconds(const BatchShape& batch) const {
  return Evaluate<false>(batch, nullptr);
}

IterationBreakdown OperatorModel::Explain(const BatchShape& batch) const {
  IterationBreakdown out;
  Evaluate<true>(batch, &out);
  return out;
}

}  // namespace fleetsim::hardware
