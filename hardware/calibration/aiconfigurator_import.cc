#include "hardware/calibration/aiconfigurator_import.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "hardware/calibration/calibration_table.h"
#include "util/gzip_file.h"
#include "util/header_csv.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::hardware {
namespace {

// DeepSeek-V3's MLA dimensions, which aiconfigurator's MLA collectors
// hard-code (collector/trtllm/collect_mla.py, collect_mla_bmm.py).
constexpr int kMlaLatentDim = 512;  // kv_lora_rank
constexpr int kMlaNopeDim = 128;    // qk_nope_head_dim
constexpr int kMlaRopeDim = 64;     // qk_rope_head_dim
constexpr int kMlaVHeadDim = 128;   // v_head_dim

bool Has(const std::vector<std::string>& columns, absl::string_view name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// One data line of the source, its cells read by column name (errors
// located by HeaderCsv).
class Line {
 public:
  Line(const HeaderCsv& csv, const HeaderCsv::Line& line)
      : csv_(csv), line_(line) {}

  absl::StatusOr<std::string> Text(const std::string& column) const {
    return csv_.String(line_, column);
  }
  std::string TextOr(const std::string& column,
                     const std::string& fallback) const {
    return csv_.StringOr(line_, column, fallback);
  }
  absl::StatusOr<int64_t> Int(const std::string& column) const {
    return csv_.Int(line_, column);
  }
  absl::StatusOr<int64_t> IntOr(const std::string& column,
                                int64_t fallback) const {
    if (!csv_.Has(column)) return fallback;
    return csv_.Int(line_, column);
  }
  absl::StatusOr<double> Number(const std::string& column) const {
    return csv_.Double(line_, column);
  }
  absl::Status Error(const std::string& column, absl::string_view what) const {
    return csv_.CellError(line_, column, what);
  }
  int number() const { return line_.number; }

 private:
  const HeaderCsv& csv_;
  const HeaderCsv::Line& line_;
};

// A dtype cell -> fleetsim dtype and the quant name worth keeping, or the
// reason the row is dropped.
struct DtypeChoice {
  v1::Dtype dtype = v1::DTYPE_UNSPECIFIED;
  std::string quant;
  std::string drop_reason;
};

DtypeChoice ChooseDtype(absl::string_view column, absl::string_view raw) {
  const std::string text = absl::AsciiStrToLower(raw);
  DtypeChoice c;
  if (text == "bfloat16" || text == "bf16") {
    c.dtype = v1::DTYPE_BF16;
  } else if (text == "float16" || text == "half" || text == "fp16") {
    c.dtype = v1::DTYPE_FP16;
  } else if (text == "fp8" || text == "float8" || text == "fp8_e4m3") {
    c.dtype = v1::DTYPE_FP8;
  } else if (text == "fp8_block") {
    c.dtype = v1::DTYPE_FP8;
    c.quant = text;
  } else if (text == "nvfp4" || text == "fp4") {
    c.dtype = v1::DTYPE_FP4;
    c.quant = text;
  } else {
    c.drop_reason = absl::StrCat(
        column, " '", raw,
        "': no fleetsim dtype for it (integer or weight-only quantisation)");
  }
  return c;
}

// Framework names as the rows carry them: lower case, "trtllm".
std::string NormaliseFramework(absl::string_view raw) {
  return absl::AsciiStrToLower(raw);
}

// "balanced" / "power_law_1.01" -> routing and alpha.
absl::Status ParseRouting(const Line& line, v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string text, line.Text("distribution"));
  if (text == "balanced" || text == "uniform") {
    row->set_routing("balanced");
    return absl::OkStatus();
  }
  absl::string_view rest = text;
  double alpha = 0;
  if (absl::ConsumePrefix(&rest, "power_law_") &&
      absl::SimpleAtod(rest, &alpha) && alpha > 0) {
    row->set_routing("power_law");
    row->set_routing_alpha(alpha);
    return absl::OkStatus();
  }
  return line.Error(
      "distribution",
      absl::StrCat("'", text,
                   "' is neither 'balanced' nor 'power_law_<alpha>'"));
}

int DtypeBytes(v1::Dtype dtype) { return dtype == v1::DTYPE_FP8 ? 1 : 2; }

// The columns of context_attention / generation_attention rows (GQA, MHA;
// windows), with the known-bad decode check against the chip's memory
// bandwidth.
absl::StatusOr<std::string> ReadAttentionColumns(const Line& line,
                                                 const v1::Chip& chip,
                                                 double seconds,
                                                 v1::CalibrationRow* row) {
  const double bandwidth = chip.memory_bandwidth_tbps() * 1e12;
  FLEETSIM_ASSIGN_OR_RETURN(std::string op_name, line.Text("op_name"));
  const bool prefill = op_name == "context_attention";
  if (!prefill && op_name != "generation_attention") {
    return line.Error("op_name",
                      absl::StrCat("'", op_name,
                                   "' is neither context_attention nor "
                                   "generation_attention"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(int64_t beam, line.IntOr("beam_width", 1));
  if (beam > 1) {
    return std::string("beam_width > 1 (beam search)");
  }
  FLEETSIM_ASSIGN_OR_RETURN(std::string attn_dtype, line.Text("attn_dtype"));
  FLEETSIM_ASSIGN_OR_RETURN(std::string kv_dtype, line.Text("kv_cache_dtype"));
  DtypeChoice a = ChooseDtype("attn_dtype", attn_dtype);
  DtypeChoice kv = ChooseDtype("kv_cache_dtype", kv_dtype);
  if (!a.drop_reason.empty() || !kv.drop_reason.empty()) {
    return std::string(a.drop_reason.empty() ? kv.drop_reason : a.drop_reason);
  }
  row->set_dtype(a.dtype);
  row->set_kv_dtype(kv.dtype);
  FLEETSIM_ASSIGN_OR_RETURN(int64_t batch, line.Int("batch_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t isl, line.Int("isl"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t step, line.Int("step"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t heads, line.Int("num_heads"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t kv_heads, line.Int("num_key_value_heads"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t head_dim, line.Int("head_dim"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t window, line.IntOr("window_size", 0));
  row->set_op(prefill ? "attn_prefill" : "attn_decode");
  row->set_op_class(prefill ? v1::OPERATOR_CLASS_ATTENTION_PREFILL
                            : v1::OPERATOR_CLASS_ATTENTION_DECODE);
  row->set_batch(batch);
  row->set_heads(static_cast<int32_t>(heads));
  row->set_kv_heads(static_cast<int32_t>(kv_heads));
  row->set_head_dim(static_cast<int32_t>(head_dim));
  row->set_window_tokens(window);
  if (prefill) {
    row->set_new_tokens(isl);
    row->set_context_tokens(step);
    row->set_tokens(batch * isl);
  } else {
    row->set_new_tokens(1);
    row->set_context_tokens(step);
    row->set_tokens(batch);
    // Known-bad check: the K/V rows every request reads (cached + new,
    // within the window) cannot stream faster than the chip's memory.
    const double rows_read =
        window > 0 ? std::min<double>(step + 1, window) : step + 1.0;
    const double kv_bytes =
        2.0 * batch * rows_read * kv_heads * head_dim * DtypeBytes(kv.dtype);
    if (bandwidth > 0 && kv_bytes / seconds > bandwidth) {
      return std::string(absl::StrFormat(
          "decode reads its KV cache faster than %s's %.2f TB/s (known "
          "bad in the source; shared dummy KV blocks)",
          chip.name(), chip.memory_bandwidth_tbps()));
    }
  }
  return std::string();
}

// The columns of GEMM rows (m, n, k).
absl::StatusOr<std::string> ReadGemmColumns(const Line& line,
                                            v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string dtype, line.Text("gemm_dtype"));
  DtypeChoice d = ChooseDtype("gemm_dtype", dtype);
  if (!d.drop_reason.empty()) {
    return std::string(d.drop_reason);
  }
  row->set_op("gemm");
  row->set_op_class(v1::OPERATOR_CLASS_GEMM);
  row->set_dtype(d.dtype);
  row->set_quant(d.quant);
  FLEETSIM_ASSIGN_OR_RETURN(int64_t m, line.Int("m"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t n, line.Int("n"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t k, line.Int("k"));
  row->set_m(m);
  row->set_n(n);
  row->set_k(k);
  row->set_tokens(m);
  return std::string();
}

// The columns of NCCL collectives (`nccl`) and TRT-LLM's custom all-reduce.
absl::StatusOr<std::string> ReadAllReduceColumns(const Line& line, bool nccl,
                                                 v1::CalibrationRow* row) {
  const char* dtype_column = nccl ? "nccl_dtype" : "allreduce_dtype";
  FLEETSIM_ASSIGN_OR_RETURN(std::string dtype, line.Text(dtype_column));
  DtypeChoice d = ChooseDtype(dtype_column, dtype);
  if (!d.drop_reason.empty()) {
    return std::string(d.drop_reason);
  }
  std::string op = "all_reduce";
  if (nccl) {
    FLEETSIM_ASSIGN_OR_RETURN(op, line.Text("op_name"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(int64_t ranks, line.Int("num_gpus"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t elements, line.Int("message_size"));
  row->set_op(op);
  row->set_op_class(v1::OPERATOR_CLASS_COLLECTIVE);
  row->set_dtype(d.dtype);
  // message_size counts elements (aiconfigurator's nccl collector:
  // nccl-tests sizes divided by the element size).
  row->set_bytes(elements * DtypeBytes(d.dtype));
  row->set_ranks(static_cast<int32_t>(ranks));
  row->set_ranks_per_node(static_cast<int32_t>(ranks));
  return std::string();
}

// The columns of fused MoE rows (tokens, expert shapes, routing).
absl::StatusOr<std::string> ReadMoeColumns(const Line& line,
                                           v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string dtype, line.Text("moe_dtype"));
  DtypeChoice d = ChooseDtype("moe_dtype", dtype);
  if (!d.drop_reason.empty()) {
    return std::string(d.drop_reason);
  }
  row->set_op("moe");
  row->set_op_class(v1::OPERATOR_CLASS_MOE);
  row->set_dtype(d.dtype);
  row->set_quant(d.quant);
  FLEETSIM_ASSIGN_OR_RETURN(int64_t tokens, line.Int("num_tokens"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t hidden, line.Int("hidden_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t inter, line.Int("inter_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t topk, line.Int("topk"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t experts, line.Int("num_experts"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t moe_tp, line.Int("moe_tp_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t moe_ep, line.Int("moe_ep_size"));
  row->set_tokens(tokens);
  row->set_hidden(hidden);
  row->set_inter(inter);
  row->set_top_k(static_cast<int32_t>(topk));
  row->set_experts(static_cast<int32_t>(experts));
  row->set_moe_tp(static_cast<int32_t>(moe_tp));
  row->set_moe_ep(static_cast<int32_t>(moe_ep));
  FLEETSIM_RETURN_IF_ERROR(ParseRouting(line, row));
  return std::string();
}

// The columns of DeepSeek-V3 MLA attention: naive prefill, absorbed decode.
absl::StatusOr<std::string> ReadMlaColumns(const Line& line,
                                           v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string op_name, line.Text("op_name"));
  // TRT-LLM and SGLang name the ops mla_context / mla_generation, vLLM
  // context_mla / generation_mla.
  const bool prefill = op_name == "mla_context" || op_name == "context_mla";
  if (!prefill && op_name != "mla_generation" && op_name != "generation_mla") {
    return line.Error("op_name", absl::StrCat("'", op_name,
                                              "' is none of mla_context, "
                                              "context_mla, mla_generation, "
                                              "generation_mla"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(std::string dtype, line.Text("mla_dtype"));
  FLEETSIM_ASSIGN_OR_RETURN(std::string kv_dtype, line.Text("kv_cache_dtype"));
  DtypeChoice a = ChooseDtype("mla_dtype", dtype);
  DtypeChoice kv = ChooseDtype("kv_cache_dtype", kv_dtype);
  if (!a.drop_reason.empty() || !kv.drop_reason.empty()) {
    return std::string(a.drop_reason.empty() ? kv.drop_reason : a.drop_reason);
  }
  FLEETSIM_ASSIGN_OR_RETURN(int64_t heads, line.Int("num_heads"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t batch, line.Int("batch_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t isl, line.Int("isl"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t step, line.Int("step"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t tp, line.IntOr("tp_size", 1));
  row->set_op(prefill ? "mla_prefill" : "mla_decode");
  row->set_op_class(prefill ? v1::OPERATOR_CLASS_ATTENTION_PREFILL
                            : v1::OPERATOR_CLASS_ATTENTION_DECODE);
  row->set_dtype(a.dtype);
  row->set_kv_dtype(kv.dtype);
  row->set_tp(static_cast<int32_t>(tp));
  row->set_model("deepseek-ai/DeepSeek-V3");
  row->set_batch(batch);
  row->set_heads(static_cast<int32_t>(heads));
  row->set_head_dim(kMlaNopeDim);
  row->set_rope_dim(kMlaRopeDim);
  row->set_v_head_dim(kMlaVHeadDim);
  row->set_latent_dim(kMlaLatentDim);
  if (prefill) {
    // Naive form: every head has its own K and V (from the latent).
    row->set_kv_heads(static_cast<int32_t>(heads));
    row->set_new_tokens(isl);
    row->set_context_tokens(step);
    row->set_tokens(batch * isl);
  } else {
    row->set_kv_heads(1);
    row->set_absorbed(true);
    row->set_new_tokens(1);
    row->set_context_tokens(step);
    row->set_tokens(batch);
  }
  return std::string();
}

// The columns of MLA's per-head absorbed BMMs around decode attention.
absl::StatusOr<std::string> ReadMlaBmmColumns(const Line& line,
                                              v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string op_name, line.Text("op_name"));
  if (op_name != "mla_gen_pre" && op_name != "mla_gen_post") {
    return line.Error("op_name", absl::StrCat("'", op_name,
                                              "' is neither mla_gen_pre nor "
                                              "mla_gen_post"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(std::string dtype, line.Text("bmm_dtype"));
  DtypeChoice d = ChooseDtype("bmm_dtype", dtype);
  if (!d.drop_reason.empty()) {
    return std::string(d.drop_reason);
  }
  FLEETSIM_ASSIGN_OR_RETURN(int64_t tokens, line.Int("num_tokens"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t heads, line.Int("num_heads"));
  const bool pre = op_name == "mla_gen_pre";
  row->set_op(op_name);
  row->set_op_class(v1::OPERATOR_CLASS_GEMM);
  row->set_dtype(d.dtype);
  row->set_model("deepseek-ai/DeepSeek-V3");
  row->set_m(tokens);
  // Per head: q_nope (128) -> latent (512) before attention, latent
  // -> v_head (128) after it.
  row->set_n(pre ? kMlaLatentDim : kMlaVHeadDim);
  row->set_k(pre ? kMlaNopeDim : kMlaLatentDim);
  row->set_heads(static_cast<int32_t>(heads));
  row->set_tokens(tokens);
  return std::string();
}

// The columns of Mamba-2 chunked-scan prefill rows (generation rows are
// dropped).
absl::StatusOr<std::string> ReadMamba2Columns(const Line& line,
                                              v1::CalibrationRow* row) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string phase, line.Text("phase"));
  if (phase == "generation") {
    return std::string(
        "mamba2 generation: state updates stay cache-resident (~50 "
        "TB/s), not representative of serving (known bad in the "
        "source)");
  }
  if (phase != "context") {
    return line.Error("phase", absl::StrCat("'", phase,
                                            "' is neither context nor "
                                            "generation"));
  }
  FLEETSIM_ASSIGN_OR_RETURN(int64_t batch, line.Int("batch_size"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t seq, line.Int("seq_len"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t d_state, line.Int("d_state"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t d_conv, line.Int("d_conv"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t nheads, line.Int("nheads"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t head_dim, line.Int("head_dim"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t groups, line.Int("n_groups"));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t chunk, line.Int("chunk_size"));
  // The kernel the row times (collector/trtllm/collect_mamba2.py logs the
  // conv and the chunked scan as separate rows, by kernel_source); a row
  // naming neither is the pair.
  const std::string kernel = line.TextOr("kernel_source", "");
  row->set_op(kernel == "causal_conv1d_fn"            ? "ssm_conv"
              : kernel == "mamba_chunk_scan_combined" ? "ssm_scan_prefill"
                                                      : "ssm_prefill");
  row->set_op_class(v1::OPERATOR_CLASS_SSM);
  row->set_dtype(v1::DTYPE_BF16);  // the collector's inputs are bfloat16
  row->set_model(line.TextOr("model_name", ""));
  row->set_batch(batch);
  row->set_new_tokens(seq);
  row->set_tokens(batch * seq);
  row->set_heads(static_cast<int32_t>(nheads));
  row->set_head_dim(static_cast<int32_t>(head_dim));
  row->set_d_state(static_cast<int32_t>(d_state));
  row->set_ssm_groups(static_cast<int32_t>(groups));
  row->set_chunk(static_cast<int32_t>(chunk));
  row->set_conv_kernel(static_cast<int32_t>(d_conv));
  return std::string();
}

// The kind-specific columns of one row into `row`: "" when it is filled
// in, else the reason it is dropped. Errors: a bad cell, located.
absl::StatusOr<std::string> ReadKindColumns(AiconfiguratorTable kind,
                                            const Line& line,
                                            const v1::Chip& chip,
                                            double seconds,
                                            v1::CalibrationRow* row) {
  switch (kind) {
    case AiconfiguratorTable::kAttention:
      return ReadAttentionColumns(line, chip, seconds, row);
    case AiconfiguratorTable::kGemm:
      return ReadGemmColumns(line, row);
    case AiconfiguratorTable::kNccl:
    case AiconfiguratorTable::kCustomAllReduce:
      return ReadAllReduceColumns(line, kind == AiconfiguratorTable::kNccl,
                                  row);
    case AiconfiguratorTable::kMoe:
      return ReadMoeColumns(line, row);
    case AiconfiguratorTable::kMla:
      return ReadMlaColumns(line, row);
    case AiconfiguratorTable::kMlaBmm:
      return ReadMlaBmmColumns(line, row);
    case AiconfiguratorTable::kMamba2:
      return ReadMamba2Columns(line, row);
  }
  return std::string();
}

}  // namespace

const char* AiconfiguratorTableName(AiconfiguratorTable kind) {
  switch (kind) {
    case AiconfiguratorTable::kAttention:
      return "attention";
    case AiconfiguratorTable::kGemm:
      return "gemm";
    case AiconfiguratorTable::kNccl:
      return "nccl";
    case AiconfiguratorTable::kCustomAllReduce:
      return "custom_allreduce";
    case AiconfiguratorTable::kMoe:
      return "moe";
    case AiconfiguratorTable::kMla:
      return "mla";
    case AiconfiguratorTable::kMlaBmm:
      return "mla_bmm";
    case AiconfiguratorTable::kMamba2:
      return "mamba2";
  }
  return "unknown";
}

absl::StatusOr<AiconfiguratorTable> DetectAiconfiguratorTable(
    const std::vector<std::string>& c, const std::string& origin) {
  if (Has(c, "mla_dtype") && Has(c, "gemm_type")) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": an aiconfigurator MLA module table (projections and attention in "
        "one time) cannot be priced per operator; import context_mla_perf / "
        "generation_mla_perf instead"));
  }
  if (Has(c, "num_v_heads") || Has(c, "head_v_dim")) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": an aiconfigurator gated delta-net table (gdn_perf); fleetsim has "
        "no gated delta-net operator"));
  }
  if (Has(c, "num_key_value_heads") && Has(c, "isl") && Has(c, "step")) {
    return AiconfiguratorTable::kAttention;
  }
  if (Has(c, "gemm_dtype") && Has(c, "m") && Has(c, "n") && Has(c, "k")) {
    return AiconfiguratorTable::kGemm;
  }
  if (Has(c, "nccl_dtype") && Has(c, "num_gpus") && Has(c, "message_size")) {
    return AiconfiguratorTable::kNccl;
  }
  if (Has(c, "allreduce_dtype") && Has(c, "num_gpus")) {
    return AiconfiguratorTable::kCustomAllReduce;
  }
  if (Has(c, "moe_dtype") && Has(c, "num_experts")) {
    return AiconfiguratorTable::kMoe;
  }
  if (Has(c, "mla_dtype") && Has(c, "num_heads") && Has(c, "step")) {
    return AiconfiguratorTable::kMla;
  }
  if (Has(c, "bmm_dtype") && Has(c, "num_heads")) {
    return AiconfiguratorTable::kMlaBmm;
  }
  if (Has(c, "d_state") && Has(c, "chunk_size")) {
    return AiconfiguratorTable::kMamba2;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      origin, ": not an aiconfigurator table this importer knows (columns: ",
      absl::StrJoin(c, ","),
      "); known: attention, gemm, nccl, custom all-reduce, moe, mla, "
      "mla_bmm, mamba2"));
}

absl::StatusOr<AiconfiguratorImportResult> ImportAiconfiguratorCsv(
    absl::string_view text, const std::string& origin, const v1::Chip& chip,
    const AiconfiguratorImportOptions& options) {
  if (chip.name().empty()) {
    return absl::InvalidArgumentError("aiconfigurator import: chip not set");
  }
  AiconfiguratorImportResult result;
  FLEETSIM_ASSIGN_OR_RETURN(HeaderCsv csv, HeaderCsv::Parse(text, origin));
  FLEETSIM_ASSIGN_OR_RETURN(result.kind,
                            DetectAiconfiguratorTable(csv.header(), origin));
  for (const char* required : {"framework", "version", "latency"}) {
    FLEETSIM_RETURN_IF_ERROR(csv.Require(required).status());
  }
  std::map<std::string, int64_t> dropped;
  std::vector<std::string> drop_order;
  auto drop = [&](const std::string& reason) {
    if (dropped[reason]++ == 0) drop_order.push_back(reason);
  };
  std::set<std::string> frameworks, versions, devices, kernels;

  for (const HeaderCsv::Line& source_line : csv.lines()) {
    ++result.input_rows;
    const Line line(csv, source_line);
    v1::CalibrationRow row;
    row.set_chip(chip.name());
    FLEETSIM_ASSIGN_OR_RETURN(std::string framework, line.Text("framework"));
    FLEETSIM_ASSIGN_OR_RETURN(std::string version, line.Text("version"));
    // NCCL tables carry the collector's framework label with NCCL's own
    // version ("TRTLLM", "2.29.2"): the library is what was measured.
    row.set_framework(result.kind == AiconfiguratorTable::kNccl
                          ? "nccl"
                          : NormaliseFramework(framework));
    row.set_framework_version(version);
    row.set_kernel_source(line.TextOr("kernel_source", ""));
    FLEETSIM_ASSIGN_OR_RETURN(double latency_ms, line.Number("latency"));
    if (!(latency_ms > 0)) {
      drop("latency <= 0");
      continue;
    }
    const double seconds = MillisecondsToSeconds(latency_ms);
    row.set_median_s(seconds);  // the source's statistic is a mean

    FLEETSIM_ASSIGN_OR_RETURN(
        const std::string drop_reason,
        ReadKindColumns(result.kind, line, chip, seconds, &row));
    if (!drop_reason.empty()) {
      drop(drop_reason);
      continue;
    }
    absl::Status valid = ValidateCalibrationRow(row);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          AtLocation(origin, line.number(), std::string(valid.message())));
    }
    frameworks.insert(row.framework());
    versions.insert(version);
    devices.insert(line.TextOr("device", ""));
    if (!row.kernel_source().empty()) kernels.insert(row.kernel_source());
    *result.table.add_rows() = std::move(row);
  }
  for (const std::string& reason : drop_order) {
    result.dropped.push_back({reason, dropped[reason]});
  }
  if (result.table.rows_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": no row left to import (", result.input_rows,
                     " data rows read)"));
  }

  v1::CalibrationProvenance& p = *result.table.mutable_provenance();
  p.set_source("ai-dynamo/aiconfigurator");
  p.set_source_url("https://github.com/ai-dynamo/aiconfigurator");
  p.set_source_commit(options.source_commit);
  p.set_source_path(options.source_path.empty() ? origin : options.source_path);
  p.set_source_blob(options.source_blob);
  p.set_license(
      "Apache-2.0 (Copyright (c) 2025-2026 NVIDIA CORPORATION & AFFILIATES)");
  p.set_framework(absl::StrJoin(frameworks, ";"));
  p.set_framework_version(absl::StrJoin(versions, ";"));
  p.set_tool(absl::StrCat("kernel sources: ", absl::StrJoin(kernels, ";")));
  p.set_timing_method(
      "aiconfigurator collector: mean of timed CUDA-graph replays after "
      "warm-ups, inputs reused across replays (small working sets L2-warm), "
      "clocks locked to max application clocks; that mean is stored as "
      "median_s (ms -> s, 6 significant digits)");
  p.set_device_name(absl::StrJoin(devices, ";"));
  std::vector<std::string> notes = {
      absl::StrCat("aiconfigurator ", AiconfiguratorTableName(result.kind),
                   " table; shapes per GPU")};
  for (const DroppedRows& d : result.dropped) {
    notes.push_back(absl::StrCat("dropped ", d.rows, ": ", d.reason));
  }
  p.set_notes(absl::StrJoin(notes, "; "));
  return result;
}

absl::StatusOr<AiconfiguratorImportResult> ImportAiconfiguratorFile(
    const std::string& path, const v1::Chip& chip,
    const AiconfiguratorImportOptions& options) {
  FLEETSIM_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzippedFile(path));
  return ImportAiconfiguratorCsv(text, path, chip, options);
}

}  // namespace fleetsim::hardware
