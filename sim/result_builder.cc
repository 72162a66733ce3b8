#include "sim/result_builder.h"

#include <algorithm>

#include "hardware/chip_catalog.h"
#include "sim/operator_totals.h"

namespace fleetsim::sim {
namespace {

// Fills `usage` from `fleet`'s pool's instances over a run of `span_s`
// simulated seconds; returns the pool's energy, joules.
double FillPoolUsage(const FleetSpec& fleet, const PoolSpec& pool,
                     const std::vector<InstanceUsage>& instances, double span_s,
                     v1::PoolUsage* usage) {
  usage->set_name(pool.name);
  usage->set_role(PoolRoleName(pool.role));
  usage->set_chip(pool.chip.name());
  usage->set_machines(pool.machines);
  usage->set_instances(pool.instances());
  double busy = 0, iterations = 0, batched = 0, peak_kv = 0, energy = 0;
  int chips = pool.chips_per_instance();
  double active_w = pool.chip.tdp_w() * chips;  // ASSUMPTION: TDP while busy
  double idle_w = hardware::IdlePowerW(pool.chip) * chips;
  std::vector<const OperatorTotals*> operators;
  for (const InstanceUsage& u : instances) {
    operators.push_back(u.operators);
    busy += u.busy_s;
    iterations += static_cast<double>(u.iterations);
    batched += static_cast<double>(u.batched_requests);
    peak_kv =
        std::max(peak_kv, static_cast<double>(u.peak_kv_blocks) /
                              static_cast<double>(pool.kv_capacity_blocks));
    energy += u.busy_s * active_w + std::max(0.0, span_s - u.busy_s) * idle_w;
    usage->set_preemptions(usage->preemptions() + u.preemptions);
    usage->set_prompts_served(usage->prompts_served() + u.prompts_served);
    usage->set_decodes_kept(usage->decodes_kept() + u.decodes_kept);
    if (pool.machines_per_instance > 1) {
      usage->set_all_to_all_scale_out_s(usage->all_to_all_scale_out_s() +
                                        u.all_to_all_scale_out_s);
      usage->set_all_to_all_scale_out_bytes(
          usage->all_to_all_scale_out_bytes() + u.all_to_all_scale_out_bytes);
    }
  }
  usage->set_busy_fraction(span_s > 0 ? busy / (span_s * pool.instances()) : 0);
  usage->set_mean_batch_size(iterations > 0 ? batched / iterations : 0);
  usage->set_peak_kv_fraction(peak_kv);
  usage->set_energy_j(energy);
  if (pool.draft_tokens > 0) {
    usage->set_draft_weight_bytes(pool.draft_weight_bytes);
    usage->set_draft_kv_bytes_per_token(pool.draft_kv_bytes_per_token);
  }
  FillOperatorUsage(fleet, pool, operators, busy, usage);
  return energy;
}

void FillPrefixCacheUsage(
    const std::vector<std::vector<InstanceUsage>>& usage_by_pool,
    v1::SimulationResult* result) {
  v1::PrefixCacheUsage* cache = result->mutable_prefix_cache();
  for (const std::vector<InstanceUsage>& pool : usage_by_pool) {
    for (const InstanceUsage& u : pool) {
      cache->set_prompt_tokens(cache->prompt_tokens() + u.prefix_prompt_tokens);
      cache->set_cached_tokens(cache->cached_tokens() + u.prefix_cached_tokens);
      cache->set_evicted_blocks(cache->evicted_blocks() +
                                u.prefix_evicted_blocks);
    }
  }
  if (cache->prompt_tokens() > 0) {
    cache->set_hit_rate(static_cast<double>(cache->cached_tokens()) /
                        static_cast<double>(cache->prompt_tokens()));
  }
}

}  // namespace

v1::SimulationResult BuildResult(
    const FleetSpec& fleet, const MetricsCollector& metrics,
    const SloEvaluator* slo,
    const std::vector<std::vector<InstanceUsage>>& usage_by_pool,
    const RunCounts& counts) {
  v1::SimulationResult result;
  result.set_requests(counts.requests);
  metrics.FillResult(&result);
  double span = metrics.last_completion_s();
  result.set_simulated_s(span);
  if (span > 0) {
    result.set_throughput_rps(static_cast<double>(metrics.completed()) / span);
    result.set_output_tokens_per_s(
        static_cast<double>(metrics.output_tokens()) / span);
    result.set_goodput_rps(static_cast<double>(metrics.good_requests()) / span);
  }
  result.set_fleet_tdp_w(fleet.TdpW());
  double energy = 0;
  int64_t preemptions = 0;
  bool has_operators = false;
  for (size_t p = 0; p < fleet.pools.size(); ++p) {
    v1::PoolUsage* usage = result.add_pools();
    energy +=
        FillPoolUsage(fleet, fleet.pools[p], usage_by_pool[p], span, usage);
    preemptions += usage->preemptions();
    has_operators |= !usage->operators().empty();
  }
  if (has_operators) FillFleetOperatorUsage(&result);
  result.set_energy_j(energy);
  result.set_preemptions(preemptions);
  if (fleet.caches_prefixes()) FillPrefixCacheUsage(usage_by_pool, &result);
  result.set_rejected(metrics.rejected());
  if (slo != nullptr && !slo->empty()) {
    bool all_met = true;
    for (const v1::SloAttainment& attainment : slo->Finish(metrics.tbt())) {
      *result.add_slo() = attainment;
      all_met &= attainment.met();
    }
    result.set_slo_met(all_met && metrics.rejected() == 0);
    result.set_slo_attainment(
        counts.requests > 0 ? static_cast<double>(metrics.good_requests()) /
                                  static_cast<double>(counts.requests)
                            : 0);
  }
  result.set_events(counts.events);
  result.set_wall_s(counts.wall_s);
  return result;
}

}  // namespace fleetsim::sim
