// File: hardware/operator_options.h
//
// The knobs of the operator cost model (hardware/operator_model.h) and of
// the shape-only pricer (hardware/operator_pricer.h): what is fused, the
// accounting constants, the serving-stack overhead, and the achieved
// fractions of peak per operator class (ClassEfficiency) with the rules by
// which a chip's `efficiency` entries override them. docs/cost_model.md
// lists every default with its source.
#ifndef FLEETSIM_HARDWARE_OPERATOR_OPTIONS_H_
#define FLEETSIM_HARDWARE_OPERATOR_OPTIONS_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/operator_query.h"
#include "hardware/reference_machine.h"

namespace fleetsim::hardware {

// Number of OperatorClass values (proto/fleetsim/v1/chip.proto), for per-class
// arrays.
inline constexpr int kNumOperatorClasses = v1::OperatorClass_ARRAYSIZE;

// Achieved fractions of peak for one operator class. These are the cost
// model's defaults; a chip's `efficiency` entries override them field by
// field (the chip-wide entry, op OPERATOR_CLASS_UNSPECIFIED, first, then the
// class's own entry).
struct ClassEfficiency {
  double compute = 0.72;  // of tensor peak, (0, 1]
  double memory = 0.9;    // of memory bandwidth, (0, 1]
  double vector = 0.7;    // of vector (non-tensor) peak, (0, 1]
  double floor_s = 4e-6;  // minimum time of one kernel invocation, seconds
  // Bytes added to an invocation's traffic before dividing by bandwidth:
  // pipeline fill/drain, so that eta_m(bytes) = eta_m * B / (B + ramp)
  // rises with the size of the stream. 0 = constant eta_m.
  double memory_ramp_bytes = 0;
  // GEMM: output columns n (per chip) at which the memory term reaches half
  // of eta_m, eta_m(n) = eta_m * n / (n + parallel_columns); skinny GEMMs
  // launch too few thread blocks to saturate memory. 0 = off.
  double parallel_columns = 0;
  // Exponent of this class's smooth maximum (>= 1); 0 = the options'
  // global overlap_exponent.
  double overlap_exponent = 0;
  // ATTENTION_PREFILL: mean context length per request (tokens) at which
  // eta_c reaches half its value, eta_c(L) = eta_c * L / (L + ramp). 0 = off.
  double compute_ramp_tokens = 0;
  // COLLECTIVE: latency per ring step, seconds; 0 = the options'
  // collective_alpha_s. (`memory` is then the fraction of link bandwidth.)
  double step_latency_s = 0;
  // NORM / ELEMENTWISE: on-chip cache residency. An invocation whose working
  // set W (bytes read + written) fits runs at up to `cache_speedup` times
  // the memory bandwidth: speedup(W) = 1 + (cache_speedup - 1) /
  // (1 + (W / W0)^8), W0 = cache_fraction * the chip's sram_mb. 1 or 0 or a
  // chip without sram_mb = off.
  double cache_speedup = 1;
  double cache_fraction = 0;
  // NORM / ELEMENTWISE: token rows per compute unit per wave; with the chip's
  // compute_units, rows are rounded up to whole waves of rows_per_unit *
  // compute_units (one thread block per row, a partial wave costs a full
  // one). 0 or a chip without compute_units = off.
  double rows_per_unit = 0;
  // NORM / ELEMENTWISE: bytes of traffic one token row's fixed cost is
  // equivalent to (added per row before the wave term). 0 = off.
  double row_overhead_bytes = 0;
  // GEMM: fixed time added to the tensor term (tile-loop pipeline fill and
  // drain, the last tiles' epilogue), seconds. 0 = off.
  double compute_latency_s = 0;
  // GEMM: M tiles. The m token rows run in tiles of 64 or 128 rows,
  // whichever costs less (m <= 64 unpadded); a q-row tile's FLOPs cost
  // (1 + r / q) / (1 + r / 128) of a 128-row tile's, r = tile_overhead_rows
  // (operand rows loaded per k step next to the tile's math), so `compute`
  // is the 128-row tiles' efficiency. 0 = off (rows unpadded).
  double tile_overhead_rows = 0;
  // Fixed seconds added to every invocation (launch and fixed work), on top
  // of the roofline; unlike floor_s it does not hide under a long kernel.
  double latency_s = 0;
  // ATTENTION_PREFILL / _DECODE: seconds of fixed work per work unit (a
  // prefill tile of packed query rows of one KV head, or a decode request's
  // KV head), the units spread over the chip's compute_units.
  double unit_latency_s = 0;
  // ATTENTION_PREFILL: the FlashAttention-3 tile loop (query rows of a KV
  // head's packed query heads in tiles of tile_q_rows, keys in tiles of
  // tile_kv_rows; docs/calibration.md §4.2). 0 = the roofline with the
  // context ramp.
  double tile_q_rows = 0;
  double tile_kv_rows = 0;
  // COLLECTIVE: measured alpha-beta lines per rank count (within a node),
  // sorted by ranks; empty = the ring formula with step_latency_s and
  // `memory`. CollectiveFitAt() resolves a rank count.
  struct CollectiveFit {
    int ranks = 0;
    double latency_s = 0;
    double bus_efficiency = 0;  // of the chip's scale-up bandwidth
    double bulk_latency_s = 0;
    double bulk_bus_efficiency = 0;
  };
  std::vector<CollectiveFit> collective_fits = {};
  // MOE "moe" (routed experts as one fused layer): bytes per hidden element
  // per routed (token, expert) pair for the permutation and gathers, per
  // pair this chip computes and per pair of the tokens it holds (kernels
  // that scan every pair of their input: the whole layer's, or under the
  // dispatch all-to-all the received tokens'), at `memory`. 0 = off.
  double local_pair_bytes = 0;
  double layer_pair_bytes = 0;
};

// The alpha-beta lines of `fits` (non-empty, sorted by ranks) at `ranks`:
// interpolated linearly in log(ranks) between entries, the nearest entry
// outside them.
ClassEfficiency::CollectiveFit CollectiveFitAt(
    const std::vector<ClassEfficiency::CollectiveFit>& fits, int ranks);

// Operators with their own efficiency entries inside their class's entry
// (OperatorEfficiency.operators, OperatorModelOptions::operator_efficiency):
// kernels that one class entry cannot fit. ELEMENTWISE: rotary, the MLP
// activation and the residual add (different achieved bandwidths).
// ATTENTION_DECODE: MLA's absorbed decode, compute-bound where GQA decode is
// memory-bound, so its tensor efficiency is the kernel's own (FlashMLA-class
// kernels on Hopper; another chip's kernel, such as AMLA on Ascend, is that
// chip's own entry). MOE: the routed experts as one fused layer (routing,
// permutation, grouped GEMMs, un-permutation), measured whole by the
// serving frameworks' fused MoE kernels; the class entry keeps pricing the
// shared experts, which are plain GEMMs. SSM: the causal depthwise conv of
// Mamba-style mixers (a memory-bound row kernel, measured on its own), apart
// from the scans.
enum class NamedOperator : int {
  kRope = 0,
  kMlpAct = 1,
  kResidualAdd = 2,
  kMlaDecode = 3,
  kMoe = 4,
  kSsmConv = 5
};
inline constexpr int kNumNamedOperators = 6;

// The named operator `name` is (calibration-table or cost-model name:
// "rope"/"rotary", "mlp_act"/"activation"/"moe_activation",
// "residual_add"/"add", "mla_decode", "moe"/"moe_experts", "ssm_conv"), or
// -1.
int NamedOperatorIndex(std::string_view name);
// "rope", "mlp_act", "residual_add", "mla_decode", "moe", "ssm_conv" for
// indices 0..5.
const char* NamedOperatorName(int index);
// The class whose entry holds the named operator's entry.
v1::OperatorClass NamedOperatorClass(int index);
// NamedOperatorIndex(name) if that operator belongs to `op_class`, else -1.
int NamedOperatorIndexIn(v1::OperatorClass op_class, std::string_view name);

// Knobs of the cost model. Defaults describe a vLLM-class GPU server:
// FlashAttention-style fused attention, separate norm/activation/residual
// kernels, efficiencies fitted to Vidur's H100 profiles. Each field says its
// source; "ASSUMPTION" marks numbers nobody measured.
struct OperatorModelOptions {
  // Attention prefill as one fused kernel (true: Q, K, V read once, O
  // written once, the T x L scores never reach memory) or as QK^T GEMM,
  // softmax kernel and PV GEMM with the scores written and read back (false:
  // eager PyTorch, LLMCompass's model). MLA prefill is always modelled fused.
  bool fuse_attention = true;

  // Norms, rotary, activation and residual adds fused into neighbouring
  // kernels (true: their bytes and launch floors vanish, only their vector
  // FLOPs remain) or separate memory-bound kernels (false: what Vidur
  // profiles on H100).
  bool fuse_elementwise = false;

  // Exponent p of the smooth maximum that combines an operator's tensor,
  // vector and memory times: 1 adds them (no overlap), large values give the
  // plain roofline max. 1.5 fits Vidur's 17.7k measured H100 GEMMs (median
  // APE 7%, p90 20%; p = 2 gives 7.7%/22%, the plain max 10%/30%); see
  // docs/cost_model.md. Cost of changing it: every near-ridge operator moves.
  double overlap_exponent = 1.5;

  // Vector FLOPs one exponential costs. 17 = H100's 66.9 TFLOP/s FP32
  // non-tensor peak over its 3.9 T exp/s special-function throughput
  // (FlashAttention-3, arXiv 2407.08608 §3.1: 989 TFLOPS matmul vs 3.9
  // TFLOPS special functions). ASSUMPTION: other chips keep the same ratio.
  // LLMCompass evaluates exp on the vector ALUs at 35 FLOPs
  // (hardware_model/compute_module.py, flops_per_exp = 35).
  double exp_vector_flops = 17;

  // Softmax cost per attention score: exponentials and other vector FLOPs
  // (max, subtract, scale, sum). Fused default: 1 exp + 4 FLOPs.
  // LLMCompass's online softmax: 3 exp + 7 (software_model/softmax.py).
  double softmax_exps_per_score = 1;
  double softmax_flops_per_score = 4;

  // Vector FLOPs per activation element besides its one exponential
  // (GELU ~8, SiLU*mul ~5) and per norm element (LayerNorm ~8, RMSNorm ~4):
  // operation counts of the kernels' formulas (docs/cost_model.md).
  double gelu_flops = 8;
  double silu_mul_flops = 5;
  double layernorm_flops = 8;
  double rmsnorm_flops = 4;

  // Rotary embedding as a separate kernel. The schema has no position-
  // encoding field: kAuto charges rotary except for LayerNorm + GELU models
  // (BLOOM and GPT-style families use ALiBi or learned positions).
  enum class Rotary { kAuto, kOn, kOff };
  Rotary rotary = Rotary::kAuto;

  // KV-cache page size in tokens: decode reads whole pages, on average
  // (page - 1) / 2 extra rows per request. vLLM's default block is 16.
  int kv_page_tokens = 16;

  // Collectives. alpha per ring step and the achieved fraction of the
  // chip's scale-up bandwidth, fitted to Vidur's 8 x H100 DGX NCCL
  // all-reduce (microsoft/vidur data/profiling/network/h100_dgx/
  // all_reduce.csv): bus bandwidth 379 GB/s of 450 (0.84), messages below
  // 1 MB take 32-37 us = 14 steps x ~2.6 us.
  double collective_alpha_s = 2.6e-6;
  double collective_efficiency = 0.84;

  // Serving framework whose kernel efficiencies apply ("trtllm", "vllm",
  // "sglang"): a chip's `efficiency` entries for this framework apply after
  // its framework-free ones (ResolveEfficiency); empty = framework-free
  // entries only (what `calibrate fit` without --framework pools over every
  // framework). Default vLLM (docs/cost_model.md §2): the most deployed
  // open-source stack; a cluster or pool picks another with
  // serving_framework.
  static constexpr const char* kDefaultFramework = "vllm";
  std::string framework = kDefaultFramework;

  // Kernel implementations chosen instead of the chip's defaults (a pool's
  // `kernels`): the chip's efficiency entries naming one of these
  // (OperatorEfficiency.kernel) apply after the kernel-free entries of their
  // level; entries naming other kernels are ignored.
  std::vector<std::string> kernels;

  // Chips per machine: pipeline stages beyond one machine send activations
  // over scale-out instead of scale-up (default: hardware/reference_machine.h).
  int chips_per_machine = kDefaultChipsPerMachine;

  // MoE routed experts (cluster.proto Pool.ep, expert_routing;
  // docs/cost_model.md "Expert parallelism" and "MoE routing").
  // expert_parallel: the expert-parallel degree; 1 = none, the routed
  // experts are split by TP like the dense MLP. > 1 (a multiple of tp): each
  // MoE layer's routed experts are sharded whole over this many ranks.
  // = tp: one group, the tokens on every chip, the layer's output all-
  // reduced as under TP (vLLM's --enable-expert-parallel without data
  // parallelism). > tp: attention and the other layers run in
  // expert_parallel / tp data-parallel groups of tp ranks, each on its share
  // of the batch, and every MoE layer adds a dispatch and a combine
  // all-to-all over the ranks.
  // moe_routing_alpha: 0 = balanced routing (every expert equally likely,
  // the default); > 0 and != 1 = a power law of that exponent as
  // aiconfigurator's MoE tables are collected (hardware/moe_routing.h),
  // which under expert parallelism makes the iteration wait for the most
  // loaded rank and on every chip changes how many experts a batch touches.
  int expert_parallel = 1;
  double moe_routing_alpha = 0;
  // Whether an expert-parallel instance may span machines (expert_parallel
  // a multiple of chips_per_machine, one pipeline stage): the model then
  // prices only the all-to-all among each machine's ranks, and its caller
  // moves the cross-machine share (hardware/expert_all_to_all.h
  // MachinePairBytes) itself: the simulator as SimGrid communications on
  // the scale-out links (sim/instance.h). false: such a layout is refused,
  // since an iteration priced without that share would be too fast.
  bool cross_machine_all_to_all_by_caller = false;

  // The model is one multi-token-prediction module (hardware/mtp_module.h
  // MtpModuleModel): each token also runs the module's two input RMSNorms
  // and its [emb; h] projection, 2 hidden -> hidden, replicated on every
  // rank and in BF16 as the frameworks load it.
  bool mtp_module = false;

  // Serving-framework time per iteration that no kernel accounts for
  // (scheduler, Python and kernel launches, sampling, detokenisation):
  //   iteration_overhead_s + layers * (layer_overhead_s +
  //                                    request_layer_overhead_s * requests)
  // (layers of all stages; requests = prefill chunks + decode requests in
  // the batch). Default 0: kernel time only, as a CUDA-graph serving stack
  // runs. WithSplitwiseOverhead() sets the "serving-stack profile" fitted to
  // SplitwiseSim's measured whole iterations (data/splitwise/
  // perf_model.csv; fit on Llama-2-70B TP2/4, checked on TP8 and
  // BLOOM-176B; `fleetsim calibrate e2e`, docs/calibration.md §6), which
  // SPAD's and Splitwise's baselines include. Cost of changing it: every
  // iteration moves by an absolute amount, so decode steps and chip ratios
  // move most; the per-request term makes large decode batches slower
  // (BLOOM-176B, 64 requests: +16.4 ms per step).
  double iteration_overhead_s = 0;
  double layer_overhead_s = 0;
  // Per request in the batch, per layer. The measured decode steps grow with
  // batch by the same absolute amount whatever the TP degree (Llama-2-70B
  // TP4 vs TP8), the chip (H100 vs A100 fit separately: 3.45 vs 3.97 us)
  // and the per-chip KV bytes (BLOOM-176B MHA vs Llama-2-70B GQA, 14x), so
  // it is framework time per request (scheduling, block tables, sampling),
  // not a decode-attention or GEMM efficiency (those fits fail on the test
  // models; docs/calibration.md §6).
  double request_layer_overhead_s = 0;
  // The calibrated profile, fitted jointly (weighted least squares of
  // measured - kernel on layers and requests * layers, prefill and decode
  // samples of Llama-2-70B TP2/TP4 on H100 and A100): 154.5 us per layer
  // (Llama-2-70B: 12.4 ms per iteration; eager PyTorch launching ~15
  // kernels per layer) plus 3.65 us per request per layer (0.29 ms per
  // decode request per Llama-2-70B step). The previous profile, per layer
  // only, was 156 us.
  static constexpr double kSplitwiseLayerOverheadS = 154.5e-6;
  static constexpr double kSplitwiseRequestLayerOverheadS = 3.65e-6;
  static OperatorModelOptions WithSplitwiseOverhead();

  // Defaults per OperatorClass (index = enum value); DefaultEfficiencies()
  // lists them with sources.
  std::array<ClassEfficiency, kNumOperatorClasses> efficiency =
      DefaultEfficiencies();

  // Measured corrections per OperatorClass; an empty function keeps the
  // analytic time. This is how calibration tables replace or correct any
  // operator without changing the model's structure.
  std::array<OperatorCorrection, kNumOperatorClasses> corrections;

  // The per-class defaults: the efficiency behaviour fitted to the measured
  // H100 (GEMM, norm, elementwise) and A100 (attention) kernels by `fleetsim
  // calibrate fit`, which every chip without its own entries inherits;
  // docs/cost_model.md §4 lists them with sources, docs/calibration.md §4
  // the fit. COLLECTIVE uses collective_alpha_s / collective_efficiency;
  // SSM is an ASSUMPTION (eta_c 0.5, eta_m 0.7, eta_v 0.5, floor 5 us).
  static std::array<ClassEfficiency, kNumOperatorClasses> DefaultEfficiencies();

  // Defaults per named operator (index = NamedOperator): each replaces its
  // class default for that operator before the chip's entries apply. The
  // H100 per-operator fits (DefaultOperatorEfficiencies()).
  std::array<ClassEfficiency, kNumNamedOperators> operator_efficiency =
      DefaultOperatorEfficiencies();
  static std::array<ClassEfficiency, kNumNamedOperators>
  DefaultOperatorEfficiencies();

  // The accounting of LLMCompass, the chip model behind SPAD's Table 3:
  // unfused attention, exponentials on vector ALUs at 35 FLOPs, online
  // softmax at 3 exp + 7 FLOPs per score, GELU at 10 + exp, LayerNorm at 7.
  // Efficiencies and overlap stay at this model's defaults.
  static OperatorModelOptions LlmCompassLike();
};

// Whether `name` is a serving framework with its own kernel set
// (OperatorEfficiency.framework): "trtllm", "vllm" or "sglang".
bool IsServingFramework(std::string_view name);

// The kernel implementations `chip` has entries for
// (OperatorEfficiency.kernel, class and operator entries), sorted.
std::vector<std::string> ChipKernels(const v1::Chip& chip);
// Empty when `chip` has entries for every one of `kernels`; otherwise what
// is missing ("chip 'h200' has no kernel 'amla' (its alternative
// kernels: none)").
std::string UnknownKernel(const v1::Chip& chip,
                          const std::vector<std::string>& kernels);

// The efficiency the cost model applies to `op_class` on `chip`: the
// options' class default, then the chip's chip-wide entry (op UNSPECIFIED),
// then its entry for the class; framework-free entries first, then those of
// options.framework (entries of other frameworks are ignored). Collectives
// take only their own entries, with eta_net and alpha defaulting to
// options.collective_efficiency and collective_alpha_s. `dtype` is the
// precision the operator's tensor work runs in (TensorDtype): after all
// dtype-free entries, the entries of that dtype apply in the same order
// (framework-free, then the framework's); UNSPECIFIED = dtype-free only.
// FP4 applies FP8's entries (and FP8's GEMM default) before its own
// (ASSUMPTION: no FP4 GEMM is measured here; docs/cost_model.md).
// Last, the entries of options.kernels (OperatorEfficiency.kernel); entries
// naming a kernel the options do not select never apply.
ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const v1::Chip& chip,
                                  v1::OperatorClass op_class,
                                  v1::Dtype dtype = v1::DTYPE_UNSPECIFIED);
// The same for one operator: for a named operator of `op_class`
// (NamedOperatorIndexIn(op_class, op_name) >= 0) the options' operator
// default replaces the class default, and the chip's `operators` entries
// for it (framework-free, then the framework's) apply after all class
// entries.
ClassEfficiency ResolveEfficiency(const OperatorModelOptions& options,
                                  const v1::Chip& chip,
                                  v1::OperatorClass op_class,
                                  std::string_view op_name,
                                  v1::Dtype dtype = v1::DTYPE_UNSPECIFIED);

// Appends to `problems` what makes `chip` or `options` unusable for the cost
// model: missing peaks or bandwidth, efficiencies or options out of range,
// operator entries on classes that have none.
void CheckChipAndOptions(const v1::Chip& chip,
                         const OperatorModelOptions& options,
                         std::vector<std::string>* problems);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPERATOR_OPTIONS_H_
