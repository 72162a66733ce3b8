// `fleetsim estimate`: the time `fleetsim replay` gives one iteration of a
// batch (prefill chunks and decode requests) of a catalog model on a catalog
// chip at a TP degree, kernels and serving-stack overhead apart, with its
// per-operator breakdown (hardware/operator_model.h). A model that does not
// fit the instance is an error, as in a replay.
//
//   fleetsim estimate --model bloom-176b --chip h100 --tp 8 --prefill 1500
//   fleetsim estimate --model llama-2-70b --chip h100 --tp 4
//       --prefill 512:1024 --decode 64@1500,8@300 --json
//   fleetsim estimate --model deepseek-v3 --chip h200 --tp 1 --ep 8
//       --weight-dtype fp8 --decode 256@2000 --json
//   fleetsim estimate --model llama-3-8b --chip h100 --decode 1@640
//       --draft-model llama-3.2-1b --draft-tokens 4 --acceptance 0.8
//   fleetsim estimate --model deepseek-v3 --chip h200 --tp 8
//       --weight-dtype fp8 --decode 1@1000 --mtp --draft-tokens 1
//       --acceptance 0.85
//   fleetsim estimate --model mixtral-8x7b --chip h100 --tp 2
//       --prefill 2048 --framework trtllm
//   fleetsim estimate --model deepseek-v3 --chip ascend_910c --tp 8
//       --weight-dtype int8 --decode 64@4096 --kernels flashmla
//   fleetsim estimate --model deformable-detr --chip h100 --images 8
//       --cache-hit-fraction 0.9
// With a draft model (or --mtp, the model's MTP modules drafting) the
// iteration is a speculative one (docs/simulator.md "Speculative
// decoding"): the draft's steps and the target's verify pass, the draft's
// operators prefixed "draft_". --framework prices with that
// serving framework's fitted kernels, as a cluster's serving_framework;
// --kernels with the chip's alternative kernels, as a pool's `kernels`.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "hardware/chip_catalog.h"
#include "hardware/deformable_detr_model.h"
#include "hardware/latency_model.h"
#include "hardware/operator_options.h"
#include "sim/catalogs.h"
#include "sim/fleet.h"
#include "sim/pool_latency.h"
#include "sim/speculative_decoding.h"
#include "util/json_writer.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, prefill, "",
          "estimate: prefill chunks, TOKENS[:CACHED][,...] (new tokens, "
          "optionally after CACHED tokens already in the KV cache)");
ABSL_FLAG(std::string, decode, "",
          "estimate: decode requests, N@CONTEXT[,...] (N requests, each with "
          "CONTEXT tokens already cached)");
ABSL_FLAG(
    std::string, weight_dtype, "",
    "estimate: serve the weights in this precision (bf16, fp16, fp8, fp4, "
    "int8; default: the model's dtype), as a pool's weight_dtype");
ABSL_FLAG(std::string, kv_dtype, "",
          "estimate: KV-cache precision (bf16, fp16, fp8, int8; default: the "
          "model's kv_dtype), as a pool's kv_dtype");
ABSL_FLAG(int32_t, ep, 0,
          "estimate: expert-parallel degree of a MoE model (a multiple of "
          "--tp; = --tp: whole experts on the tp chips; > --tp: attention in "
          "ep / tp data-parallel groups and all-to-all), as a pool's ep; "
          "0 = none");
ABSL_FLAG(double, expert_routing_alpha, 0,
          "estimate: MoE models: route tokens by a power law of this "
          "exponent (> 0, != 1; aiconfigurator collects 1.01 and 1.2) "
          "instead of evenly, as a pool's expert_routing");
ABSL_FLAG(std::string, draft_model, "",
          "estimate: decode speculatively with this catalog model drafting, "
          "as a cluster's speculative_decoding.draft_model");
ABSL_FLAG(bool, mtp, false,
          "estimate: decode speculatively with the model's own multi-token-"
          "prediction modules drafting, as a cluster's "
          "speculative_decoding.multi_token_prediction");
ABSL_FLAG(int32_t, draft_tokens, 4,
          "estimate: with --draft-model or --mtp, tokens drafted per step "
          "(k)");
ABSL_FLAG(double, acceptance, 0,
          "estimate: with --draft-model or --mtp, the chance each draft "
          "token is accepted (alpha in (0, 1]): gives the tokens a step "
          "emits");
ABSL_FLAG(std::vector<std::string>, kernels, {},
          "estimate: kernel implementations to price instead of the chip's "
          "defaults (names of the chip's efficiency entries' `kernel`, e.g. "
          "flashmla on ascend_910c), as a pool's kernels");
ABSL_FLAG(int32_t, images, 0,
          "estimate: a detector (Model.deformable_detr): this many images "
          "at the model's resolution, one prefill-only request each (instead "
          "of --prefill and --decode)");
ABSL_FLAG(double, cache_hit_fraction, -1,
          "estimate: a detector: the share of the deformable sampler's "
          "neighbour reads served on chip, in [0, 1) (default: the model's "
          "deformable_detr.cache_hit_fraction, else 0.5, an ASSUMPTION)");
ABSL_FLAG(std::string, accounting, "vllm",
          "estimate: cost-model accounting, 'vllm' (fused attention and the "
          "serving-stack overhead, as a replay times it; the default) or "
          "'llmcompass' (kernels only: unfused attention, LLMCompass's "
          "softmax/GELU/LayerNorm FLOP counts)");

namespace fleetsim::cli {
namespace {

using hardware::BatchShape;
using hardware::IterationBreakdown;
using hardware::OperatorModelOptions;
using hardware::OperatorTime;

absl::Status ParseBatch(const std::string& prefill, const std::string& decode,
                        BatchShape* batch) {
  for (absl::string_view item :
       absl::StrSplit(prefill, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
    int64_t tokens = 0;
    int64_t cached = 0;
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &tokens) ||
        tokens <= 0 ||
        (parts.size() == 2 &&
         (!absl::SimpleAtoi(parts[1], &cached) || cached < 0))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--prefill: expected TOKENS[:CACHED] with TOKENS > 0 and CACHED >= "
          "0, got '",
          item, "'"));
    }
    batch->AddPrefillChunk(tokens, cached);
  }
  for (absl::string_view item :
       absl::StrSplit(decode, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, '@');
    int64_t n = 0;
    int64_t context = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &n) || n <= 0 ||
        n > 1000000 || !absl::SimpleAtoi(parts[1], &context) || context < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--decode: expected N@CONTEXT with N in [1, 1000000] and CONTEXT "
          ">= 0, got '",
          item, "'"));
    }
    for (int64_t i = 0; i < n; ++i) batch->AddDecode(context);
  }
  if (batch->empty()) {
    return absl::InvalidArgumentError(
        "estimate needs --prefill and/or --decode (e.g. --prefill 1500 "
        "--decode 64@1500)");
  }
  return absl::OkStatus();
}

std::string ClassName(v1::OperatorClass c) {
  std::string name = v1::OperatorClass_Name(c);
  const std::string prefix = "OPERATOR_CLASS_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
  return name;
}

// The time a replay gives this batch, split into kernels and the serving
// stack's overhead (hardware/operator_options.h), and whether the batch's KV
// cache fits the instance.
struct Estimate {
  IterationBreakdown breakdown;
  double kernel_s = 0;
  double serving_overhead_s = 0;
  int64_t batch_kv_tokens = 0;
  int64_t kv_capacity_tokens = 0;
  // Memory blocks the batch's KV and recurrent state take, and one
  // instance's (sim::PoolSpec::RequestBlocks).
  int64_t batch_blocks = 0;
  int64_t capacity_blocks = 0;
  int64_t state_bytes_per_request = 0;
  // The serving framework whose fitted kernels priced the operators.
  std::string framework;
  // The chip's alternative kernels that priced them (Pool.kernels).
  std::vector<std::string> kernels;
  // Speculative decoding: draft tokens per step (0 = none) and the tokens
  // a step emits per sequence.
  int draft_tokens = 0;
  double tokens_per_step = 1;
  bool fits() const { return batch_blocks <= capacity_blocks; }
};

// `kernels` is the same latency model without the overhead terms.
Estimate MakeEstimate(const BatchShape& batch, IterationBreakdown breakdown,
                      const hardware::LatencyModel& kernels,
                      const sim::PoolSpec& pool) {
  Estimate e;
  e.breakdown = std::move(breakdown);
  e.kernel_s = kernels.IterationSeconds(batch);
  e.serving_overhead_s = e.breakdown.seconds - e.kernel_s;
  e.batch_kv_tokens = batch.prefill_tokens + batch.prefill_context_tokens +
                      batch.decode_context_tokens + batch.decode_requests;
  e.kv_capacity_tokens = pool.kv_capacity_tokens();
  // The tokens as one request's (rounded up once, as a token count would
  // be) plus every other request's state.
  const int64_t requests = batch.prefill_requests + batch.decode_requests;
  e.batch_blocks = pool.RequestBlocks(e.batch_kv_tokens) +
                   (requests - 1) * pool.state_blocks_per_request;
  e.capacity_blocks = pool.kv_capacity_blocks;
  e.state_bytes_per_request = pool.state_bytes_per_request;
  e.framework = pool.framework;
  e.kernels = pool.kernels;
  e.draft_tokens = pool.draft_tokens;
  e.tokens_per_step = pool.tokens_per_step;
  return e;
}

// "TP8", or "TP1 EP8" under expert parallelism.
std::string Parallelism(int tp, int ep) {
  return ep > 1 ? absl::StrCat("TP", tp, " EP", ep) : absl::StrCat("TP", tp);
}

void PrintTable(const std::string& model, const std::string& chip, int tp,
                int ep, const BatchShape& batch, const Estimate& e) {
  const IterationBreakdown& b = e.breakdown;
  std::cout << absl::StrFormat(
      "%s on %s, %s: iteration %.3f ms = %s kernels %.3f ms + serving "
      "overhead %.3f ms  (prefill: %d requests, %d tokens; decode: %d "
      "requests, %d context tokens)\n",
      model, chip, Parallelism(tp, ep), b.seconds * 1e3, e.framework,
      e.kernel_s * 1e3, e.serving_overhead_s * 1e3, batch.prefill_requests,
      batch.prefill_tokens, batch.decode_requests, batch.decode_context_tokens);
  if (!e.kernels.empty()) {
    std::cout << "kernels instead of the chip's defaults: "
              << absl::StrJoin(e.kernels, ", ") << "\n";
  }
  if (e.draft_tokens > 0) {
    std::cout << absl::StrFormat(
        "speculative: %d draft tokens per step, %.3f tokens emitted per "
        "sequence: %.3f ms per token\n",
        e.draft_tokens, e.tokens_per_step, b.seconds / e.tokens_per_step * 1e3);
  }
  if (!e.fits() && e.state_bytes_per_request == 0) {
    std::cout << absl::StrFormat(
        "note: the batch holds %d KV tokens; one instance has room for %d, so "
        "a replay would never run this batch\n",
        e.batch_kv_tokens, e.kv_capacity_tokens);
  } else if (!e.fits()) {
    std::cout << absl::StrFormat(
        "note: the batch's KV (%d tokens) and recurrent state (%.1f MB per "
        "request) take %d memory blocks; one instance has %d, so a replay "
        "would never run this batch\n",
        e.batch_kv_tokens, e.state_bytes_per_request / 1e6, e.batch_blocks,
        e.capacity_blocks);
  }
  std::cout << absl::StrFormat("\n%-20s %-18s %11s %7s %-8s %11s %11s %9s\n",
                               "operator", "class", "ms", "share", "bound",
                               "TFLOP", "GB", "FLOP/B");
  for (const OperatorTime& op : b.ops) {
    // Arithmetic intensity: tensor and vector FLOPs per byte of traffic.
    const double flops = op.flops + op.vector_flops;
    std::cout << absl::StrFormat(
        "%-20s %-18s %11.4f %6.1f%% %-8s %11.4f %11.4f %9s\n", op.name,
        ClassName(op.op_class), op.seconds * 1e3,
        b.seconds > 0 ? 100 * op.seconds / b.seconds : 0.0,
        hardware::BoundName(op.bound), op.flops / 1e12, op.bytes / 1e9,
        op.bytes > 0 ? absl::StrFormat("%.1f", flops / op.bytes) : "-");
  }
  std::cout << "\nThe iteration time is the one `fleetsim replay` uses for "
               "this batch on a pool of this chip and TP. FLOPs are tensor "
               "FLOPs and bytes memory traffic on one chip; "
               "docs/cost_model.md explains the model.\n";
}

void PrintJson(const std::string& model, const std::string& chip, int tp,
               int ep, const std::string& accounting, const BatchShape& batch,
               const Estimate& e) {
  const IterationBreakdown& b = e.breakdown;
  JsonWriter json;
  json.BeginObject();
  json.Field("model", model);
  json.Field("chip", chip);
  json.Field("tp", tp);
  if (ep > 1) json.Field("ep", ep);
  json.Field("accounting", accounting);
  json.Field("framework", e.framework);
  json.Key("kernels");
  json.BeginArray();
  for (const std::string& kernel : e.kernels) json.String(kernel);
  json.EndArray();
  json.Key("batch");
  json.BeginObject();
  json.Field("prefill_requests", static_cast<int64_t>(batch.prefill_requests));
  json.Field("prefill_tokens", batch.prefill_tokens);
  json.Field("prefill_attention_pairs", batch.prefill_attention_pairs);
  json.Field("prefill_context_tokens", batch.prefill_context_tokens);
  json.Field("decode_requests", static_cast<int64_t>(batch.decode_requests));
  json.Field("decode_context_tokens", batch.decode_context_tokens);
  json.Field("kv_tokens", e.batch_kv_tokens);
  json.EndObject();
  json.Field("iteration_s", b.seconds);
  json.Field("kernel_s", e.kernel_s);
  json.Field("serving_overhead_s", e.serving_overhead_s);
  json.Field("instance_kv_capacity_tokens", e.kv_capacity_tokens);
  json.Field("state_bytes_per_request", e.state_bytes_per_request);
  json.Field("draft_tokens", static_cast<int64_t>(e.draft_tokens));
  json.Field("tokens_per_step", e.tokens_per_step);
  json.Field("batch_fits_kv", e.fits());
  json.Key("operators");
  json.BeginArray();
  for (const OperatorTime& op : b.ops) {
    json.BeginObject();
    json.Field("name", op.name);
    json.Field("class", ClassName(op.op_class));
    json.Field("seconds", op.seconds);
    json.Field("share", b.seconds > 0 ? op.seconds / b.seconds : 0.0);
    json.Field("bound", hardware::BoundName(op.bound));
    json.Field("flops", op.flops);
    json.Field("vector_flops", op.vector_flops);
    json.Field("bytes", op.bytes);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  std::cout << json.str();
}

// A precision flag's value: "" = unspecified (the model's own).
absl::StatusOr<v1::Dtype> ParseDType(const std::string& flag,
                                     const std::string& value) {
  if (value.empty()) return v1::DTYPE_UNSPECIFIED;
  for (v1::Dtype d : {v1::DTYPE_BF16, v1::DTYPE_FP16, v1::DTYPE_FP8,
                      v1::DTYPE_INT8, v1::DTYPE_FP4}) {
    std::string name = v1::Dtype_Name(d).substr(6);  // after "DTYPE_"
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    if (name == value) return d;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, ": '", value, "' is not bf16, fp16, fp8, int8 or fp4"));
}

// The fleet a replay of a one-pool colocated cluster of `chip` at `tp` runs:
// the cluster's defaults resolved by sim::ResolveFleet, so the serving-stack
// overhead and the memory check are the replay's. Errors: ResolveFleet's
// (e.g. "model X does not fit", a TP that does not divide the heads, a
// precision the chip lacks, an unknown framework). The pool starts from
// `knobs` (its precision, MoE placement, routing and serving framework;
// unset = the model's and the defaults) and decodes speculatively when
// `speculative` names a draft model or multi-token prediction.
absl::StatusOr<sim::FleetSpec> EstimateFleet(
    const sim::Catalogs& catalogs, const v1::Model& model,
    const std::string& chip, int tp, const v1::Pool& knobs,
    const v1::SpeculativeDecoding& speculative) {
  v1::Cluster cluster;
  cluster.set_name("estimate");
  if (!speculative.draft_model().empty() ||
      speculative.multi_token_prediction()) {
    *cluster.mutable_speculative_decoding() = speculative;
    FLEETSIM_RETURN_IF_ERROR(
        sim::ResolveDraftModel(catalogs.models(), "--draft-model", &cluster));
  }
  v1::Pool* pool = cluster.add_pools();
  *pool = knobs;
  pool->set_name(absl::StrCat(chip, " tp", tp));
  pool->set_machines(1);
  pool->set_tp(tp);
  pool->mutable_machine()->set_chip(chip);
  // The chip's machine when the instance fits it, else one that holds the
  // instance.
  const int instance_chips = std::max(tp, knobs.ep());
  const int machine_chips =
      hardware::MachineChips(**catalogs.chips().Find(chip));
  pool->mutable_machine()->set_chips_per_machine(
      machine_chips % instance_chips == 0 ? machine_chips : instance_chips);
  return sim::ResolveFleet(cluster, "estimate", model,
                           catalogs.chips().entries(), {});
}

// The model as estimated: a detector gets --images images (each a chunk of
// its feature-map tokens) and --cache-hit-fraction; other models neither.
absl::StatusOr<v1::Model> ImageModel(const v1::Model& model, int images,
                                     BatchShape* batch) {
  const double hit = absl::GetFlag(FLAGS_cache_hit_fraction);
  if (!model.has_deformable_detr()) {
    if (images > 0 || hit != -1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--images and --cache-hit-fraction apply to a detector; '",
          model.name(), "' is a language model"));
    }
    return model;
  }
  if (images == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", model.name(), "' is a detector: give --images N"));
  }
  v1::Model served = model;
  if (hit != -1) {
    if (!(hit >= 0 && hit < 1)) {
      return absl::InvalidArgumentError(
          "--cache-hit-fraction must be in [0, 1)");
    }
    served.mutable_deformable_detr()->set_cache_hit_fraction(hit);
  }
  FLEETSIM_ASSIGN_OR_RETURN(const hardware::DetrGeometry g,
                            hardware::DetrGeometryOf(served));
  for (int i = 0; i < images; ++i) batch->AddPrefillChunk(g.encoder_tokens, 0);
  return served;
}

int RunEstimate(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("estimate", args)) return code;
  const std::string model_name = absl::GetFlag(FLAGS_model);
  const std::string chip_name = absl::GetFlag(FLAGS_chip);
  if (model_name.empty() || chip_name.empty()) {
    return UsageError("estimate needs --model NAME and --chip NAME");
  }
  const int tp = absl::GetFlag(FLAGS_tp);
  if (tp < 1) return UsageError("--tp must be >= 1");
  const int ep = absl::GetFlag(FLAGS_ep);
  if (ep < 0) return UsageError("--ep must be >= 0");
  const std::string accounting = absl::GetFlag(FLAGS_accounting);
  if (accounting != "vllm" && accounting != "llmcompass") {
    return UsageError("--accounting must be 'vllm' or 'llmcompass', got '" +
                      accounting + "'");
  }
  BatchShape batch;
  const int images = absl::GetFlag(FLAGS_images);
  if (images < 0 || images > 100000) {
    return UsageError("--images must be in [0, 100000]");
  }
  if (images > 0 && (!absl::GetFlag(FLAGS_prefill).empty() ||
                     !absl::GetFlag(FLAGS_decode).empty())) {
    return UsageError("--images replaces --prefill and --decode");
  }
  if (images == 0) {
    if (absl::Status s = ParseBatch(absl::GetFlag(FLAGS_prefill),
                                    absl::GetFlag(FLAGS_decode), &batch);
        !s.ok()) {
      return UsageError(std::string(s.message()));
    }
  }

  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  absl::StatusOr<const v1::Chip*> chip = (*catalogs)->chips().Find(chip_name);
  if (!chip.ok()) {
    return Fail(
        absl::NotFoundError(absl::StrCat("--chip: ", chip.status().message())));
  }
  absl::StatusOr<const v1::Model*> model =
      (*catalogs)->models().Find(model_name);
  if (!model.ok()) {
    return Fail(absl::NotFoundError(
        absl::StrCat("--model: ", model.status().message())));
  }
  absl::StatusOr<v1::Model> served = ImageModel(**model, images, &batch);
  if (!served.ok()) return UsageError(std::string(served.status().message()));
  absl::StatusOr<v1::Dtype> weight_dtype =
      ParseDType("weight-dtype", absl::GetFlag(FLAGS_weight_dtype));
  if (!weight_dtype.ok())
    return UsageError(std::string(weight_dtype.status().message()));
  absl::StatusOr<v1::Dtype> kv_dtype =
      ParseDType("kv-dtype", absl::GetFlag(FLAGS_kv_dtype));
  if (!kv_dtype.ok())
    return UsageError(std::string(kv_dtype.status().message()));
  v1::Pool knobs;
  knobs.set_weight_dtype(*weight_dtype);
  knobs.set_kv_dtype(*kv_dtype);
  knobs.set_ep(ep);
  if (served->has_deformable_detr()) {
    // The batch's images run whole in one iteration (sim/image_serving.h).
    knobs.mutable_batching()->set_max_batch_tokens(
        static_cast<int32_t>(batch.prefill_tokens));
  }
  const std::string framework = absl::GetFlag(FLAGS_framework);
  if (!framework.empty() && !hardware::IsServingFramework(framework)) {
    return UsageError("--framework: '" + framework +
                      "' is not a serving framework (trtllm, vllm, sglang)");
  }
  knobs.set_serving_framework(framework);
  for (const std::string& kernel : absl::GetFlag(FLAGS_kernels)) {
    knobs.add_kernels(kernel);
  }
  if (const std::string unknown = hardware::UnknownKernel(
          **chip, {knobs.kernels().begin(), knobs.kernels().end()});
      !unknown.empty()) {
    return UsageError("--kernels: " + unknown);
  }
  if (const double alpha = absl::GetFlag(FLAGS_expert_routing_alpha);
      alpha != 0) {
    knobs.mutable_expert_routing()->set_kind(v1::EXPERT_ROUTING_KIND_POWER_LAW);
    knobs.mutable_expert_routing()->set_alpha(alpha);
  }
  v1::SpeculativeDecoding speculative;
  speculative.set_draft_model(absl::GetFlag(FLAGS_draft_model));
  speculative.set_multi_token_prediction(absl::GetFlag(FLAGS_mtp));
  const double acceptance = absl::GetFlag(FLAGS_acceptance);
  if ((!speculative.draft_model().empty() ||
       speculative.multi_token_prediction()) &&
      !(acceptance > 0 && acceptance <= 1)) {
    return UsageError(
        "--acceptance: with --draft-model or --mtp, give the chance each "
        "draft token is accepted, in (0, 1]");
  }
  speculative.set_draft_tokens(absl::GetFlag(FLAGS_draft_tokens));
  speculative.set_acceptance_rate(acceptance);
  absl::StatusOr<sim::FleetSpec> fleet =
      EstimateFleet(**catalogs, *served, chip_name, tp, knobs, speculative);
  if (!fleet.ok()) return Fail(fleet.status());
  if (accounting == "llmcompass") {
    // LLMCompass prices kernels only: no serving-stack overhead.
    fleet->cost_model = OperatorModelOptions::LlmCompassLike();
  }
  absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> latency =
      sim::CreateLatencyModel(*fleet, fleet->pools[0]);
  if (!latency.ok()) return Fail(latency.status());
  sim::FleetSpec kernels_only = *fleet;
  kernels_only.cost_model.iteration_overhead_s = 0;
  kernels_only.cost_model.layer_overhead_s = 0;
  kernels_only.cost_model.request_layer_overhead_s = 0;
  absl::StatusOr<std::unique_ptr<hardware::LatencyModel>> kernels =
      sim::CreateLatencyModel(kernels_only, kernels_only.pools[0]);
  if (!kernels.ok()) return Fail(kernels.status());

  const Estimate estimate = MakeEstimate(batch, (*latency)->Explain(batch),
                                         **kernels, fleet->pools[0]);
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(model_name, chip_name, tp, ep, accounting, batch, estimate);
  } else {
    PrintTable(model_name, chip_name, tp, ep, batch, estimate);
  }
  return 0;
}

}  // namespace

FLEETSIM_REGISTER_COMMAND(
    "estimate",
    {"estimate --model M --chip C [--tp T] [--ep E] "
     "[--prefill TOKENS[:CACHED],..] "
     "[--decode N@CTX,..] [--images N [--cache-hit-fraction H]] [flags]",
     "The time `fleetsim replay` gives one iteration of a batch on one "
     "instance of a catalog model on a catalog chip: kernels and "
     "serving-stack overhead apart, per operator. A model that does not fit "
     "the instance is an error, as in a replay.",
     {"model",        "chip",      "tp",
      "ep",           "prefill",   "decode",
      "weight_dtype", "kv_dtype",  "expert_routing_alpha",
      "draft_model",  "mtp",       "draft_tokens",
      "acceptance",   "images",    "cache_hit_fraction",
      "accounting",   "framework", "kernels",
      "json",         "data_dir"},
     RunEstimate});

}  // namespace fleetsim::cli
