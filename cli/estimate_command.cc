// `fleetsim estimate`: the operator cost model's time for one iteration of a
// batch (prefill chunks and decode requests) of a catalog model on a catalog
// chip, with its per-operator breakdown (hardware/operator_model.h).
//
//   fleetsim estimate --model bloom-176b --chip h100 --tp 8 --prefill 1500
//   fleetsim estimate --model llama-2-70b --chip h100 --tp 4
//       --prefill 512:1024 --decode 64@1500,8@300 --json
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "hardware/chip_catalog.h"
#include "hardware/latency_model.h"
#include "hardware/operator_model.h"
#include "util/json_writer.h"
#include "workloads/model_catalog.h"

ABSL_FLAG(std::string, prefill, "",
          "estimate: prefill chunks, TOKENS[:CACHED][,...] (new tokens, "
          "optionally after CACHED tokens already in the KV cache)");
ABSL_FLAG(std::string, decode, "",
          "estimate: decode requests, N@CONTEXT[,...] (N requests, each with "
          "CONTEXT tokens already cached)");
ABSL_FLAG(std::string, accounting, "vllm",
          "estimate: cost-model accounting, 'vllm' (fused attention, the "
          "default) or 'llmcompass' (unfused attention, LLMCompass's "
          "softmax/GELU/LayerNorm FLOP counts)");

namespace fleetsim::cli {
namespace {

using hardware::BatchShape;
using hardware::IterationBreakdown;
using hardware::OperatorModel;
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

std::string ClassName(OperatorClass c) {
  std::string name = OperatorClass_Name(c);
  const std::string prefix = "OPERATOR_CLASS_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  for (char& ch : name) ch = static_cast<char>(std::tolower(ch));
  return name;
}

void PrintTable(const std::string& model, const std::string& chip, int tp,
                const BatchShape& batch, const IterationBreakdown& b) {
  std::cout << absl::StrFormat(
      "%s on %s, TP%d: iteration %.3f ms  (prefill: %d requests, %d tokens; "
      "decode: %d requests, %d context tokens)\n\n",
      model, chip, tp, b.seconds * 1e3, batch.prefill_requests,
      batch.prefill_tokens, batch.decode_requests, batch.decode_context_tokens);
  std::cout << absl::StrFormat("%-20s %-18s %11s %7s %-8s %11s %11s\n",
                               "operator", "class", "ms", "share", "bound",
                               "TFLOP", "GB");
  for (const OperatorTime& op : b.ops) {
    std::cout << absl::StrFormat(
        "%-20s %-18s %11.4f %6.1f%% %-8s %11.4f %11.4f\n", op.name,
        ClassName(op.op_class), op.seconds * 1e3,
        b.seconds > 0 ? 100 * op.seconds / b.seconds : 0.0,
        hardware::BoundName(op.bound), op.flops / 1e12, op.bytes / 1e9);
  }
  std::cout << "\nFLOPs are tensor FLOPs and bytes memory traffic on one chip; "
               "docs/cost_model.md explains the model.\n";
}

void PrintJson(const std::string& model, const std::string& chip, int tp,
               const std::string& accounting, const BatchShape& batch,
               const IterationBreakdown& b) {
  JsonWriter json;
  json.BeginObject();
  json.Field("model", model);
  json.Field("chip", chip);
  json.Field("tp", tp);
  json.Field("accounting", accounting);
  json.Key("batch");
  json.BeginObject();
  json.Field("prefill_requests", static_cast<int64_t>(batch.prefill_requests));
  json.Field("prefill_tokens", batch.prefill_tokens);
  json.Field("prefill_attention_pairs", batch.prefill_attention_pairs);
  json.Field("prefill_context_tokens", batch.prefill_context_tokens);
  json.Field("decode_requests", static_cast<int64_t>(batch.decode_requests));
  json.Field("decode_context_tokens", batch.decode_context_tokens);
  json.EndObject();
  json.Field("iteration_s", b.seconds);
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

int RunEstimate(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("estimate", args)) return code;
  const std::string model_name = absl::GetFlag(FLAGS_model);
  const std::string chip_name = absl::GetFlag(FLAGS_chip);
  if (model_name.empty() || chip_name.empty()) {
    return UsageError("estimate needs --model NAME and --chip NAME");
  }
  const int tp = absl::GetFlag(FLAGS_tp);
  const std::string accounting = absl::GetFlag(FLAGS_accounting);
  OperatorModelOptions options;
  if (accounting == "llmcompass") {
    options = OperatorModelOptions::LlmCompassLike();
  } else if (accounting != "vllm") {
    return UsageError("--accounting must be 'vllm' or 'llmcompass', got '" +
                      accounting + "'");
  }
  BatchShape batch;
  if (absl::Status s = ParseBatch(absl::GetFlag(FLAGS_prefill),
                                  absl::GetFlag(FLAGS_decode), &batch);
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }

  const std::string data_dir = DataDir();
  absl::StatusOr<hardware::ChipCatalog> chips =
      hardware::LoadChipCatalog(data_dir);
  if (!chips.ok()) return Fail(chips.status());
  absl::StatusOr<workloads::ModelCatalog> models =
      workloads::LoadModelCatalog(data_dir);
  if (!models.ok()) return Fail(models.status());
  absl::StatusOr<const Chip*> chip = chips->Find(chip_name);
  if (!chip.ok()) {
    return Fail(
        absl::NotFoundError(absl::StrCat("--chip: ", chip.status().message())));
  }
  absl::StatusOr<const Model*> model = models->Find(model_name);
  if (!model.ok()) {
    return Fail(absl::NotFoundError(
        absl::StrCat("--model: ", model.status().message())));
  }
  absl::StatusOr<std::unique_ptr<OperatorModel>> cost =
      OperatorModel::Create(**model, **chip, tp, /*pp=*/1, options);
  if (!cost.ok()) return Fail(cost.status());

  const IterationBreakdown breakdown = (*cost)->Explain(batch);
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(model_name, chip_name, tp, accounting, batch, breakdown);
  } else {
    PrintTable(model_name, chip_name, tp, batch, breakdown);
  }
  return 0;
}

}  // namespace

FLEETSIM_REGISTER_COMMAND(
    "estimate",
    "estimate --model M --chip C [--tp T] [--prefill TOKENS[:CACHED],..] "
    "[--decode N@CTX,..] [--accounting vllm|llmcompass] [--json]",
    RunEstimate);

}  // namespace fleetsim::cli
