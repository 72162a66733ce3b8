#include "sim/fleet.h"

#include <cmath>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "hardware/chip_catalog.h"
#include "hardware/model_footprint.h"
#include "hardware/reference_machine.h"
#include "sim/expert_parallel_layout.h"
#include "sim/image_serving.h"
#include "sim/pool_latency.h"
#include "sim/routing_policy.h"
#include "util/field_checks.h"
#include "util/run_limits.h"
#include "util/status_macros.h"
#include "util/text_locator.h"

namespace fleetsim::sim {
namespace {

constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;

// Defaults, each overridable in the cluster file.
constexpr int kDefaultMaxBatchSize = 256;        // vLLM max_num_seqs default
constexpr int64_t kDefaultSarathiTokens = 2048;  // Sarathi-Serve token budget
// ASSUMPTION: a common vLLM max_num_batched_tokens setting for prefill-first
// serving (the cluster file sets it per pool).
constexpr int64_t kDefaultVllmTokens = 8192;
constexpr int kDefaultBlockTokens = 16;         // vLLM block size
constexpr double kDefaultMemoryFraction = 0.9;  // SPAD App. B.1 / vLLM
// ASSUMPTION: one switch hop on the scale-out fabric (InfiniBand NDR port to
// port latency is ~0.6 us; 5 us covers NIC + software per transfer).
constexpr double kDefaultScaleOutLatencyUs = 5.0;

absl::Status PoolError(const std::string& origin, const PoolSpec& pool,
                       const std::string& message) {
  return absl::InvalidArgumentError(
      absl::StrCat(origin, ": pool '", pool.name, "': ", message));
}

// Peak activation memory of one iteration, per instance: the MLP
// intermediate (the largest transient) for a full token budget, plus fp32
// logits for a full batch at `logit_rows_per_request` rows each (k + 1 for
// a speculative verify). vLLM profiles this at start-up; we derive it.
double ActivationReserveBytes(const v1::Model& model, const PoolSpec& pool,
                              int logit_rows_per_request) {
  double act_bytes = hardware::WeightBytesPerElement(model);
  double ffn = std::max(model.ffn_dim(), model.moe().expert_ffn_dim());
  double mlp = static_cast<double>(pool.max_batch_tokens) *
               (2 * ffn / pool.tp + 4.0 * model.hidden_size()) * act_bytes;
  double logits = static_cast<double>(pool.max_batch_size) *
                  logit_rows_per_request * model.vocab_size() * 4.0;
  return (mlp + logits) * pool.pp;
}

// OK when `chip` has a tensor peak for the weights' precision of `served`
// and both precisions are modelled; else the reason, naming the pool's
// field or, where the pool sets none (`*_from_pool` false), the model's,
// and setting `*pool_field` to the pool field it is about ("weight_dtype",
// "kv_dtype") for the error's file position.
absl::Status CheckPrecision(const v1::Model& served, const v1::Chip& chip,
                            bool weights_from_pool, bool kv_from_pool,
                            std::string* pool_field) {
  *pool_field =
      served.kv_dtype() == v1::DTYPE_FP4 ? "kv_dtype" : "weight_dtype";
  const std::string weight_field =
      weights_from_pool ? "field 'weight_dtype'" : "the model's field 'dtype'";
  const std::string kv_field =
      kv_from_pool ? "field 'kv_dtype'" : "the model's field 'kv_dtype'";
  if (served.kv_dtype() == v1::DTYPE_FP4) {
    return absl::InvalidArgumentError(absl::StrCat(
        kv_field,
        ": an FP4 KV cache is not modelled (FP4 applies to weights only, "
        "weight_dtype: DTYPE_FP4); use BF16 or FP8"));
  }
  if (served.dtype() == v1::DTYPE_FP4 && chip.fp4_tflops() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(weight_field, ": FP4 weights, but chip '", chip.name(),
                     "' has no FP4 tensor peak (fp4_tflops); serve it in ",
                     chip.fp8_tflops() > 0 ? "FP8 or " : "", "BF16"));
  }
  // FP4 weights keep the weights outside the FFNs in FP8
  // (hardware::WeightBytesPerElement).
  if (served.dtype() == v1::DTYPE_FP4 && chip.fp8_tflops() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        weight_field, ": FP4 weights keep attention in FP8, but chip '",
        chip.name(), "' has no FP8 tensor peak (fp8_tflops)"));
  }
  if (served.dtype() == v1::DTYPE_FP8 && chip.fp8_tflops() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(weight_field, ": FP8 weights, but chip '", chip.name(),
                     "' has no FP8 tensor peak (fp8_tflops); serve it in BF16",
                     chip.int8_tops() > 0 ? " or INT8" : ""));
  }
  if (served.dtype() == v1::DTYPE_INT8 && chip.int8_tops() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(weight_field, ": INT8 weights, but chip '", chip.name(),
                     "' has no INT8 tensor peak (int8_tops); serve it in BF16",
                     chip.fp8_tflops() > 0 ? " or FP8" : ""));
  }
  return absl::OkStatus();
}

// Cluster.prefix_caching onto the pools that compute prompts (all but
// decode pools); the router's policy needs it.
absl::Status ResolvePrefixCaching(const v1::Cluster& cluster,
                                  const std::string& origin, FleetSpec* fleet) {
  if (!cluster.prefix_caching()) {
    if (fleet->router == v1::ROUTER_POLICY_PREFIX_AFFINITY) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin,
          ": field 'router': ROUTER_POLICY_PREFIX_AFFINITY routes by "
          "cached prefixes and needs 'prefix_caching: true'"));
    }
    return absl::OkStatus();
  }
  if (fleet->mixed_pool_prefill_queue_tokens > 0) {
    return absl::UnimplementedError(absl::StrCat(
        origin,
        ": field 'prefix_caching': not simulated with the mixed pool "
        "(mixed_pool_prefill_queue_tokens): a lent instance's cache is not "
        "modelled"));
  }
  // Mooncake's hash_ids name 512-token blocks (its FAST'25 traces' README).
  constexpr int kMooncakeBlockTokens = 512;
  int block_tokens = cluster.prefix_block_tokens() > 0
                         ? cluster.prefix_block_tokens()
                         : kMooncakeBlockTokens;
  for (PoolSpec& pool : fleet->pools) {
    // Disaggregated, prompts are computed on the prefill pools only, so the
    // cache lives there (as Mooncake's prefill-side KV cache, FAST'25 §3);
    // a decode instance receives every prompt's whole KV.
    if (pool.role == v1::POOL_ROLE_DECODE) continue;
    if (block_tokens % pool.kv_block_tokens != 0) {
      return PoolError(
          origin, pool,
          absl::StrCat("field 'prefix_block_tokens': ", block_tokens,
                       " is not a multiple of batching.kv_block_tokens ",
                       pool.kv_block_tokens));
    }
    pool.prefix_block_tokens = block_tokens;
  }
  return absl::OkStatus();
}

}  // namespace

v1::Model ServedModel(const v1::Model& model, const PoolSpec& pool) {
  v1::Model served = model;
  if (served.kv_dtype() == v1::DTYPE_UNSPECIFIED)
    served.set_kv_dtype(served.dtype());
  if (pool.weight_dtype != v1::DTYPE_UNSPECIFIED)
    served.set_dtype(pool.weight_dtype);
  if (pool.kv_dtype != v1::DTYPE_UNSPECIFIED)
    served.set_kv_dtype(pool.kv_dtype);
  return served;
}

// Sanity bounds, not data, plus the per-run limits (util/run_limits.h).
const FieldRanges& ClusterFieldRanges() {
  constexpr double kMaxChips = 1e4;  // per machine; NVL72 racks have 72
  static const auto* ranges = new FieldRanges{
      {"fleetsim.v1.Cluster.mixed_pool_prefill_queue_tokens", 1, 1e12,
       "tokens"},
      {"fleetsim.v1.Cluster.framework_layer_overhead_us", 0, 1e6,
       "microseconds per layer"},
      {"fleetsim.v1.Cluster.prefix_block_tokens", 1, 1e6, "tokens"},
      {"fleetsim.v1.Pool.machines", 1,
       static_cast<double>(kMaxMachinesPerFleet),
       "the per-run limit, docs/limits.md"},
      {"fleetsim.v1.Pool.owned_machines", 0,
       static_cast<double>(kMaxMachinesPerFleet)},
      {"fleetsim.v1.Pool.tp", 1, kMaxChips},
      {"fleetsim.v1.Pool.pp", 1, kMaxChips},
      {"fleetsim.v1.Pool.ep", 1, kMaxChips},
      {"fleetsim.v1.Machine.chips_per_machine", 1, kMaxChips},
      {"fleetsim.v1.Machine.scale_up_gbytes_per_s", 1e-3, 1e6, "GB/s"},
      {"fleetsim.v1.Machine.scale_out_gbytes_per_s", 1e-3, 1e6, "GB/s"},
      {"fleetsim.v1.Machine.scale_out_latency_us", 0, 1e6, "microseconds"},
      {"fleetsim.v1.BatchingConfig.max_batch_size", 1, 1e7, "requests"},
      {"fleetsim.v1.BatchingConfig.max_batch_tokens", 1,
       static_cast<double>(kMaxRequestTokens), "tokens"},
      {"fleetsim.v1.BatchingConfig.kv_memory_fraction", 1e-3, 1,
       "of chip memory"},
      {"fleetsim.v1.BatchingConfig.kv_block_tokens", 1, 1e6, "tokens"},
      {"fleetsim.v1.SpeculativeDecoding.draft_tokens", 1, kMaxDraftTokens,
       "tokens per step"},
      {"fleetsim.v1.SpeculativeDecoding.acceptance_rate", 0, 1,
       "a probability"},
      {"fleetsim.v1.SpeculativeDecoding.acceptance_by_position", 0, 1,
       "a probability"},
      {"fleetsim.v1.TestTimeScaling.samples", 1, kMaxSamples,
       "samples per request"},
      {"fleetsim.v1.TestTimeScaling.rounds", 1, kMaxRounds,
       "rounds per sample"},
      {"fleetsim.v1.TestTimeScaling.length_spread", 0, 3, "log-normal sigma"},
      {"fleetsim.v1.DiffusionServing.canvas_tokens", 1,
       static_cast<double>(kMaxRequestTokens), "tokens"},
      {"fleetsim.v1.DiffusionServing.block_tokens", 1,
       static_cast<double>(kMaxRequestTokens), "tokens"},
      {"fleetsim.v1.DiffusionServing.tokens_per_step", 1,
       static_cast<double>(kMaxRequestTokens), "tokens per step"},
      {"fleetsim.v1.DiffusionServing.speculative_copies", 0, 64,
       "copies of the block per pass"},
      {"fleetsim.v1.DiffusionServing.steps_per_pass", 1, 65,
       "denoising steps per pass"},
  };
  return *ranges;
}

const char* PoolRoleName(v1::PoolRole role) {
  switch (role) {
    case v1::POOL_ROLE_PREFILL:
      return "prefill";
    case v1::POOL_ROLE_DECODE:
      return "decode";
    default:
      return "colocated";
  }
}

double FleetSpec::NormalizedTdp(const v1::Chip& h100) const {
  const double h100_machine_w =
      h100.tdp_w() * hardware::kDefaultChipsPerMachine;
  return h100_machine_w > 0 ? TdpW() / h100_machine_w : 0;
}

double FleetSpec::TdpW() const {
  double total = 0;
  for (const PoolSpec& pool : pools) {
    total += pool.machines * pool.chips_per_machine * pool.chip.tdp_w();
  }
  return total;
}

namespace {

// The cluster-wide settings of `cluster`: router, timing definitions,
// context limit, serving overhead and framework.
absl::StatusOr<FleetSpec> ResolveClusterSettings(const v1::Cluster& cluster,
                                                 const std::string& origin,
                                                 const v1::Model& model) {
  FleetSpec fleet;
  fleet.name = cluster.name();
  fleet.model = model;
  fleet.router = cluster.router() == v1::ROUTER_POLICY_UNSPECIFIED
                     ? v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS
                     : cluster.router();
  fleet.mixed_pool_prefill_queue_tokens =
      cluster.mixed_pool_prefill_queue_tokens();
  absl::StatusOr<const RoutingPolicyInfo*> routing =
      FindRoutingPolicy(fleet.router, fleet.mixed_pool_prefill_queue_tokens);
  if (!routing.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", routing.status().message()));
  }
  fleet.ttft_at_prefill_completion = cluster.ttft_at_prefill_completion();
  fleet.layerwise_kv_transfer = cluster.layerwise_kv_transfer();
  if (cluster.context_limit() != v1::CONTEXT_LIMIT_UNSPECIFIED)
    fleet.context_limit = cluster.context_limit();
  if (cluster.has_framework_layer_overhead_us()) {
    fleet.cost_model.layer_overhead_s =
        cluster.framework_layer_overhead_us() * 1e-6;
  } else {
    fleet.cost_model = hardware::OperatorModelOptions::WithSplitwiseOverhead();
  }
  if (!cluster.serving_framework().empty()) {
    if (!hardware::IsServingFramework(cluster.serving_framework())) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": field 'serving_framework': '", cluster.serving_framework(),
          "' is not a serving framework (trtllm, vllm, sglang)"));
    }
    fleet.cost_model.framework = cluster.serving_framework();
  }
  if (cluster.pools().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": cluster has no pools"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(fleet.speculative,
                            ResolveSpeculativeDecoding(cluster, model, origin));
  return fleet;
}

// The pool's MoE routing (Pool.expert_routing), checked against the served
// model. Its expert parallelism (Pool.ep) is checked by
// CheckExpertParallel.
absl::Status ResolveExpertRouting(const v1::Pool& config,
                                  const FleetSpec& fleet,
                                  const std::string& origin, PoolSpec* pool) {
  const v1::ExpertRouting& routing = config.expert_routing();
  if (hardware::NumMoeLayers(fleet.model) == 0 && config.has_expert_routing()) {
    return PoolError(
        origin, *pool,
        absl::StrCat("field 'expert_routing' applies to MoE "
                     "models; '",
                     fleet.model.name(), "' has no routed experts"));
  }
  if (routing.kind() == v1::EXPERT_ROUTING_KIND_POWER_LAW) {
    if (!(routing.alpha() > 0 && std::isfinite(routing.alpha())) ||
        routing.alpha() == 1) {
      return PoolError(
          origin, *pool,
          absl::StrCat("field 'expert_routing.alpha': ", routing.alpha(),
                       " is not a power-law exponent (> 0 and != 1; "
                       "aiconfigurator collects 1.01 and 1.2)"));
    }
    pool->moe_routing_alpha = routing.alpha();
  } else if (routing.alpha() != 0) {
    return PoolError(origin, *pool,
                     "field 'expert_routing.alpha' applies to kind "
                     "EXPERT_ROUTING_KIND_POWER_LAW only");
  }
  return absl::OkStatus();
}

// One pool of the cluster file with its defaults filled in: chip and
// machine, parallelism, batching and network. Sizes its KV later
// (SizeKvCache), once --pool overrides have set its machines.
absl::StatusOr<PoolSpec> ResolvePool(
    const v1::Pool& config, const FleetSpec& fleet,
    const std::map<std::string, const v1::Chip*>& chip_by_name,
    const std::string& origin) {
  PoolSpec pool;
  pool.role = config.role() == v1::POOL_ROLE_UNSPECIFIED
                  ? v1::POOL_ROLE_COLOCATED
                  : config.role();
  pool.name = config.name().empty() ? PoolRoleName(pool.role) : config.name();
  auto chip = chip_by_name.find(config.machine().chip());
  if (chip == chip_by_name.end()) {
    return absl::NotFoundError(absl::StrCat(origin, ": pool '", pool.name,
                                            "': unknown chip '",
                                            config.machine().chip(), "'"));
  }
  pool.chip = *chip->second;
  pool.weight_dtype = config.weight_dtype();
  pool.kv_dtype = config.kv_dtype();
  pool.framework = config.serving_framework().empty()
                       ? fleet.cost_model.framework
                       : config.serving_framework();
  if (!hardware::IsServingFramework(pool.framework)) {
    return PoolError(
        origin, pool,
        absl::StrCat("field 'serving_framework': '", pool.framework,
                     "' is not a serving framework (trtllm, "
                     "vllm, sglang)"));
  }
  pool.machines = config.machines();
  pool.owned_machines = config.owned_machines();
  pool.chips_per_machine = config.machine().chips_per_machine() > 0
                               ? config.machine().chips_per_machine()
                               : hardware::MachineChips(pool.chip);
  // The pool's chip is the chip as this machine has it: its scale-up
  // domain is the machine, its scale-up link the machine's.
  pool.chip.set_scale_up_domain_chips(pool.chips_per_machine);
  if (config.machine().scale_up_gbytes_per_s() > 0) {
    pool.chip.set_scale_up_gbytes_per_s(
        config.machine().scale_up_gbytes_per_s());
  }
  pool.tp = config.tp() > 0 ? config.tp() : pool.chips_per_machine;
  pool.pp = config.pp() > 0 ? config.pp() : 1;
  pool.ep = std::max(config.ep(), 1);
  FLEETSIM_RETURN_IF_ERROR(ResolveExpertRouting(config, fleet, origin, &pool));
  const v1::BatchingConfig& batching = config.batching();
  pool.policy =
      batching.policy() != v1::BATCHING_POLICY_UNSPECIFIED
          ? batching.policy()
          : (pool.role == v1::POOL_ROLE_COLOCATED ? v1::BATCHING_POLICY_SARATHI
                                                  : v1::BATCHING_POLICY_VLLM);
  pool.max_batch_size = batching.max_batch_size() > 0
                            ? batching.max_batch_size()
                            : kDefaultMaxBatchSize;
  pool.max_batch_tokens =
      batching.max_batch_tokens() > 0
          ? batching.max_batch_tokens()
          : (pool.policy == v1::BATCHING_POLICY_SARATHI ? kDefaultSarathiTokens
                                                        : kDefaultVllmTokens);
  pool.kv_block_tokens = batching.kv_block_tokens() > 0
                             ? batching.kv_block_tokens()
                             : kDefaultBlockTokens;
  pool.preemption = batching.preemption() == v1::PREEMPTION_MODE_UNSPECIFIED
                        ? v1::PREEMPTION_MODE_RECOMPUTE
                        : batching.preemption();
  if (pool.preemption == v1::PREEMPTION_MODE_SWAP) {
    return absl::UnimplementedError(absl::StrCat(
        origin, ": pool '", pool.name,
        "': field 'batching.preemption': PREEMPTION_MODE_SWAP is not "
        "implemented yet; use PREEMPTION_MODE_RECOMPUTE"));
  }
  double per_chip_out = pool.chip.scale_out_gbytes_per_s() * 1e9;
  pool.scale_out_bytes_per_s =
      config.machine().scale_out_gbytes_per_s() > 0
          ? config.machine().scale_out_gbytes_per_s() * 1e9
          : per_chip_out * pool.chips_per_machine;
  pool.scale_out_latency_s = (config.machine().scale_out_latency_us() > 0
                                  ? config.machine().scale_out_latency_us()
                                  : kDefaultScaleOutLatencyUs) *
                             1e-6;
  return pool;
}

// --pool NAME=COUNT: sets the machines of every pool of that name or role.
absl::Status ApplyPoolOverrides(const std::vector<std::string>& overrides,
                                const std::string& origin, FleetSpec* fleet) {
  for (const std::string& override_text : overrides) {
    size_t eq = override_text.find('=');
    int count = 0;
    if (eq == std::string::npos ||
        !absl::SimpleAtoi(override_text.substr(eq + 1), &count)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pool '", override_text,
                       "': expected NAME=COUNT, e.g. prefill=18"));
    }
    std::string name = override_text.substr(0, eq);
    bool found = false;
    for (PoolSpec& pool : fleet->pools) {
      if (pool.name == name || PoolRoleName(pool.role) == name) {
        pool.machines = count;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat("--pool '", override_text,
                                                     "': no pool named '", name,
                                                     "' in ", origin));
    }
  }
  return absl::OkStatus();
}

// Machines, owned machines and the parallelism fit the machine and the
// model; sets the pool's instances per machine.
absl::Status CheckPoolShape(const v1::Model& model, const std::string& origin,
                            PoolSpec* pool) {
  if (pool->machines < 1) {
    return PoolError(origin, *pool,
                     absl::StrCat("field 'machines' must be >= 1 (got ",
                                  pool->machines, ")"));
  }
  if (pool->owned_machines < 0 || pool->owned_machines > pool->machines) {
    return PoolError(
        origin, *pool,
        absl::StrCat("field 'owned_machines' must be in [0, machines = ",
                     pool->machines, "] (got ", pool->owned_machines, ")"));
  }
  if (pool->chips_per_machine % (pool->tp * pool->pp) != 0) {
    return PoolError(
        origin, *pool,
        absl::StrCat(
            "field 'tp' x 'pp' = ", pool->tp * pool->pp,
            " does not divide chips_per_machine = ", pool->chips_per_machine,
            pool->tp > pool->chips_per_machine
                ? " (tensor parallelism across machines is not "
                  "modelled; an instance spans machines only by "
                  "expert parallelism, field 'ep')"
                : ""));
  }
  if (model.num_heads() % pool->tp != 0) {
    return PoolError(
        origin, *pool,
        absl::StrCat("field 'tp' = ", pool->tp, " does not divide the ",
                     model.num_heads(), " attention heads of ", model.name()));
  }
  if (model.num_layers() % pool->pp != 0) {
    return PoolError(
        origin, *pool,
        absl::StrCat("field 'pp' = ", pool->pp, " does not divide the ",
                     model.num_layers(), " layers of ", model.name()));
  }
  if (pool->chips_per_instance() > pool->chips_per_machine) {
    // An expert-parallel instance over whole machines (CheckExpertParallel).
    pool->machines_per_instance =
        pool->chips_per_instance() / pool->chips_per_machine;
    pool->instances_per_machine = 1;
    if (pool->machines % pool->machines_per_instance != 0) {
      return PoolError(
          origin, *pool,
          absl::StrCat("field 'machines' = ", pool->machines,
                       " is not a multiple of the ",
                       pool->machines_per_instance,
                       " machines one instance spans (ep = ", pool->ep,
                       " over ", pool->chips_per_machine, "-chip machines)"));
    }
    return absl::OkStatus();
  }
  pool->instances_per_machine =
      pool->chips_per_machine / pool->chips_per_instance();
  return absl::OkStatus();
}

// The pool's precision, then what memory is left for KV cache and
// recurrent state once the weights and activations are placed: the blocks
// an instance holds. An error when not even one request of a full token
// budget fits.
// `index`: the pool's place in `cluster` (for the error's file position).
absl::Status SizeKvCache(const FleetSpec& fleet, const v1::Cluster& cluster,
                         int index, const std::string& origin, PoolSpec* pool) {
  const v1::Model& model = fleet.model;
  const v1::Model served = ServedModel(model, *pool);
  std::string field;
  if (absl::Status precision = CheckPrecision(
          served, pool->chip, pool->weight_dtype != v1::DTYPE_UNSPECIFIED,
          pool->kv_dtype != v1::DTYPE_UNSPECIFIED, &field);
      !precision.ok()) {
    return absl::InvalidArgumentError(
        TextLocator(origin, cluster)
            .At(absl::StrCat("pools[", index, "].", field),
                absl::StrCat("pool '", pool->name,
                             "': ", precision.message())));
  }
  const double kv_memory_fraction =
      cluster.pools(index).batching().kv_memory_fraction();
  const double fraction =
      kv_memory_fraction > 0 ? kv_memory_fraction : kDefaultMemoryFraction;
  // Chip memory is given in GiB (spec sheets' "80 GB" HBM is 80 GiB).
  double memory = pool->chip.memory_gib() * kBytesPerGiB *
                  pool->chips_per_instance() * fraction;
  pool->weight_bytes_per_instance = hardware::WeightBytes(served);
  if (pool->attention_groups() > 1) {
    // Every attention group holds the weights but the routed experts, which
    // are sharded over the ep ranks once.
    const double experts = hardware::RoutedExpertBytes(served);
    pool->weight_bytes_per_instance +=
        (pool->attention_groups() - 1) *
        (pool->weight_bytes_per_instance - experts);
  }
  pool->kv_bytes_per_token = hardware::KvBytesPerToken(served);
  if (pool->machines_per_instance > 1) {
    pool->all_to_all =
        hardware::PlanExpertAllToAll(served, pool->ep, pool->chips_per_machine);
  }
  // Memory a cached token takes on the instance: every copy tensor
  // parallelism keeps (a KV transfer moves one, kv_bytes_per_token).
  double kv_memory_per_token = static_cast<double>(pool->kv_bytes_per_token) *
                               hardware::KvCopiesUnderTp(served, pool->tp);
  pool->state_bytes_per_request =
      hardware::RecurrentStateBytesPerSequence(served);
  // The target's activations, with the verify's k + 1 logits rows per
  // sequence when speculating.
  double activation_bytes = ActivationReserveBytes(
      served, *pool,
      1 + (fleet.speculative ? fleet.speculative->draft_tokens : 0));
  if (fleet.speculative) {
    // The draft, in the pool's precision, shares the instance's memory.
    const v1::Model draft = ServedModel(fleet.speculative->draft, *pool);
    if (absl::Status precision = CheckPrecision(
            draft, pool->chip, pool->weight_dtype != v1::DTYPE_UNSPECIFIED,
            pool->kv_dtype != v1::DTYPE_UNSPECIFIED, &field);
        !precision.ok()) {
      return PoolError(origin, *pool,
                       absl::StrCat("speculative decoding's draft '",
                                    draft.name(), "': ", precision.message()));
    }
    // Draft and target run one after the other: the peak is the larger.
    activation_bytes =
        std::max(activation_bytes, ActivationReserveBytes(draft, *pool, 1));
    pool->draft_weight_bytes =
        DraftWeightBytes(*fleet.speculative, draft, pool->attention_groups());
    pool->draft_kv_bytes_per_token =
        DraftKvBytesPerToken(*fleet.speculative, draft);
    pool->weight_bytes_per_instance += pool->draft_weight_bytes;
    pool->kv_bytes_per_token += pool->draft_kv_bytes_per_token;
    kv_memory_per_token += static_cast<double>(pool->draft_kv_bytes_per_token) *
                           hardware::KvCopiesUnderTp(draft, pool->tp);
    pool->state_bytes_per_request +=
        hardware::RecurrentStateBytesPerSequence(draft);
    pool->draft_tokens = fleet.speculative->draft_tokens;
    pool->tokens_per_step = fleet.speculative->tokens_per_step;
  }
  double kv_bytes = memory - pool->weight_bytes_per_instance - activation_bytes;
  // A block holds kv_block_tokens tokens of KV; a model without per-token
  // KV (pure SSM) counts memory in requests' states instead.
  pool->state_only = pool->kv_bytes_per_token == 0;
  if (pool->kv_bytes_per_token > 0) {
    pool->kv_copies = kv_memory_per_token / pool->kv_bytes_per_token;
  }
  double block_bytes = pool->block_bytes();
  pool->state_blocks_per_request =
      block_bytes > 0 ? static_cast<int64_t>(std::ceil(
                            pool->state_bytes_per_request / block_bytes))
                      : 0;
  // Capped so that blocks x block tokens fits int64 for any chip within
  // its sanity range; no run can use more (kMaxRequestTokens per request).
  constexpr double kMaxKvBlocks = 1e12;
  pool->kv_capacity_blocks =
      block_bytes > 0 && kv_bytes > 0
          ? static_cast<int64_t>(std::min(kv_bytes / block_bytes, kMaxKvBlocks))
          : 0;
  // An instance must hold at least one request of a maximal batch's tokens
  // (KV and state), in one attention group under expert parallelism.
  int64_t min_blocks = pool->RequestBlocks(pool->max_batch_tokens);
  if (pool->request_capacity_blocks() >= min_blocks) return absl::OkStatus();
  // KV tokens (a hybrid's state counted in tokens' worth of blocks), or
  // requests' states for a pure SSM.
  std::string room =
      pool->state_only
          ? absl::StrCat(pool->kv_capacity_blocks, " requests' state (",
                         absl::SixDigits(pool->state_bytes_per_request / 1e6),
                         " MB each)")
          : absl::StrCat(pool->kv_capacity_tokens(), " KV tokens");
  if (pool->attention_groups() > 1) {
    absl::StrAppend(&room, " (", pool->request_capacity_blocks(),
                    " blocks in each of ", pool->attention_groups(),
                    " attention groups, where a request's KV lives)");
  }
  return PoolError(
      origin, *pool,
      absl::StrCat(
          "model ", model.name(), " does not fit: ",
          absl::SixDigits(pool->weight_bytes_per_instance / 1e9),
          " GB of weights leave room for ", room, " on tp=", pool->tp, " x pp=",
          pool->pp, pool->ep > 1 ? absl::StrCat(" ep=", pool->ep) : "", " ",
          pool->chip.name(), " (", absl::SixDigits(memory / 1e9),
          " GB usable); need at least ",
          pool->state_only ? min_blocks : min_blocks * pool->kv_block_tokens));
}

// Colocated pools alone, or a prefill and a decode pool (disaggregated).
absl::Status ResolveServingMode(const std::string& origin, FleetSpec* fleet) {
  bool has_colocated = false, has_prefill = false, has_decode = false;
  for (const PoolSpec& pool : fleet->pools) {
    has_colocated |= pool.role == v1::POOL_ROLE_COLOCATED;
    has_prefill |= pool.role == v1::POOL_ROLE_PREFILL;
    has_decode |= pool.role == v1::POOL_ROLE_DECODE;
  }
  if (has_colocated && (has_prefill || has_decode)) {
    return absl::UnimplementedError(absl::StrCat(
        origin, ": colocated pools cannot be mixed with prefill/decode pools"));
  }
  if (has_prefill != has_decode) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": a disaggregated cluster needs both a prefill and a decode pool"));
  }
  fleet->disaggregated = has_prefill;
  return absl::OkStatus();
}

// Speculative decoding runs on colocated pools timed by the operator cost
// model, with a draft every pool's parallelism can run.
absl::Status CheckSpeculativeDecoding(const v1::Cluster& cluster,
                                      const std::string& origin,
                                      const FleetSpec& fleet) {
  if (!fleet.speculative) return absl::OkStatus();
  if (fleet.disaggregated || !cluster.iteration_time_table().empty()) {
    return absl::UnimplementedError(absl::StrCat(
        origin,
        ": field 'speculative_decoding': simulated on colocated "
        "pools timed by the operator cost model only (",
        fleet.disaggregated
            ? "a decode pool would need the draft's KV of the prompt"
            : "an iteration table has no draft model",
        ")"));
  }
  for (const PoolSpec& pool : fleet.pools) {  // e.g. TP vs draft heads
    // An MTP module is a layer of the model: its attention runs in the
    // same data-parallel groups, its experts on the same ranks.
    if (pool.attention_groups() > 1 && fleet.speculative->mtp_modules == 0) {
      return absl::UnimplementedError(absl::StrCat(
          origin, ": pool '", pool.name,
          "': field 'speculative_decoding' with data-parallel attention (ep = ",
          pool.ep, " > tp = ", pool.tp,
          ") is not modelled for a draft model (the draft's data-parallel "
          "groups; multi_token_prediction is)"));
    }
    auto latency = CreateLatencyModel(fleet, pool);
    if (!latency.ok()) {
      return PoolError(origin, pool,
                       absl::StrCat("speculative decoding's draft: ",
                                    latency.status().message()));
    }
  }
  return absl::OkStatus();
}

// Cluster.iteration_time_table: SplitwiseSim's measured table times every
// pool instead of the operator model; each pool must be in it.
absl::Status LoadIterationTable(const v1::Cluster& cluster,
                                const std::string& origin, FleetSpec* fleet) {
  if (cluster.iteration_time_table().empty()) return absl::OkStatus();
  const std::string& path = cluster.iteration_time_table();
  auto rows = hardware::ReadSplitwisePerfRows(path);
  if (!rows.ok()) {
    return absl::Status(rows.status().code(),
                        absl::StrCat(origin, ": field 'iteration_time_table': ",
                                     rows.status().message()));
  }
  fleet->iteration_table =
      std::make_shared<const std::vector<hardware::IterationPoint>>(
          *std::move(rows));
  fleet->iteration_table_path = path;
  for (const PoolSpec& pool : fleet->pools) {
    auto latency = CreateLatencyModel(*fleet, pool);
    if (!latency.ok()) {
      return PoolError(origin, pool, std::string(latency.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FleetSpec> ResolveFleet(
    const v1::Cluster& cluster, const std::string& origin,
    const v1::Model& model, const std::vector<const v1::Chip*>& chips,
    const std::vector<std::string>& pool_overrides) {
  FLEETSIM_RETURN_IF_ERROR(CheckFields(cluster, origin, ClusterFieldRanges()));
  FLEETSIM_ASSIGN_OR_RETURN(FleetSpec fleet,
                            ResolveClusterSettings(cluster, origin, model));
  std::map<std::string, const v1::Chip*> chip_by_name;
  for (const v1::Chip* chip : chips) chip_by_name[chip->name()] = chip;
  for (int i = 0; i < cluster.pools_size(); ++i) {
    FLEETSIM_ASSIGN_OR_RETURN(
        PoolSpec pool,
        ResolvePool(cluster.pools(i), fleet, chip_by_name, origin));
    for (int k = 0; k < cluster.pools(i).kernels_size(); ++k) {
      pool.kernels.push_back(cluster.pools(i).kernels(k));
      const std::string unknown =
          hardware::UnknownKernel(pool.chip, {pool.kernels.back()});
      if (unknown.empty()) continue;
      return TextLocator(origin, cluster)
          .FieldError(absl::StrCat("pools[", i, "].kernels[", k, "]"),
                      absl::StrCat("pool '", pool.name, "': ", unknown));
    }
    fleet.pools.push_back(std::move(pool));
  }
  FLEETSIM_RETURN_IF_ERROR(ApplyPoolOverrides(pool_overrides, origin, &fleet));

  int64_t machines = 0, instances = 0;
  for (size_t i = 0; i < fleet.pools.size(); ++i) {
    PoolSpec& pool = fleet.pools[i];
    FLEETSIM_RETURN_IF_ERROR(
        CheckExpertParallel(cluster, static_cast<int>(i), model, origin, pool));
    FLEETSIM_RETURN_IF_ERROR(CheckPoolShape(model, origin, &pool));
    machines += pool.machines;
    instances += pool.instances();
    if (machines > kMaxMachinesPerFleet || instances > kMaxInstancesPerFleet) {
      return PoolError(
          origin, pool,
          absl::StrCat("the fleet's ", machines, " machines holding ",
                       instances, " instances exceed the per-run limit of ",
                       kMaxMachinesPerFleet, " machines and ",
                       kMaxInstancesPerFleet,
                       " instances (util/run_limits.h, docs/limits.md)"));
    }
    // fleet.pools[i] was resolved from cluster.pools(i).
    FLEETSIM_RETURN_IF_ERROR(
        SizeKvCache(fleet, cluster, static_cast<int>(i), origin, &pool));
  }
  FLEETSIM_RETURN_IF_ERROR(ResolveServingMode(origin, &fleet));
  FLEETSIM_RETURN_IF_ERROR(CheckSpeculativeDecoding(cluster, origin, fleet));
  FLEETSIM_RETURN_IF_ERROR(ResolvePrefixCaching(cluster, origin, &fleet));
  FLEETSIM_RETURN_IF_ERROR(ApplyTestTimeScaling(cluster, origin, &fleet));
  FLEETSIM_RETURN_IF_ERROR(ApplyDiffusionServing(cluster, origin, &fleet));
  FLEETSIM_RETURN_IF_ERROR(CheckImageServing(cluster, origin, fleet));
  FLEETSIM_RETURN_IF_ERROR(LoadIterationTable(cluster, origin, &fleet));
  return fleet;
}

}  // namespace fleetsim::sim
