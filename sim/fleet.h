// File: sim/fleet.h
//
// A Cluster config (proto/fleetsim/v1/cluster.proto) checked against the
// catalogs and resolved into concrete pools: defaults filled in, chips and
// model looked up, KV-cache capacity per instance computed. Everything is
// validated here, before a SimGrid engine exists, so a bad config is an error
// message and never a crash mid-simulation.
#ifndef FLEETSIM_SIM_FLEET_H_
#define FLEETSIM_SIM_FLEET_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/expert_all_to_all.h"
#include "hardware/latency_model.h"
#include "hardware/operator_model.h"
#include "hardware/splitwise_perf_model.h"
#include "sim/diffusion_serving.h"
#include "sim/speculative_decoding.h"
#include "sim/test_time_scaling.h"
#include "util/field_checks.h"

namespace fleetsim::sim {

// The sanity ranges of Cluster's numeric fields (util/field_checks.h),
// machine counts bounded by util/run_limits.h; ResolveFleet applies them.
const FieldRanges& ClusterFieldRanges();

// "prefill", "decode" or "colocated" (the default role's name).
const char* PoolRoleName(v1::PoolRole role);

// One pool with every default resolved.
struct PoolSpec {
  std::string name;
  v1::PoolRole role = v1::POOL_ROLE_COLOCATED;
  // The chip as the pool's machine has it: scale_up_domain_chips is the
  // machine's chips, scale_up_gbytes_per_s its link
  // (Machine.scale_up_gbytes_per_s).
  v1::Chip chip;
  int machines = 0;
  int owned_machines = 0;  // of `machines`, already owned (Pool.owned_machines)
  int chips_per_machine = 0;
  int tp = 0;
  int pp = 0;
  // Expert-parallel degree (Pool.ep); 1 = none. > 1: a multiple of tp, the
  // instance's chips per pipeline stage, in ep / tp attention groups
  // (ep = tp: one group, whole experts on the tp chips).
  int ep = 1;
  // An instance's machines: 1, or ep / chips_per_machine when an
  // expert-parallel instance spans whole machines (instances_per_machine
  // is then 1, each instance counted on its first machine).
  int machines_per_instance = 1;
  int instances_per_machine = 0;
  // machines_per_instance > 1: the all-to-all's split between each
  // machine's scale-up domain (priced in the iteration) and the scale-out
  // links, whose share every iteration moves as SimGrid communications
  // (sim/instance.h).
  hardware::ExpertAllToAll all_to_all;
  // Serving framework whose kernel efficiencies time the pool
  // (OperatorModelOptions::framework).
  std::string framework;
  // Kernel implementations chosen instead of the chip's defaults
  // (Pool.kernels; OperatorModelOptions::kernels).
  std::vector<std::string> kernels;
  // The precision the pool serves the model in (Pool.weight_dtype,
  // Pool.kv_dtype); unspecified = the model's own. ServedModel applies it.
  v1::Dtype weight_dtype = v1::DTYPE_UNSPECIFIED;
  v1::Dtype kv_dtype = v1::DTYPE_UNSPECIFIED;
  // MoE routing (Pool.expert_routing; OperatorModelOptions::
  // moe_routing_alpha): 0 = balanced, else a power-law exponent.
  double moe_routing_alpha = 0;
  v1::BatchingPolicy policy = v1::BATCHING_POLICY_SARATHI;
  int max_batch_size = 0;
  int64_t max_batch_tokens = 0;
  int kv_block_tokens = 0;
  // > 0: the pool's instances cache prompt prefixes in blocks of this many
  // tokens (Cluster.prefix_caching and prefix_block_tokens).
  int prefix_block_tokens = 0;
  v1::PreemptionMode preemption = v1::PREEMPTION_MODE_RECOMPUTE;
  double scale_out_bytes_per_s = 0;  // per machine per direction
  double scale_out_latency_s = 0;
  // KV cache per instance, derived (see ResolveFleet). Memory is handed out
  // in blocks: a block holds kv_block_tokens tokens' KV, or, for a model
  // that caches no per-token KV (pure SSM), one request's recurrent state.
  int64_t kv_bytes_per_token = 0;
  // Copies of each token's KV the instance holds (hardware::KvCopiesUnderTp:
  // MLA's latent on every TP rank; the draft's and the target's weighted by
  // their bytes when speculating): its memory is kv_bytes_per_token times
  // this, while a KV transfer moves one copy.
  double kv_copies = 1;
  int64_t kv_capacity_blocks = 0;
  double weight_bytes_per_instance = 0;
  // Recurrent state one request holds for its whole life, whatever its
  // length (SSM and CCA layers, hardware::RecurrentStateBytesPerSequence):
  // taken with the request's first block, moved with its KV to a decode
  // instance. In bytes, and in whole blocks.
  int64_t state_bytes_per_request = 0;
  int64_t state_blocks_per_request = 0;
  // The model caches no per-token KV (pure SSM): a block is one request's
  // state and tokens take none.
  bool state_only = false;
  // Speculative decoding (FleetSpec::speculative): draft tokens per decode
  // step (0 = none) and the tokens a step emits per sequence on average.
  // The draft's weights and KV are in the sizes above; these are its
  // share (PoolUsage.draft_weight_bytes, draft_kv_bytes_per_token).
  int draft_tokens = 0;
  double tokens_per_step = 1;
  double draft_weight_bytes = 0;
  int64_t draft_kv_bytes_per_token = 0;
  // Test-time scaling (FleetSpec::test_time_scaling): the samples of each
  // request, each a decode sequence of the batch; 0 = none.
  int samples_per_request = 0;
  // Diffusion LM serving (Cluster.diffusion_serving): every request is a
  // series of bidirectional passes over its canvas (sim/diffusion_serving.h);
  // unset = autoregressive.
  std::optional<DiffusionServingSpec> diffusion;

  int instances() const {
    return machines * instances_per_machine / machines_per_instance;
  }
  // Decode sequences one request brings to the batch.
  int sequences_per_request() const { return std::max(1, samples_per_request); }
  // Chips of one pipeline stage (tp, or ep under expert parallelism) and of
  // one instance.
  int chips_per_stage() const { return std::max(tp, ep); }
  int chips_per_instance() const { return chips_per_stage() * pp; }
  // Data-parallel attention groups per pipeline stage (ep / tp; 1 without
  // expert parallelism).
  int attention_groups() const { return std::max(1, ep / std::max(1, tp)); }
  // The most blocks one request can hold: a request's KV lives in its own
  // attention group's memory (1 / attention_groups() of the instance's),
  // so a request longer than one group holds is never served, whatever the
  // instance's total. Occupancy is still counted on the pooled total, as if
  // requests were spread evenly over the groups (docs/cost_model.md §3).
  int64_t request_capacity_blocks() const {
    return kv_capacity_blocks / attention_groups();
  }
  // Blocks a request with `tokens` tokens in its cache holds: its paged KV
  // plus its state.
  int64_t RequestBlocks(int64_t tokens) const {
    int64_t kv =
        state_only ? 0 : (tokens + kv_block_tokens - 1) / kv_block_tokens;
    return kv + state_blocks_per_request;
  }
  // Tokens of KV one instance holds; 0 for a model without per-token KV
  // (its capacity is in requests: kv_capacity_blocks / RequestBlocks).
  int64_t kv_capacity_tokens() const {
    return state_only ? 0 : kv_capacity_blocks * kv_block_tokens;
  }
  // Requests of `tokens_per_request` cached tokens one instance holds at
  // once (fractional; the planner's batch estimate).
  double RequestsHeld(double tokens_per_request) const {
    if (state_only) {
      return static_cast<double>(kv_capacity_blocks) /
             std::max<int64_t>(1, state_blocks_per_request);
    }
    return static_cast<double>(kv_capacity_tokens()) /
           std::max(1.0, tokens_per_request +
                             static_cast<double>(state_blocks_per_request *
                                                 kv_block_tokens));
  }
  // Bytes of memory one block stands for: kv_block_tokens tokens' KV, every
  // copy, or one request's state for a model without per-token KV.
  double block_bytes() const {
    return state_only ? static_cast<double>(state_bytes_per_request)
                      : static_cast<double>(kv_bytes_per_token) * kv_copies *
                            kv_block_tokens;
  }
  // Bytes that leave a prefill instance for a request of `input_tokens`.
  double TransferBytes(int64_t input_tokens) const {
    return static_cast<double>(kv_bytes_per_token) * input_tokens +
           static_cast<double>(state_bytes_per_request);
  }
};

struct FleetSpec {
  std::string name;
  v1::Model model;
  std::vector<PoolSpec> pools;
  v1::RouterPolicy router = v1::ROUTER_POLICY_LEAST_OUTSTANDING_TOKENS;
  bool disaggregated = false;
  int64_t mixed_pool_prefill_queue_tokens = 0;
  // Cluster.ttft_at_prefill_completion: a disaggregated request's first
  // token counts at prefill completion (SplitwiseSim) instead of when its KV
  // cache reaches the decode instance.
  bool ttft_at_prefill_completion = false;
  // Splitwise-style layer-wise KV streaming during the prefill (see
  // KvTransfers::TransferBytes for how it is approximated).
  bool layerwise_kv_transfer = false;
  // Cluster.context_limit, UNSPECIFIED resolved to REJECT; applies to
  // requests longer than model.max_context() (sim/context_limit.h).
  v1::ContextLimit context_limit = v1::CONTEXT_LIMIT_REJECT;
  // Cluster.speculative_decoding, applied to every pool.
  std::optional<SpeculativeDecodingSpec> speculative;
  // Cluster.test_time_scaling, applied to every pool.
  std::optional<TestTimeScalingSpec> test_time_scaling;

  // Cost-model settings every pool (and the SLO reference) uses.
  hardware::OperatorModelOptions cost_model;
  // Cluster.iteration_time_table's rows when set: SplitwiseSim's predictor
  // times every pool instead of the cost model (CreateLatencyModel).
  std::shared_ptr<const std::vector<hardware::IterationPoint>> iteration_table;
  std::string iteration_table_path;

  // TDP in machines of the reference chip (SPAD's normalisation,
  // hardware/reference_machine.h; the cost's is economics::
  // NormalizedFleetCost), and in watts.
  double NormalizedTdp(const v1::Chip& h100) const;
  double TdpW() const;
  // Cluster.prefix_caching (then every pool that computes prompts caches).
  bool caches_prefixes() const {
    return std::any_of(pools.begin(), pools.end(), [](const PoolSpec& p) {
      return p.prefix_block_tokens > 0;
    });
  }
};

// `pool_overrides` are "NAME=COUNT" strings from --pool, setting a pool's
// machine count by pool name (or role name). `origin` names the cluster
// file for error messages.
//
// Errors (naming the origin, pool and field): InvalidArgument for a number
// that is not finite or outside its sanity range, an undefined enum value
// (util/field_checks.h), more machines or instances than util/run_limits.h
// allows one run, no pools, zero machines, unknown pool override, tp not
// dividing the attention heads or the chips per machine, an expert-parallel
// layout that is not modelled (sim/expert_parallel_layout.h), a model that does
// not fit in the instance's memory, a weight precision the chip has no
// tensor peak for (or an FP4 KV cache), disaggregated clusters without both a
// prefill and a decode pool, speculative decoding's
// (ResolveSpeculativeDecoding, a draft the pool's TP does not divide);
// Unimplemented for colocated pools mixed with disaggregated ones, for
// PREEMPTION_MODE_SWAP, for prefix caching with the mixed pool, and for
// speculative decoding on disaggregated pools or with an iteration table;
// test-time scaling's (ApplyTestTimeScaling).
// NotFound for an unknown chip.
// NotFound / InvalidArgument from reading Cluster.iteration_time_table, or
// when it has no rows for a pool's model, chip and TP.
absl::StatusOr<FleetSpec> ResolveFleet(
    const v1::Cluster& cluster, const std::string& origin,
    const v1::Model& model, const std::vector<const v1::Chip*>& chips,
    const std::vector<std::string>& pool_overrides);

// `model` as `pool` serves it: its weight and KV precisions replaced by the
// pool's where set (the model's KV precision is kept when only the weights
// change).
v1::Model ServedModel(const v1::Model& model, const PoolSpec& pool);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_FLEET_H_
