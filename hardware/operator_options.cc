#include "hardware/operator_options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"

namespace fleetsim::hardware {

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
  if (name == "mla_decode") return static_cast<int>(NamedOperator::kMlaDecode);
  if (name == "moe" || name == "moe_experts") {
    return static_cast<int>(NamedOperator::kMoe);
  }
  if (name == "ssm_conv") return static_cast<int>(NamedOperator::kSsmConv);
  return -1;
}

v1::OperatorClass NamedOperatorClass(int index) {
  switch (static_cast<NamedOperator>(index)) {
    case NamedOperator::kMlaDecode:
      return v1::OPERATOR_CLASS_ATTENTION_DECODE;
    case NamedOperator::kMoe:
      return v1::OPERATOR_CLASS_MOE;
    case NamedOperator::kSsmConv:
      return v1::OPERATOR_CLASS_SSM;
    default:
      return v1::OPERATOR_CLASS_ELEMENTWISE;
  }
}

int NamedOperatorIndexIn(v1::OperatorClass op_class, std::string_view name) {
  const int i = NamedOperatorIndex(name);
  return i >= 0 && NamedOperatorClass(i) == op_class ? i : -1;
}

const char* NamedOperatorName(int index) {
  switch (index) {
    case 0:
      return "rope";
    case 1:
      return "mlp_act";
    case 2:
      return "residual_add";
    case 3:
      return "mla_decode";
    case 4:
      return "moe";
    case 5:
      return "ssm_conv";
    default:
      return "";
  }
}

bool IsServingFramework(std::string_view name) {
  return name == "trtllm" || name == "vllm" || name == "sglang";
}

std::vector<std::string> ChipKernels(const v1::Chip& chip) {
  std::vector<std::string> kernels;
  for (const v1::OperatorEfficiency& x : chip.efficiency()) {
    if (!x.kernel().empty()) kernels.push_back(x.kernel());
    for (const v1::OperatorEfficiency& sub : x.operators()) {
      if (!sub.kernel().empty()) kernels.push_back(sub.kernel());
    }
  }
  absl::c_sort(kernels);
  kernels.erase(std::unique(kernels.begin(), kernels.end()), kernels.end());
  return kernels;
}

std::string UnknownKernel(const v1::Chip& chip,
                          const std::vector<std::string>& kernels) {
  const std::vector<std::string> known = ChipKernels(chip);
  for (const std::string& kernel : kernels) {
    if (absl::c_binary_search(known, kernel)) continue;
    return absl::StrCat("chip '", chip.name(), "' has no kernel '", kernel,
                        "' (its alternative kernels: ",
                        known.empty() ? "none" : absl::StrJoin(known, ", "),
                        ")");
  }
  return "";
}

ClassEfficiency::CollectiveFit CollectiveFitAt(
    const std::vector<ClassEfficiency::CollectiveFit>& fits, int ranks) {
  if (ranks <= fits.front().ranks) return fits.front();
  if (ranks >= fits.back().ranks) return fits.back();
  size_t i = 1;
  while (fits[i].ranks < ranks) ++i;
  const auto& a = fits[i - 1];
  const auto& b = fits[i];
  const double w = std::log(static_cast<double>(ranks) / a.ranks) /
                   std::log(static_cast<double>(b.ranks) / a.ranks);
  auto mix = [w](double x, double y) { return x + w * (y - x); };
  return {ranks, mix(a.latency_s, b.latency_s),
          mix(a.bus_efficiency, b.bus_efficiency),
          mix(a.bulk_latency_s, b.bulk_latency_s),
          mix(a.bulk_bus_efficiency, b.bulk_bus_efficiency)};
}

namespace {

std::string ClassName(v1::OperatorClass c) {
  std::string name = v1::OperatorClass_Name(c);
  constexpr std::string_view kPrefix = "OPERATOR_CLASS_";
  if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
  for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
  return name;
}

// FP8 GEMMs' default, applied after a chip's dtype-free entries and before
// its FP8 entries (GEMM class only): fit to aiconfigurator's H100 per-tensor
// fp8 GEMM tables, TRT-LLM, vLLM and SGLang pooled (7992 rows;
// data/calibration/fits/h100_gemm_fp8_fit.txt), as the bf16 default is
// (DefaultEfficiencies): eta_c 0.707 of the fp8 peak, 6.04 us of tile-loop
// latency, p = 1, 16 M-tile overhead rows; a chip's FP8 entries override
// it (docs/calibration.md §4.1.1, §7). Not in OperatorModelOptions: ASSUMED
// for every chip with an fp8 peak that has no FP8 entry of its own.
void ApplyFp8GemmDefault(ClassEfficiency* e) {
  e->compute = 0.707;
  e->memory = 1;
  e->floor_s = 0.00067e-6;
  e->memory_ramp_bytes = 0.949e6;
  e->parallel_columns = 1590;
  e->overlap_exponent = 1;
  e->compute_latency_s = 6.04e-6;
  e->tile_overhead_rows = 16;
}

// The cost model's default for `c`, overridden by the chip's chip-wide entry
// (op UNSPECIFIED) and then by its entry for `c` (the convention of
// hardware/chip_catalog.h's EffectiveEfficiency).
// `named` = NamedOperatorIndexIn(c, ...) of the operator, or -1.
ClassEfficiency Resolve(const OperatorModelOptions& o, const v1::Chip& chip,
                        v1::OperatorClass c, int named, v1::Dtype dtype) {
  ClassEfficiency e =
      named >= 0 ? o.operator_efficiency[named] : o.efficiency[c];
  auto apply = [&e](const v1::OperatorEfficiency& x) {
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
    if (x.has_latency_us()) e.latency_s = x.latency_us() * 1e-6;
    if (x.has_unit_latency_us()) e.unit_latency_s = x.unit_latency_us() * 1e-6;
    if (x.has_tile_q_rows()) e.tile_q_rows = x.tile_q_rows();
    if (x.has_tile_kv_rows()) e.tile_kv_rows = x.tile_kv_rows();
    if (x.has_local_pair_bytes()) e.local_pair_bytes = x.local_pair_bytes();
    if (x.has_layer_pair_bytes()) e.layer_pair_bytes = x.layer_pair_bytes();
    if (x.collective_fits_size() > 0) {
      e.collective_fits.clear();
      for (const v1::CollectiveFit& f : x.collective_fits()) {
        e.collective_fits.push_back(
            {f.ranks(), f.latency_us() * 1e-6, f.bus_efficiency(),
             f.bulk_latency_us() * 1e-6, f.bulk_bus_efficiency()});
      }
      std::sort(e.collective_fits.begin(), e.collective_fits.end(),
                [](const auto& a, const auto& b) { return a.ranks < b.ranks; });
    }
  };
  // Dtype-free entries, then `dtype`'s (a precision's kernels differ more
  // from another precision's than one framework's from another's); within
  // each, framework-free entries, then the options' framework's. FP4 takes
  // FP8's entries before its own: ASSUMPTION, nothing here measured FP4
  // GEMMs, so they carry FP8's fitted efficiency (at FP4's peak) unless the
  // chip has DTYPE_FP4 entries. Last (kernel_pass), the entries of the
  // kernels the options select, where their dtype and framework, if set,
  // match: a kernel chosen instead of the chip's default replaces what the
  // default's entries said.
  std::array<v1::Dtype, 3> layers = {v1::DTYPE_UNSPECIFIED};
  int num_layers = 1;
  if (dtype == v1::DTYPE_FP4) layers[num_layers++] = v1::DTYPE_FP8;
  if (dtype != v1::DTYPE_UNSPECIFIED) layers[num_layers++] = dtype;
  const int kernel_pass = 2 * num_layers;
  const int passes = kernel_pass + 1;
  auto selected = [&o](const std::string& kernel) {
    return !kernel.empty() && absl::c_linear_search(o.kernels, kernel);
  };
  auto applies = [&](const v1::OperatorEfficiency& x, int pass) {
    if (pass == kernel_pass) {
      return selected(x.kernel()) &&
             absl::c_linear_search(
                 absl::MakeConstSpan(layers.data(), num_layers), x.dtype()) &&
             (x.framework().empty() || x.framework() == o.framework);
    }
    const bool dtype_ok = x.dtype() == layers[pass / 2];
    const bool framework_ok =
        pass % 2 == 0 ? x.framework().empty()
                      : !o.framework.empty() && x.framework() == o.framework;
    return dtype_ok && framework_ok && x.kernel().empty();
  };
  if (c == v1::OPERATOR_CLASS_COLLECTIVE) {
    // Collectives run on the links, not on memory: only the class's own
    // entry applies, and unset fields come from the options.
    e.memory = o.collective_efficiency;
    if (e.step_latency_s <= 0) e.step_latency_s = o.collective_alpha_s;
    for (int pass = 0; pass < passes; ++pass) {
      for (const v1::OperatorEfficiency& x : chip.efficiency()) {
        if (x.op() == c && applies(x, pass)) apply(x);
      }
    }
    return e;
  }
  for (int pass = 0; pass < passes; ++pass) {
    if (pass % 2 == 0 && pass < kernel_pass &&
        layers[pass / 2] == v1::DTYPE_FP8 && c == v1::OPERATOR_CLASS_GEMM)
      ApplyFp8GemmDefault(&e);
    for (const v1::OperatorEfficiency& x : chip.efficiency()) {
      if (x.op() == v1::OPERATOR_CLASS_UNSPECIFIED && applies(x, pass))
        apply(x);
    }
    if (c == v1::OPERATOR_CLASS_UNSPECIFIED) continue;
    for (const v1::OperatorEfficiency& x : chip.efficiency()) {
      if (x.op() == c && applies(x, pass)) apply(x);
    }
  }
  // The operator's own entries after every class entry: an operator
  // measured on other frameworks' kernels (MLA decode) says more about it
  // than a framework's class entry fitted on other operators.
  // An operator entry naming a kernel applies, when selected, after every
  // kernel-free one.
  if (named < 0) return e;
  for (const bool kernel_entries : {false, true}) {
    for (int pass = 0; pass < passes; ++pass) {
      for (const v1::OperatorEfficiency& x : chip.efficiency()) {
        if (x.op() != c || !applies(x, pass)) continue;
        for (const v1::OperatorEfficiency& sub : x.operators()) {
          if (NamedOperatorIndex(sub.op_name()) != named) continue;
          if (kernel_entries ? selected(sub.kernel()) : sub.kernel().empty())
            apply(sub);
        }
      }
    }
  }
  return e;
}

}  // namespace

ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const v1::Chip& chip,
                                  v1::OperatorClass op_class, v1::Dtype dtype) {
  return Resolve(options, chip, op_class, -1, dtype);
}

ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const v1::Chip& chip,
                                  v1::OperatorClass op_class,
                                  std::string_view op_name, v1::Dtype dtype) {
  return Resolve(options, chip, op_class,
                 NamedOperatorIndexIn(op_class, op_name), dtype);
}

std::array<ClassEfficiency, kNumOperatorClasses>
OperatorModelOptions::DefaultEfficiencies() {
  std::array<ClassEfficiency, kNumOperatorClasses> e;
  // The efficiency behaviour learned on the measured GPUs (`fleetsim
  // calibrate fit`, docs/calibration.md §4; data/calibration/fits/), the
  // default for every chip nobody measured. Fields: eta_c, eta_m, eta_v,
  // floor, ramp bytes, parallel columns, overlap exponent.
  // Chip-wide and MoE class (shared experts) defaults: the GEMM fit to
  // Vidur's H100 QKV/O/up/down rows of 5 models, TP 1-8, 1-4096 tokens
  // (2380 rows, eager PyTorch; leave-one-model-out median / p90 APE 5.1 % /
  // 17.6 %, 6.2 % / 19.0 % before the M-tile and compute-latency terms):
  // token rows run in 64- or 128-row tiles (24.9 operand rows of overhead
  // per tile, so 64-row tiles cost 1.16x per FLOP and m = 160 pays for 192
  // rows), 4.76 us of tile-loop fill/drain adds to the tensor time, p = 2.
  ClassEfficiency vidur_gemm{0.725, 0.924, 0.7, 5.81e-6, 5.51e6, 630, 2.0};
  vidur_gemm.compute_latency_s = 4.76e-6;
  vidur_gemm.tile_overhead_rows = 24.9;
  e[v1::OPERATOR_CLASS_UNSPECIFIED] = vidur_gemm;
  e[v1::OPERATOR_CLASS_MOE] = vidur_gemm;
  // GEMM: fit to aiconfigurator's H100 bf16 GEMM tables of today's serving
  // stacks (CUDA graphs; TRT-LLM, vLLM and SGLang pooled, 7992 rows;
  // data/calibration/fits/h100_gemm_fit.txt; leave one framework out 6.0 /
  // 17.2 % median / p90 APE on rows >= 10 us), as attention's default is:
  // eta_c 0.793, eta_m 0.866 with skinny GEMMs at half bandwidth at 157
  // output columns, an 8.15 MB ramp, p = 2, 0.21 us of tile-loop latency,
  // and no M-tile term (cuBLAS picks the tile per shape: no padding steps
  // in these tables, docs/calibration.md §4.1.1). Each framework's own fit is
  // in the H100 and A100 catalog entries (docs/calibration.md §7).
  ClassEfficiency gemm{0.793, 0.866, 0.7, 0.847e-6, 8.15e6, 157, 2.0};
  gemm.compute_latency_s = 0.208e-6;
  gemm.tile_overhead_rows = 0;
  e[v1::OPERATOR_CLASS_GEMM] = gemm;
  // Attention: fit to aiconfigurator's H100 tables of today's kernels,
  // TRT-LLM, vLLM (FA3) and SGLang pooled (data/calibration/fits/
  // h100_attention_fit.txt; each framework's own set is in the H100 and
  // A100 catalog entries). Prefill: FlashAttention-3's 128 x 128 tile loop
  // at eta_c 0.629, 2.07 us of fixed work per tile, 8.92 us per call, the
  // softmax hidden under the matmuls (attention_op.h FlashTileSeconds);
  // eta_m stays 0.8 and eta_v 0.7 (ASSUMPTIONS: the tables cannot separate
  // them). Decode: 10.3 us per call (seconds, not bytes: the same on chips
  // of any bandwidth) + the KV stream at 0.91 of bandwidth + 2.45 us per
  // request and KV head spread over the compute units; eta_c 0.28 (Vidur's
  // A100 GQA decode) is kept for completeness: GQA decode is memory-bound,
  // and MLA's compute-bound absorbed decode has its own default
  // (DefaultOperatorEfficiencies()).
  ClassEfficiency prefill{0.629, 0.8, 0.7, 0, 0, 0, 1.0};
  prefill.latency_s = 8.92e-6;
  prefill.unit_latency_s = 2.07e-6;
  prefill.tile_q_rows = 128;
  prefill.tile_kv_rows = 128;
  e[v1::OPERATOR_CLASS_ATTENTION_PREFILL] = prefill;
  ClassEfficiency decode{0.28, 0.91, 0.7, 0, 0};
  decode.latency_s = 10.3e-6;
  decode.unit_latency_s = 2.45e-6;
  e[v1::OPERATOR_CLASS_ATTENTION_DECODE] = decode;
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
  e[v1::OPERATOR_CLASS_NORM] = norm;
  // Elementwise kernels without their own entry (sampling, embedding): the
  // class fit to Vidur's H100 rope/activation/add rows (plain roofline). The
  // three measured kernels have their own defaults
  // (DefaultOperatorEfficiencies()).
  e[v1::OPERATOR_CLASS_ELEMENTWISE] = {0.7, 0.736, 0.7, 2.22e-6, 5.08e6};
  // All-reduce within a machine: NCCL 2.29.2's measured lines on 8 x H100
  // SXM per rank count (aiconfigurator; data/calibration/fits/
  // h100_nccl_fit.txt): latency, bus efficiency of the chip's scale-up
  // bandwidth, for small and bulk messages. Other collectives: the ring
  // formula with alpha per step (OperatorModelOptions).
  ClassEfficiency collective{1.0, 1.0, 1.0, 0, 0};
  collective.collective_fits = {{2, 6.45e-6, 0.243, 20.3e-6, 0.663},
                                {4, 10.2e-6, 0.423, 26.7e-6, 0.765},
                                {8, 16.7e-6, 0.447, 50.6e-6, 0.976}};
  e[v1::OPERATOR_CLASS_COLLECTIVE] = collective;
  // ASSUMPTION: selective-scan/SSD kernels are bandwidth-bound and far from
  // tensor peak (arXiv 2508.17679).
  e[v1::OPERATOR_CLASS_SSM] = {0.5, 0.7, 0.5, 5e-6, 0};
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
  // MLA absorbed decode: fit to aiconfigurator's H100 TRT-LLM and SGLang
  // MLA tables pooled (4344 rows, DeepSeek-V3's dimensions, 1-128 heads per
  // chip; data/calibration/fits/h100_mla_decode_fit.txt; leave one
  // framework out median / p90 APE 9.0 / 23.8 %): eta_c 0.825 and eta_m
  // 0.873 combined with p = 2 (compute-bound from ~128 heads per chip:
  // FlashMLA-class kernels reach 600-670 TFLOP/s on H100), 13.2 us per call,
  // 3.29 us per request spread over the compute units.
  ClassEfficiency mla{0.825, 0.873, 0.7, 0, 0, 0, 2.0};
  mla.latency_s = 13.2e-6;
  mla.unit_latency_s = 3.29e-6;
  e[static_cast<int>(NamedOperator::kMlaDecode)] = mla;
  // MoE routed experts as one fused layer: vLLM 0.24.0's Triton fit on
  // H100 (aiconfigurator's moe_perf rows, 16253; data/calibration/fits/
  // h100_moe_vllm_fit.txt; leave one expert shape out 10.2 / 42.0 % median
  // / p90 APE): eta_c 0.578, eta_m 0.889, p = 1.5, 39.4 us per call, 9.85
  // bytes per hidden element per pair of the layer. The default every chip
  // and framework without its own entry inherits: on the five measured
  // (chip, framework) tables it was not fitted on it is 12.7-31.1 % median
  // APE where the GEMM class default it replaces was 42-63 % (docs/
  // calibration.md §7).
  ClassEfficiency moe = DefaultEfficiencies()[v1::OPERATOR_CLASS_MOE];
  moe.compute = 0.578;
  moe.memory = 0.889;
  moe.floor_s = 0;
  moe.memory_ramp_bytes = 0;
  moe.overlap_exponent = 1.5;
  moe.compute_latency_s = 0;
  moe.latency_s = 39.4e-6;
  moe.local_pair_bytes = 1.25e-8;
  moe.layer_pair_bytes = 9.85;
  e[static_cast<int>(NamedOperator::kMoe)] = moe;
  // Mamba-2's causal conv: fit to aiconfigurator's H100 TRT-LLM
  // causal_conv1d_fn rows (592, six models; data/calibration/fits/
  // h100_ssm_conv_fit.txt; leave one model out 7.5 / 18.6 % median / p90
  // APE): eta_m 0.684, 4.12 us per call, p = 2, each prompt in 512-token
  // tiles (docs/calibration.md §4.5); compute and vector as the SSM class.
  ClassEfficiency conv = DefaultEfficiencies()[v1::OPERATOR_CLASS_SSM];
  conv.memory = 0.684;
  conv.floor_s = 0;
  conv.overlap_exponent = 2.0;
  conv.latency_s = 4.12e-6;
  conv.tile_q_rows = 512;
  e[static_cast<int>(NamedOperator::kSsmConv)] = conv;
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

void CheckChipAndOptions(const v1::Chip& chip, const OperatorModelOptions& o,
                         std::vector<std::string>* problems) {
  auto add = [problems](std::string problem) {
    problems->push_back(std::move(problem));
  };
  if (chip.bf16_tflops() <= 0) add("chip bf16_tflops must be > 0");
  if (chip.vector_tflops() <= 0) add("chip vector_tflops must be > 0");
  if (chip.memory_bandwidth_tbps() <= 0) {
    add("chip memory_bandwidth_tbps must be > 0");
  }
  if (o.overlap_exponent < 1) {
    add(absl::StrCat("options.overlap_exponent must be >= 1, got ",
                     o.overlap_exponent));
  }
  if (o.kv_page_tokens < 1) add("options.kv_page_tokens must be >= 1");
  if (o.chips_per_machine < 1) add("options.chips_per_machine must be >= 1");
  if (o.expert_parallel < 1) add("options.expert_parallel must be >= 1");
  if (!(o.moe_routing_alpha >= 0 && std::isfinite(o.moe_routing_alpha)) ||
      o.moe_routing_alpha == 1) {
    add(absl::StrCat(
        "options.moe_routing_alpha must be 0 (balanced) or a power-law "
        "exponent > 0 and != 1, got ",
        o.moe_routing_alpha));
  }
  if (!(o.collective_efficiency > 0 && o.collective_efficiency <= 1)) {
    add("options.collective_efficiency must be in (0, 1]");
  }
  for (int c = 0; c < kNumOperatorClasses; ++c) {
    const ClassEfficiency& e = o.efficiency[c];
    for (double v : {e.compute, e.memory, e.vector}) {
      if (!(v > 0 && v <= 1)) {
        add(absl::StrCat("options.efficiency[", ClassName(v1::OperatorClass(c)),
                         "] has a fraction outside (0, 1]: ", v));
        break;
      }
    }
  }
  for (int i = 0; i < kNumNamedOperators; ++i) {
    const ClassEfficiency& e = o.operator_efficiency[i];
    for (double v : {e.compute, e.memory, e.vector}) {
      if (!(v > 0 && v <= 1)) {
        add(absl::StrCat("options.operator_efficiency[", NamedOperatorName(i),
                         "] has a fraction outside (0, 1]: ", v));
        break;
      }
    }
  }
  std::vector<const v1::OperatorEfficiency*> entries;
  for (const v1::OperatorEfficiency& e : chip.efficiency()) {
    entries.push_back(&e);
    for (const v1::OperatorEfficiency& sub : e.operators()) {
      entries.push_back(&sub);
      if (NamedOperatorIndexIn(e.op(), sub.op_name()) < 0) {
        add(absl::StrCat(
            "chip efficiency for ", ClassName(e.op()),
            " has an operator entry '", sub.op_name(),
            "': only elementwise rope, mlp_act and residual_add, "
            "attention_decode mla_decode, moe moe and ssm ssm_conv have them"));
      }
    }
  }
  for (const v1::OperatorEfficiency* ep : entries) {
    const v1::OperatorEfficiency& e = *ep;
    if ((e.has_cache_speedup() && e.cache_speedup() < 1) ||
        (e.has_cache_fraction() && e.cache_fraction() < 0) ||
        (e.has_rows_per_unit() && e.rows_per_unit() < 0) ||
        (e.has_row_overhead_kb() && e.row_overhead_kb() < 0) ||
        (e.has_local_pair_bytes() && e.local_pair_bytes() < 0) ||
        (e.has_layer_pair_bytes() && e.layer_pair_bytes() < 0)) {
      add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                       " has cache_speedup < 1 or a negative cache_fraction, "
                       "rows_per_unit, row_overhead_kb or pair bytes"));
    }
    for (double v : {e.has_compute() ? e.compute() : 1.0,
                     e.has_memory() ? e.memory() : 1.0,
                     e.has_vector() ? e.vector() : 1.0}) {
      if (!(v > 0 && v <= 1)) {
        add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                         " has a fraction outside (0, 1]: ", v));
        break;
      }
    }
    if (e.has_overlap_exponent() && e.overlap_exponent() < 1) {
      add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                       " has overlap_exponent < 1: ", e.overlap_exponent()));
    }
    if ((e.has_memory_ramp_mb() && e.memory_ramp_mb() < 0) ||
        (e.has_parallel_columns() && e.parallel_columns() < 0) ||
        (e.has_step_latency_us() && e.step_latency_us() < 0) ||
        (e.has_compute_latency_us() && e.compute_latency_us() < 0) ||
        (e.has_tile_overhead_rows() && e.tile_overhead_rows() < 0)) {
      add(absl::StrCat("chip efficiency for ", ClassName(e.op()),
                       " has a negative ramp, column, latency or tile term"));
    }
  }
  if (chip.has_compute_units() && chip.compute_units() < 1) {
    add("chip compute_units must be >= 1 when set");
  }
  if (o.iteration_overhead_s < 0 || o.layer_overhead_s < 0 ||
      o.request_layer_overhead_s < 0) {
    add("options.iteration_overhead_s, layer_overhead_s and "
        "request_layer_overhead_s must be >= 0");
  }
}

}  // namespace fleetsim::hardware
