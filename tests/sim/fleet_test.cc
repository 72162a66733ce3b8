#include "sim/fleet.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "hardware/model_footprint.h"
#include "hardware/operator_options.h"
#include "sim/pool_latency.h"
#include "tests/sim/fleet_fixture.h"
#include "util/textproto.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST_F(FleetTest, ShippedClustersResolveForBloom) {
  for (const char* name : {"colocated_h100", "splitwise_h100",
                           "splitwise_h100_a100", "spad", "default"}) {
    EXPECT_EQ(Resolve(kData + "/clusters/" + name + ".txtpb", "bloom-176b"),
              "OK")
        << name;
  }
}

TEST_F(FleetTest, BloomKvCapacityMatchesSpad) {
  // SPAD App. B.1: with 90 % of memory for weights + KV, 8 H100s hold about
  // 66K BLOOM-176B tokens and 8 Prefill chips about 35K.
  ASSERT_EQ(Resolve(kData + "/clusters/spad.txtpb", "bloom-176b"), "OK");
  EXPECT_NEAR(last_.pools[0].kv_capacity_tokens(), 35000, 3000);
  ASSERT_EQ(Resolve(kData + "/clusters/splitwise_h100.txtpb", "bloom-176b"),
            "OK");
  EXPECT_NEAR(last_.pools[0].kv_capacity_tokens(), 66000, 4000);
}

// One machine of H100s serving at tp1 with default batching.
v1::Cluster OneH100Tp1() {
  v1::Cluster cluster;
  absl::Status status =
      ParseTextProto(R"pb(
                       pools {
                         machine { chip: "h100" chips_per_machine: 8 }
                         machines: 1
                         tp: 1
                       }
                     )pb",
                     "one h100", &cluster);
  EXPECT_TRUE(status.ok()) << status;
  return cluster;
}

// What memory an H100 at tp1 leaves after the weights (before the
// activation reserve), in bytes.
double FreeBytes(const PoolSpec& pool) {
  return 80.0 * (1 << 30) * 0.9 - pool.weight_bytes_per_instance;
}

TEST_F(FleetTest, PureSsmModelCountsMemoryInStates) {
  const v1::Cluster cluster = OneH100Tp1();
  ASSERT_EQ(ResolveCluster(cluster, "ssm", "mamba2-2.7b"), "OK");
  const PoolSpec& pool = last_.pools[0];
  EXPECT_TRUE(pool.state_only);
  EXPECT_EQ(pool.kv_bytes_per_token, 0);
  EXPECT_EQ(pool.state_bytes_per_request, 86638592);  // 86.6 MB
  EXPECT_EQ(pool.state_blocks_per_request, 1);
  // A block is one request's state, whatever its length.
  EXPECT_EQ(pool.RequestBlocks(1), 1);
  EXPECT_EQ(pool.RequestBlocks(100000), 1);
  // ~66 GB free / 86.6 MB: several hundred states, fewer than the memory
  // without the activation reserve would give.
  EXPECT_GT(pool.kv_capacity_blocks, 500);
  EXPECT_LT(pool.kv_capacity_blocks,
            FreeBytes(pool) / pool.state_bytes_per_request);
  EXPECT_EQ(pool.kv_capacity_tokens(), 0);
  EXPECT_DOUBLE_EQ(pool.TransferBytes(5000), 86638592);
}

TEST_F(FleetTest, RecurrentStateTakesBlocksBesideTheKv) {
  // A CCA model: per-token KV plus a per-sequence conv state.
  v1::Model cca = **models_.Find("llama-2-7b");
  cca.set_attention(v1::ATTENTION_KIND_CCA);
  cca.set_num_kv_heads(8);
  cca.mutable_cca()->set_conv_kernel_q(2);
  cca.mutable_cca()->set_conv_kernel_k(2);
  const v1::Cluster cluster = OneH100Tp1();
  auto fleet = ResolveFleet(cluster, "cca", cca, chips_.entries(), {});
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  const PoolSpec& pool = fleet->pools[0];
  const int64_t block_bytes = pool.kv_bytes_per_token * pool.kv_block_tokens;
  ASSERT_GT(pool.state_bytes_per_request, 0);
  EXPECT_FALSE(pool.state_only);
  EXPECT_EQ(pool.state_blocks_per_request,
            (pool.state_bytes_per_request + block_bytes - 1) / block_bytes);
  EXPECT_EQ(pool.RequestBlocks(16), 1 + pool.state_blocks_per_request);
  EXPECT_DOUBLE_EQ(pool.TransferBytes(100), 100.0 * pool.kv_bytes_per_token +
                                                pool.state_bytes_per_request);
  // Fewer requests of a given length fit than the KV alone would allow.
  EXPECT_LT(pool.RequestsHeld(1000), pool.kv_capacity_tokens() / 1000.0);
}

// A decode batch of 64 requests at 2,000 tokens of context.
hardware::BatchShape Decodes() {
  hardware::BatchShape batch;
  for (int i = 0; i < 64; ++i) batch.AddDecode(2000);
  return batch;
}

TEST_F(FleetTest, AMachineIsTheChipsScaleUpDomain) {
  ASSERT_EQ(ResolveCluster(OnePool("gb200_nvl72", 8, 1), "nvl", "llama-3-70b"),
            "OK");
  EXPECT_EQ(last_.pools[0].chips_per_machine, 72);
  EXPECT_EQ(last_.pools[0].instances_per_machine, 9);
  ASSERT_EQ(
      ResolveCluster(OnePool("ascend_910c_cm384", 8, 1), "cm", "llama-3-70b"),
      "OK");
  EXPECT_EQ(last_.pools[0].chips_per_machine, 384);
  ASSERT_EQ(ResolveCluster(OnePool("ascend_910c", 8, 1), "a3", "llama-3-70b"),
            "OK");
  EXPECT_EQ(last_.pools[0].chips_per_machine, 8);
  // A pipeline inside a 16-GPU NVLink domain sends its activations over
  // NVLink; the same chip in 8-GPU machines sends them over the 50 GB/s
  // NIC.
  ASSERT_EQ(
      ResolveCluster(OnePool("gb200_nvl72", 8, 2, "", "chips_per_machine: 16"),
                     "nvl", "llama-3-70b"),
      "OK");
  const PoolSpec& pool = last_.pools[0];
  auto in_domain = CreateLatencyModel(last_, pool);
  v1::Chip eight = pool.chip;
  eight.set_scale_up_domain_chips(8);
  auto across = CreateLatencyModel(last_, eight, 8, 2, pool.framework);
  ASSERT_TRUE(in_domain.ok() && across.ok());
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(8192, 0);
  EXPECT_LT((*in_domain)->IterationSeconds(prompt),
            (*across)->IterationSeconds(prompt));
}

TEST_F(FleetTest, TheMachinesScaleUpLinkTimesTheCollectives) {
  // Llama-3-70B at TP8 on H100: the all-reduces run on the machine's link.
  ASSERT_EQ(ResolveCluster(OnePool("h100", 8, 1), "c", "llama-3-70b"), "OK");
  auto chip_link = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_EQ(
      ResolveCluster(OnePool("h100", 8, 1, "", "scale_up_gbytes_per_s: 450"),
                     "c", "llama-3-70b"),
      "OK");
  auto same_link = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_EQ(
      ResolveCluster(OnePool("h100", 8, 1, "", "scale_up_gbytes_per_s: 45"),
                     "c", "llama-3-70b"),
      "OK");
  EXPECT_EQ(last_.pools[0].chip.scale_up_gbytes_per_s(), 45);
  auto slow_link = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_TRUE(chip_link.ok() && same_link.ok() && slow_link.ok());
  const hardware::BatchShape batch = Decodes();
  EXPECT_EQ((*same_link)->IterationSeconds(batch),
            (*chip_link)->IterationSeconds(batch));
  EXPECT_GT((*slow_link)->IterationSeconds(batch),
            (*chip_link)->IterationSeconds(batch));
}

TEST_F(FleetTest, APoolsPrecisionSetsMemoryBytesAndPeak) {
  // DeepSeek-V3 on 8 x H200: ~1.3 TB of BF16 weights do not fit; FP8 as
  // deployed (671 GB) does, its KV still BF16 unless the pool says.
  EXPECT_THAT(ResolveCluster(OnePool("h200", 8, 1), "c", "deepseek-v3"),
              HasSubstr("does not fit"));
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1, "weight_dtype: DTYPE_FP8"),
                           "c", "deepseek-v3"),
            "OK");
  const PoolSpec fp8 = last_.pools[0];
  EXPECT_NEAR(fp8.weight_bytes_per_instance / 1e9, 671, 5);
  EXPECT_EQ(fp8.kv_bytes_per_token, 61 * 576 * 2);
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1,
                                   "weight_dtype: DTYPE_FP8 "
                                   "kv_dtype: DTYPE_FP8"),
                           "c", "deepseek-v3"),
            "OK");
  EXPECT_EQ(last_.pools[0].kv_bytes_per_token, 61 * 576);
  EXPECT_GT(last_.pools[0].kv_capacity_tokens(), fp8.kv_capacity_tokens());
  // FP8 weights halve the bytes a decode streams and double the GEMM peak.
  ASSERT_EQ(ResolveCluster(OnePool("h100", 4, 1), "c", "llama-3-70b"), "OK");
  auto bf16 = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_EQ(ResolveCluster(OnePool("h100", 4, 1, "weight_dtype: DTYPE_FP8"),
                           "c", "llama-3-70b"),
            "OK");
  auto eight_bit = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_TRUE(bf16.ok() && eight_bit.ok());
  const hardware::BatchShape batch = Decodes();
  EXPECT_LT((*eight_bit)->IterationSeconds(batch),
            (*bf16)->IterationSeconds(batch));
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(8192, 0);
  EXPECT_LT((*eight_bit)->IterationSeconds(prompt),
            (*bf16)->IterationSeconds(prompt));
}

// A pool serving FP8 weights prices its GEMMs with the chip's FP8 entries
// (OperatorEfficiency.dtype) after the dtype-free ones; a BF16 pool ignores
// them.
TEST_F(FleetTest, AnFp8PoolTakesTheChipsFp8GemmEntries) {
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(8192, 0);
  auto gemm_seconds = [&](PoolSpec pool, const v1::Chip& chip) {
    pool.chip = chip;
    auto model = CreateLatencyModel(last_, pool);
    EXPECT_TRUE(model.ok()) << model.status();
    double s = 0;
    for (const hardware::OperatorTime& op : (*model)->Explain(prompt).ops)
      if (op.op_class == v1::OPERATOR_CLASS_GEMM) s += op.seconds;
    return s;
  };
  // The shipped chip without its dtype entries, and with one FP8 GEMM entry
  // at half the tensor efficiency FP8 GEMMs had without it.
  auto without_dtype_entries = [](const v1::Chip& shipped) {
    v1::Chip chip = shipped;
    chip.clear_efficiency();
    for (const v1::OperatorEfficiency& e : shipped.efficiency())
      if (e.dtype() == v1::DTYPE_UNSPECIFIED) *chip.add_efficiency() = e;
    return chip;
  };
  auto with_fp8_entry = [](const PoolSpec& pool, v1::Chip chip) {
    hardware::OperatorModelOptions o;
    o.framework = pool.framework;
    const double compute = hardware::ResolveEfficiency(
                               o, chip, v1::OPERATOR_CLASS_GEMM, v1::DTYPE_FP8)
                               .compute;
    v1::OperatorEfficiency* e = chip.add_efficiency();
    e->set_op(v1::OPERATOR_CLASS_GEMM);
    e->set_dtype(v1::DTYPE_FP8);
    e->set_compute(0.5 * compute);
    return chip;
  };
  for (const char* precision : {"", "weight_dtype: DTYPE_FP8"}) {
    ASSERT_EQ(
        ResolveCluster(OnePool("h100", 4, 1, precision), "c", "llama-3-70b"),
        "OK");
    const PoolSpec pool = last_.pools[0];
    const v1::Chip base = without_dtype_entries(pool.chip);
    const double plain = gemm_seconds(pool, base);
    const double slower = gemm_seconds(pool, with_fp8_entry(pool, base));
    if (*precision == '\0') {
      EXPECT_EQ(slower, plain);  // BF16 weights: the FP8 entry is ignored
    } else {
      // The 8k-token prompt's GEMMs are compute-bound: half the efficiency
      // takes most of twice the time.
      EXPECT_GT(slower, 1.6 * plain);
    }
  }
}

// Pool.ep = tp and expert_routing reach the pool's latency model:
// with power-law routing over expert-parallel chips the most loaded chip
// makes a prompt's iteration slower than balanced routing does; nonsense is
// refused naming the field.
TEST_F(FleetTest, APoolsExpertRoutingTimesTheMoeLayers) {
  // DeepSeek-V3 fits 8 H200 in FP8.
  const std::string fp8 = "weight_dtype: DTYPE_FP8 ";
  const std::string ep = fp8 + "ep: 8 ";  // = tp: whole experts per chip
  const std::string power =
      ep + "expert_routing { kind: EXPERT_ROUTING_KIND_POWER_LAW alpha: 1.2 }";
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1, fp8), "c", "deepseek-v3"),
            "OK");
  EXPECT_EQ(last_.pools[0].ep, 1);
  EXPECT_EQ(last_.pools[0].moe_routing_alpha, 0);
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1, ep), "c", "deepseek-v3"),
            "OK");
  EXPECT_EQ(last_.pools[0].ep, 8);
  auto balanced = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1, power), "c", "deepseek-v3"),
            "OK");
  EXPECT_EQ(last_.pools[0].ep, 8);
  EXPECT_EQ(last_.pools[0].moe_routing_alpha, 1.2);
  auto skewed = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_TRUE(balanced.ok() && skewed.ok());
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(4096, 0);
  // H200 FP8, 4,096 tokens: 158.3 ms balanced, 167.4 ms skewed (the most
  // loaded chip computes 1.7x its even share of the pairs).
  EXPECT_GT((*skewed)->IterationSeconds(prompt),
            1.04 * (*balanced)->IterationSeconds(prompt));

  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 8, 1,
                             "expert_routing { kind: "
                             "EXPERT_ROUTING_KIND_POWER_LAW alpha: 1 }"),
                     "c.txtpb", "deepseek-v3"),
      HasSubstr("c.txtpb: pool 'colocated': field 'expert_routing.alpha': 1 "
                "is not a power-law exponent"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 8, 1, "expert_routing { alpha: 1.2 }"),
                     "c.txtpb", "deepseek-v3"),
      HasSubstr("field 'expert_routing.alpha' applies to kind "
                "EXPERT_ROUTING_KIND_POWER_LAW only"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h100", 4, 1,
                             "expert_routing { kind: "
                             "EXPERT_ROUTING_KIND_POWER_LAW alpha: 1.2 }"),
                     "c.txtpb", "llama-3-70b"),
      HasSubstr("'llama-3-70b' has no routed experts"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h100", 4, 1, "ep: 4"), "c.txtpb", "llama-3-70b"),
      HasSubstr("llama-3-70b has no MoE layers"));
  EXPECT_EQ(
      ResolveCluster(OnePool("h100", 8, 1, "ep: 8"), "c.txtpb", "mixtral-8x7b"),
      "OK");
  EXPECT_THAT(
      ResolveCluster(OnePool("h100", 3, 1, "ep: 3"), "c.txtpb", "mixtral-8x7b"),
      HasSubstr("field 'ep' = 3: it does not divide the 8 routed "
                "experts"));
}

TEST_F(FleetTest, ExpertParallelPoolsShardTheExpertsAndReplicateTheRest) {
  ASSERT_EQ(ResolveCluster(OnePool("h200", 8, 1, "weight_dtype: DTYPE_FP8"),
                           "c", "deepseek-v3"),
            "OK");
  const PoolSpec tp8 = last_.pools[0];
  // DP attention on every chip, the 256 experts 32 to a chip.
  ASSERT_EQ(
      ResolveCluster(OnePool("h200", 1, 1, "weight_dtype: DTYPE_FP8 ep: 8"),
                     "c", "deepseek-v3"),
      "OK");
  const PoolSpec ep8 = last_.pools[0];
  EXPECT_EQ(ep8.chips_per_instance(), 8);
  EXPECT_EQ(ep8.instances_per_machine, 1);
  EXPECT_EQ(ep8.attention_groups(), 8);
  // 58 MoE layers x 256 experts x 3 x 7168 x 2048 FP8 bytes, once; the
  // other ~17 GB (attention, dense layers, embeddings) on every chip.
  const double experts =
      hardware::RoutedExpertParameters(**models_.Find("deepseek-v3"));
  EXPECT_NEAR(experts / 1e9, 654, 1);
  EXPECT_NEAR(ep8.weight_bytes_per_instance,
              8 * (tp8.weight_bytes_per_instance - experts) + experts, 1);
  // Two attention groups of TP4 hold the rest twice.
  ASSERT_EQ(
      ResolveCluster(OnePool("h200", 4, 1, "weight_dtype: DTYPE_FP8 ep: 8"),
                     "c", "deepseek-v3"),
      "OK");
  EXPECT_NEAR(last_.pools[0].weight_bytes_per_instance,
              2 * (tp8.weight_bytes_per_instance - experts) + experts, 1);
  // MLA's latent is on every TP rank: TP8 keeps 8 copies of each token's
  // KV, data-parallel attention one. (1090 GB usable - 671 GB) / (8 x
  // 70,272 B) ~ 0.75M tokens against (1090 - 790) / 70,272 B ~ 4.3M.
  EXPECT_NEAR(tp8.kv_capacity_tokens() / 1e6, 0.745, 0.01);
  EXPECT_NEAR(ep8.kv_capacity_tokens() / 1e6, 4.25, 0.05);
  // The pool's iteration time has the all-to-all.
  auto latency = CreateLatencyModel(last_, last_.pools[0]);
  ASSERT_TRUE(latency.ok()) << latency.status();
  const hardware::IterationBreakdown b = (*latency)->Explain(Decodes());
  EXPECT_TRUE(std::any_of(b.ops.begin(), b.ops.end(), [](const auto& op) {
    return op.name == "ep_dispatch";
  }));
}

// A pool's `kernels` pick the chip's alternative entries: a FlashMLA-class
// MLA decode (66.7 % of peak) instead of the 910C's AMLA (86.8 %) makes a
// compute-bound MLA decode (DP attention, 128 heads a rank, INT8 cache)
// 0.868 / 0.667 slower in its tensor term.
TEST_F(FleetTest, APoolSelectsTheChipsAlternativeKernels) {
  auto mla_decode_seconds = [&](const std::string& kernels) {
    EXPECT_EQ(ResolveCluster(OnePool("ascend_910c", 1, 1,
                                     "weight_dtype: DTYPE_INT8 kv_dtype: "
                                     "DTYPE_INT8 ep: 8 " +
                                         kernels),
                             "c", "deepseek-v3"),
              "OK");
    auto latency = CreateLatencyModel(last_, last_.pools[0]);
    EXPECT_TRUE(latency.ok()) << latency.status();
    hardware::BatchShape batch;
    for (int i = 0; i < 96; ++i) batch.AddDecode(2000);
    for (const hardware::OperatorTime& op : (*latency)->Explain(batch).ops)
      if (op.name == "mla_decode") return op.seconds;
    return 0.0;
  };
  const double amla = mla_decode_seconds("");
  const double flashmla = mla_decode_seconds("kernels: \"flashmla\"");
  EXPECT_EQ(last_.pools[0].kernels, std::vector<std::string>{"flashmla"});
  EXPECT_GT(amla, 0);
  EXPECT_GT(flashmla, 1.05 * amla);
  EXPECT_LT(flashmla, 0.868 / 0.667 * amla * 1.001);
  EXPECT_THAT(
      Resolve(kBad + "/unknown_kernel.txtpb", "deepseek-v3"),
      HasSubstr("unknown_kernel.txtpb:8:3: field 'pools[0].kernels[1]': "
                "pool 'colocated': chip 'ascend_910c' has no kernel "
                "'amla' (its alternative kernels: flashmla)"));
}

TEST_F(FleetTest, BadExpertParallelismNamesTheLineOfEp) {
  EXPECT_THAT(Resolve(kBad + "/ep_not_dividing_experts.txtpb", "deepseek-v3"),
              HasSubstr("ep_not_dividing_experts.txtpb:8:3: pool 'colocated': "
                        "field 'ep' = 6: it does not divide the 256 routed "
                        "experts of deepseek-v3"));
  EXPECT_THAT(Resolve(kBad + "/ep_not_dividing_experts.txtpb", "llama-3-70b"),
              HasSubstr(":8:3: pool 'colocated': field 'ep' = 6: llama-3-70b "
                        "has no MoE layers"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 2, 1, "weight_dtype: DTYPE_FP8 ep: 4",
                             "chips_per_machine: 6"),
                     "c", "deepseek-v3"),
      HasSubstr("field 'ep' = 4: ep x pp = 4 chips do not divide "
                "the machine's 6"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 8, 1, "weight_dtype: DTYPE_FP8 ep: 4"),
                     "c", "deepseek-v3"),
      HasSubstr("field 'ep' = 4: it is not a multiple of tp = 8"));
}

// An expert-parallel instance may span whole machines of one pipeline
// stage (its all-to-all's cross-machine share runs on the scale-out links,
// sim/instance.h); other layouts across machines are refused, naming the
// field.
TEST_F(FleetTest, AnExpertParallelInstanceSpansWholeMachines) {
  const std::string fp8 = "weight_dtype: DTYPE_FP8 ";
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 1, 2, fp8 + "ep: 16"), "c", "deepseek-v3"),
      HasSubstr("field 'ep' = 16: ep x pp = 32 chips exceed the machine's 8 "
                "and pp = 2 > 1: an expert-parallel instance spans machines "
                "only with one pipeline stage"));
  EXPECT_THAT(ResolveCluster(
                  OnePool("h200", 1, 1, fp8 + "ep: 16", "chips_per_machine: 6"),
                  "c", "deepseek-v3"),
              HasSubstr("field 'ep' = 16: it exceeds the machine's 6 chips "
                        "but is not a multiple of them"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 16, 1, fp8 + "ep: 16"), "c",
                     "deepseek-v3"),
      HasSubstr("field 'tp' x 'pp' = 16 does not divide chips_per_machine = "
                "8 (tensor parallelism across machines is not modelled"));
  EXPECT_THAT(
      ResolveCluster(OnePool("h200", 2, 1, fp8 + "ep: 16"), "c", "deepseek-v3"),
      HasSubstr("field 'machines' = 1 is not a multiple of the 2 machines one "
                "instance spans (ep = 16 over 8-chip machines)"));
  // Two machines: one instance of 16 ranks, each rank's memory as EP8's
  // but for the attention copies: 16 groups of tp 1.
  v1::Cluster two = OnePool("h200", 1, 1, fp8 + "ep: 16");
  two.mutable_pools(0)->set_machines(2);
  ASSERT_EQ(ResolveCluster(two, "c", "deepseek-v3"), "OK");
  const PoolSpec& pool = last_.pools[0];
  EXPECT_EQ(pool.machines_per_instance, 2);
  EXPECT_EQ(pool.instances(), 1);
  EXPECT_EQ(pool.attention_groups(), 16);
  EXPECT_EQ(pool.all_to_all.machines(), 2);
  EXPECT_EQ(pool.all_to_all.moe_layers, 58);
  // Its cost model prices only the all-to-all among each machine's ranks.
  auto latency = CreateLatencyModel(last_, pool);
  ASSERT_TRUE(latency.ok()) << latency.status();
  // Outside a replay nothing moves the cross-machine share: refused.
  hardware::OperatorModelOptions options = last_.cost_model;
  options.expert_parallel = 16;
  options.chips_per_machine = 8;
  EXPECT_THAT(
      std::string(hardware::OperatorModel::Create(
                      ServedModel(last_.model, pool), pool.chip, 1, 1, options)
                      .status()
                      .message()),
      HasSubstr("simulated only in a replay"));
}

TEST_F(FleetTest, APrecisionTheChipLacksIsRefused) {
  EXPECT_THAT(ResolveCluster(OnePool("a100", 8, 1, "weight_dtype: DTYPE_FP8"),
                             "c.txtpb", "llama-3-70b"),
              AllOf(HasSubstr("c.txtpb: pool 'colocated': field "
                              "'weight_dtype': FP8 weights, but chip 'a100' "
                              "has no FP8 tensor peak"),
                    HasSubstr("or INT8")));
  EXPECT_EQ(ResolveCluster(OnePool("a100", 8, 1, "weight_dtype: DTYPE_INT8"),
                           "c.txtpb", "llama-3-70b"),
            "OK");
  EXPECT_THAT(
      ResolveCluster(OnePool("ascend_910c", 8, 1, "weight_dtype: DTYPE_FP8"),
                     "c.txtpb", "llama-3-70b"),
      HasSubstr("chip 'ascend_910c' has no FP8 tensor peak"));
  EXPECT_THAT(
      ResolveCluster(OnePool("spad_decode", 8, 1, "weight_dtype: DTYPE_INT8"),
                     "c.txtpb", "llama-3-70b"),
      HasSubstr("has no INT8 tensor peak (int8_tops)"));
  EXPECT_THAT(ResolveCluster(OnePool("b200", 8, 1, "kv_dtype: DTYPE_FP4"),
                             "c.txtpb", "llama-3-70b"),
              HasSubstr("c.txtpb: pool 'colocated': field 'kv_dtype': an FP4 "
                        "KV cache is not modelled"));
  // KV in FP8 is storage only: a chip without FP8 tensor cores holds it.
  EXPECT_EQ(ResolveCluster(OnePool("a100", 8, 1, "kv_dtype: DTYPE_FP8"),
                           "c.txtpb", "llama-3-70b"),
            "OK");
}

TEST_F(FleetTest, PoolOverridesSetMachineCounts) {
  ASSERT_EQ(Resolve(kData + "/clusters/spad.txtpb", "bloom-176b",
                    {"prefill=3", "decode=9"}),
            "OK");
  EXPECT_EQ(last_.pools[0].machines, 3);
  EXPECT_EQ(last_.pools[1].machines, 9);
  EXPECT_THAT(
      Resolve(kData + "/clusters/spad.txtpb", "bloom-176b", {"nosuch=3"}),
      HasSubstr("no pool named 'nosuch'"));
  EXPECT_THAT(
      Resolve(kData + "/clusters/spad.txtpb", "bloom-176b", {"prefill"}),
      HasSubstr("expected NAME=COUNT"));
}

TEST_F(FleetTest, TdpFollowsSpadNormalisation) {
  ASSERT_EQ(Resolve(kData + "/clusters/spad.txtpb", "bloom-176b"), "OK");
  // 18 Prefill + 7 Decode machines: 20.4 TDP (SPAD Table 4; the cost's
  // 14.7 is tests/economics/tco_test.cc's).
  EXPECT_NEAR(last_.TdpW() / (8 * 700.0), 20.4, 0.1);
  EXPECT_NEAR(last_.NormalizedTdp(**chips_.Find("h100")), 20.4, 0.1);
}

TEST_F(FleetTest, BadClustersNameTheProblem) {
  EXPECT_THAT(Resolve(kBad + "/zero_machines.txtpb", "bloom-176b"),
              HasSubstr("field 'machines' must be >= 1"));
  EXPECT_THAT(Resolve(kBad + "/tp_not_dividing_heads.txtpb", "llama-2-7b"),
              HasSubstr("does not divide the 32 attention heads"));
  EXPECT_THAT(Resolve(kBad + "/does_not_fit.txtpb", "bloom-176b"),
              HasSubstr("does not fit"));
  EXPECT_THAT(Resolve(kBad + "/unknown_chip.txtpb", "bloom-176b"),
              HasSubstr("unknown chip 'h900'"));
  EXPECT_THAT(Resolve(kBad + "/prefill_only.txtpb", "bloom-176b"),
              HasSubstr("needs both a prefill and a decode pool"));
  EXPECT_THAT(Resolve(kBad + "/unknown_field.txtpb", "bloom-176b"),
              HasSubstr("unknown_field.txtpb:4:"));
}

TEST_F(FleetTest, RouterPoliciesWithoutTheMixedPoolRefuseIt) {
  v1::Cluster cluster;
  ASSERT_TRUE(
      ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb", &cluster)
          .ok());
  ASSERT_GT(cluster.mixed_pool_prefill_queue_tokens(), 0);
  cluster.set_router(v1::ROUTER_POLICY_ROUND_ROBIN);
  EXPECT_THAT(ResolveCluster(cluster, "cluster.txtpb", "bloom-176b"),
              AllOf(HasSubstr("cluster.txtpb: field 'router'"),
                    HasSubstr("does not support the mixed pool"),
                    HasSubstr("mixed_pool_prefill_queue_tokens")));
  cluster.set_mixed_pool_prefill_queue_tokens(0);
  EXPECT_EQ(ResolveCluster(cluster, "cluster.txtpb", "bloom-176b"), "OK");
}

// Regression (issue 16): values that crashed or hung a run, or were
// silently replaced by a default, are errors naming the pool's field.
TEST_F(FleetTest, InvalidAndAbsurdValuesNameTheirField) {
  v1::Cluster good;
  ASSERT_TRUE(
      ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb", &good).ok());
  ASSERT_EQ(ResolveCluster(good, "c.txtpb", "bloom-176b"), "OK");
  struct Case {
    std::function<void(v1::Cluster*)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::Cluster* c) { c->mutable_pools(0)->set_role(v1::PoolRole(99)); },
       "field 'pools[0].role' has no value 99"},
      {[](v1::Cluster* c) { c->mutable_pools(1)->set_tp(-1); },
       "field 'pools[1].tp' must be in [1, 10000] (got -1)"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->mutable_machine()->set_chips_per_machine(-8);
       },
       "field 'pools[0].machine.chips_per_machine' must be in"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->mutable_batching()->set_max_batch_size(-1);
       },
       "field 'pools[0].batching.max_batch_size' must be in"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->mutable_batching()->set_kv_block_tokens(-16);
       },
       "field 'pools[0].batching.kv_block_tokens' must be in"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->mutable_batching()->set_kv_memory_fraction(
             std::nan(""));
       },
       "field 'pools[0].batching.kv_memory_fraction' must be a finite "
       "number (got nan)"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->mutable_batching()->set_kv_memory_fraction(2.0);
       },
       "field 'pools[0].batching.kv_memory_fraction' must be in [0.001, 1]"},
      {[](v1::Cluster* c) { c->set_framework_layer_overhead_us(1e306); },
       "field 'framework_layer_overhead_us' must be in [0, 1e+06]"},
      {[](v1::Cluster* c) {
         c->mutable_pools(1)->mutable_machine()->set_scale_out_gbytes_per_s(
             1e-300);
       },
       "field 'pools[1].machine.scale_out_gbytes_per_s' must be in [0.001, "
       "1e+06]"},
      {[](v1::Cluster* c) {
         c->mutable_pools(1)->mutable_machine()->set_scale_out_latency_us(
             1e306);
       },
       "field 'pools[1].machine.scale_out_latency_us' must be in"},
      {[](v1::Cluster* c) { c->mutable_pools(0)->set_machines(2147483647); },
       "field 'pools[0].machines' must be in [1, 10000]"},
      {[](v1::Cluster* c) {
         c->mutable_pools(0)->set_machines(9000);
         c->mutable_pools(1)->set_machines(9000);
       },
       "18000 machines holding 18000 instances exceed the per-run limit of "
       "10000 machines"},
  };
  for (const Case& c : cases) {
    v1::Cluster cluster = good;
    c.spoil(&cluster);
    EXPECT_THAT(ResolveCluster(cluster, "c.txtpb", "bloom-176b"),
                AllOf(HasSubstr("c.txtpb"), HasSubstr(c.message)));
  }
  // A --pool override past the limit, too.
  EXPECT_THAT(
      ResolveCluster(good, "c.txtpb", "bloom-176b", {"prefill=2147483647"}),
      HasSubstr("exceed the per-run limit"));
}

// The serving framework picks the chip's kernel set: vLLM unless the
// cluster or a pool names another, and pools are timed with it.
TEST_F(FleetTest, ServingFrameworkSelectsTheKernelSet) {
  v1::Cluster cluster;
  ASSERT_TRUE(
      ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb", &cluster)
          .ok());
  ASSERT_EQ(ResolveCluster(cluster, "c.txtpb", "llama-2-70b"), "OK");
  EXPECT_EQ(last_.pools[0].framework, "vllm");
  const FleetSpec vllm = last_;
  cluster.set_serving_framework("trtllm");
  cluster.mutable_pools(1)->set_serving_framework("sglang");
  ASSERT_EQ(ResolveCluster(cluster, "c.txtpb", "llama-2-70b"), "OK");
  EXPECT_EQ(last_.pools[0].framework, "trtllm");
  EXPECT_EQ(last_.pools[1].framework, "sglang");
  // TRT-LLM's H100 prefill kernels (fused RoPE and KV write) take longer
  // than vLLM's FA3 on a long prompt.
  hardware::BatchShape prompt;
  prompt.AddPrefillChunk(8192, 0);
  const PoolSpec& pool = last_.pools[0];
  auto trtllm_model =
      CreateLatencyModel(last_, pool.chip, pool.tp, pool.pp, pool.framework);
  auto vllm_model = CreateLatencyModel(vllm, pool.chip, pool.tp, pool.pp,
                                       vllm.pools[0].framework);
  ASSERT_TRUE(trtllm_model.ok() && vllm_model.ok());
  EXPECT_GT((*trtllm_model)->IterationSeconds(prompt),
            (*vllm_model)->IterationSeconds(prompt));
  // Each pool's GEMMs are its framework's: on this compute-bound prompt
  // vLLM's fitted GEMM efficiency (eta_c 0.814) beats TRT-LLM's (0.793),
  // which beats SGLang's (0.771; data/chips/h100.txtpb).
  const PoolSpec& sglang_pool = last_.pools[1];
  auto sglang_model = CreateLatencyModel(last_, sglang_pool.chip, pool.tp,
                                         pool.pp, sglang_pool.framework);
  ASSERT_TRUE(sglang_model.ok());
  auto gemm_seconds = [&](const hardware::LatencyModel& m) {
    double s = 0;
    for (const hardware::OperatorTime& op : m.Explain(prompt).ops)
      if (op.op_class == v1::OPERATOR_CLASS_GEMM) s += op.seconds;
    return s;
  };
  const double vllm_gemm = gemm_seconds(**vllm_model);
  EXPECT_GT(gemm_seconds(**trtllm_model), 1.01 * vllm_gemm);
  EXPECT_GT(gemm_seconds(**sglang_model), 1.01 * gemm_seconds(**trtllm_model));
  cluster.set_serving_framework("tgi");
  EXPECT_THAT(ResolveCluster(cluster, "c.txtpb", "llama-2-70b"),
              HasSubstr("c.txtpb: field 'serving_framework': 'tgi' is not a "
                        "serving framework"));
  cluster.set_serving_framework("");
  cluster.mutable_pools(0)->set_serving_framework("TRT");
  EXPECT_THAT(ResolveCluster(cluster, "c.txtpb", "llama-2-70b"),
              HasSubstr("field 'serving_framework': 'TRT'"));
}

TEST_F(FleetTest, IterationTablesMustCoverEveryPool) {
  const std::string table = kData + "/splitwise/perf_model.csv";
  v1::Cluster cluster;
  ASSERT_TRUE(
      ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb", &cluster)
          .ok());
  cluster.set_iteration_time_table(table);
  auto resolve = [&](const v1::Cluster& c, const std::string& model) {
    return ResolveCluster(c, "cluster.txtpb", model);
  };
  EXPECT_EQ(resolve(cluster, "bloom-176b"), "OK");
  // Llama-2-7B is not in SplitwiseSim's table.
  EXPECT_THAT(resolve(cluster, "llama-2-7b"),
              AllOf(HasSubstr("cluster.txtpb: pool 'prefill'"),
                    HasSubstr("no rows for model 'llama-2-7b'")));
  v1::Cluster missing = cluster;
  missing.set_iteration_time_table(table + ".nosuch");
  EXPECT_THAT(resolve(missing, "bloom-176b"),
              HasSubstr("cluster.txtpb: field 'iteration_time_table'"));
  v1::Cluster staged = cluster;
  staged.mutable_pools(0)->set_pp(2);
  staged.mutable_pools(0)->set_tp(4);
  EXPECT_THAT(resolve(staged, "bloom-176b"),
              HasSubstr("without pipeline stages"));
}

TEST_F(FleetTest, ReplayExitsNonZeroOnABadCluster) {
  std::string command = std::string(FLEETSIM_BINARY_DIR) +
                        "/fleetsim replay --cluster " + kBad +
                        "/zero_machines.txtpb --model bloom-176b --trace " +
                        kData + "/traces/azure_2023_conv.csv 2>/dev/null";
  int status = std::system(command.c_str());
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace fleetsim::sim
