#include "hardware/calibration/vidur_import.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hardware/calibration/calibration_table.h"
#include "util/header_csv.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::hardware {
namespace {

// Values kept on one swept axis by VidurImportOptions::points_per_octave.
class AxisThinner final {
 public:
  void Add(int64_t value) { values_.insert(value); }

  void Finish(int points_per_octave) {
    if (points_per_octave <= 0 || values_.empty()) {
      kept_ = values_;
      return;
    }
    int64_t lo = *values_.begin();
    int64_t hi = *values_.rbegin();
    kept_ = {lo, hi};
    for (int j = 0;; ++j) {
      double target = std::pow(2.0, static_cast<double>(j) / points_per_octave);
      if (target > static_cast<double>(hi)) break;
      auto it =
          values_.lower_bound(static_cast<int64_t>(std::ceil(target - 1e-9)));
      if (it != values_.end()) kept_.insert(*it);
    }
  }

  bool Keeps(int64_t value) const { return kept_.count(value) > 0; }

 private:
  std::set<int64_t> values_;
  std::set<int64_t> kept_;
};

// The two folders above `path`'s file: ".../org/model/mlp.csv" -> "org/model".
std::string ModelFromPath(const std::string& path) {
  std::filesystem::path p(path);
  std::filesystem::path model = p.parent_path().filename();
  std::filesystem::path org = p.parent_path().parent_path().filename();
  if (model.empty() || org.empty()) return "";
  return org.string() + "/" + model.string();
}

// Reads time_stats.<op>.{median,mean,min,max,std} (ms) into `row` (s).
// Returns false when the median cell is empty (op not measured on this line).
absl::StatusOr<bool> FillTimes(const HeaderCsv& csv,
                               const HeaderCsv::Line& line,
                               const std::string& op, v1::CalibrationRow* row) {
  const std::string prefix = "time_stats." + op + ".";
  FLEETSIM_ASSIGN_OR_RETURN(std::optional<double> median,
                            csv.OptionalDouble(line, prefix + "median"));
  if (!median.has_value()) return false;
  if (!(*median > 0)) {
    return csv.CellError(line, prefix + "median",
                         absl::StrCat("time must be > 0, got ", *median));
  }
  row->set_median_s(MillisecondsToSeconds(*median));
  struct Stat {
    const char* suffix;
    void (v1::CalibrationRow::*set)(double);
  };
  for (const Stat& stat : {Stat{"mean", &v1::CalibrationRow::set_mean_s},
                           Stat{"min", &v1::CalibrationRow::set_min_s},
                           Stat{"max", &v1::CalibrationRow::set_max_s},
                           Stat{"std", &v1::CalibrationRow::set_std_s}}) {
    if (!csv.Has(prefix + stat.suffix)) continue;
    FLEETSIM_ASSIGN_OR_RETURN(std::optional<double> value,
                              csv.OptionalDouble(line, prefix + stat.suffix));
    if (value.has_value())
      (row->*stat.set)(MillisecondsToSeconds(std::max(0.0, *value)));
  }
  return true;
}

// Per-chip head counts from a Vidur line's model columns.
struct HeadGeometry {
  int32_t q_heads;   // per chip
  int32_t kv_heads;  // per chip
  int32_t head_dim;
};

absl::StatusOr<HeadGeometry> Heads(const HeaderCsv& csv,
                                   const HeaderCsv::Line& line,
                                   const std::string& q_column, int64_t hidden,
                                   int64_t tp) {
  FLEETSIM_ASSIGN_OR_RETURN(int64_t q, csv.Int(line, q_column));
  FLEETSIM_ASSIGN_OR_RETURN(int64_t kv, csv.Int(line, "n_kv_head"));
  if (q <= 0 || kv <= 0 || kv > q) {
    return csv.CellError(line, "n_kv_head",
                         absl::StrCat("need 0 < n_kv_head <= ", q_column,
                                      ", got ", kv, " and ", q));
  }
  if (hidden <= 0 || hidden % q != 0) {
    return csv.CellError(
        line, "n_embd",
        absl::StrCat(hidden, " is not a multiple of ", q_column, " ", q));
  }
  if (tp <= 0 || q % tp != 0) {
    return csv.CellError(
        line, "num_tensor_parallel_workers",
        absl::StrCat("tp ", tp, " does not divide ", q_column, " ", q));
  }
  if (kv >= tp && kv % tp != 0) {
    return csv.CellError(
        line, "num_tensor_parallel_workers",
        absl::StrCat("tp ", tp, " does not divide n_kv_head ", kv));
  }
  // vLLM/Sarathi replicate K/V heads when tp > n_kv_head.
  return HeadGeometry{static_cast<int32_t>(q / tp),
                      static_cast<int32_t>(std::max<int64_t>(1, kv / tp)),
                      static_cast<int32_t>(hidden / q)};
}

v1::CalibrationRow BaseRow(const VidurImportOptions& options,
                           const std::string& model, int64_t tp,
                           int32_t samples) {
  v1::CalibrationRow row;
  row.set_dtype(v1::DTYPE_FP16);  // Vidur profiles in torch.float16
  row.set_chip(options.chip);
  row.set_tp(static_cast<int32_t>(tp));
  row.set_model(model);
  row.set_samples(samples);
  return row;
}

void SetProvenance(VidurFormat format, const std::string& origin,
                   const VidurImportOptions& options, const std::string& host,
                   v1::CalibrationProvenance* p) {
  p->set_source("microsoft/vidur");
  p->set_source_url("https://github.com/microsoft/vidur");
  p->set_source_commit(options.source_commit);
  p->set_source_path(options.source_path.empty() ? origin
                                                 : options.source_path);
  p->set_license("MIT (Copyright (c) Microsoft Corporation)");
  p->set_device_name(options.chip + " (as profiled by Vidur)");
  p->set_host(host);
  std::string thinning =
      options.points_per_octave > 0
          ? absl::StrCat("sweep thinned to ~", options.points_per_octave,
                         " points per octave by fleetsim's importer")
          : "every source row kept";
  switch (format) {
    case VidurFormat::kMlp:
      p->set_tool(
          "vidur profiler (sarathi model code, torch fp16), per-op CUDA timer");
      p->set_timing_method(
          "statistics over 20 active iterations after 2 warm-up "
          "(vidur/profiling/mlp/mlp_wrapper.py); one transformer layer, per "
          "GPU");
      break;
    case VidurFormat::kAttention:
      p->set_tool(
          "vidur profiler, attention backend as in the attention_backend "
          "column");
      p->set_timing_method(
          "statistics over 5 active iterations after 2 warm-up; per layer, per "
          "GPU");
      break;
    case VidurFormat::kNetwork:
      p->set_tool("vidur profiler: torch.distributed (NCCL), kineto timing");
      p->set_timing_method(
          "statistics over 3 active steps, each the median of 11 back-to-back "
          "launches (vidur/profiling/collectives/collectives_wrapper.py)");
      break;
  }
  p->set_notes(absl::StrCat(
      "imported by `fleetsim calibrate import` "
      "(hardware/calibration/vidur_import.h); "
      "Vidur milliseconds converted to seconds (6 significant digits); shapes "
      "derived from each row's "
      "model columns and are per chip; ",
      thinning));
}

absl::Status ImportMlp(const HeaderCsv& csv, const VidurImportOptions& options,
                       const std::string& model, VidurImportResult* result) {
  AxisThinner tokens_axis;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(int64_t tokens, csv.Int(line, "num_tokens"));
    tokens_axis.Add(tokens);
  }
  tokens_axis.Finish(options.points_per_octave);
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(int64_t tokens, csv.Int(line, "num_tokens"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t tp,
                              csv.Int(line, "num_tensor_parallel_workers"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t hidden, csv.Int(line, "n_embd"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t ffn, csv.Int(line, "n_expanded_embd"));
    FLEETSIM_ASSIGN_OR_RETURN(bool gated, csv.Bool(line, "use_gated_mlp"));
    FLEETSIM_ASSIGN_OR_RETURN(HeadGeometry g,
                              Heads(csv, line, "n_head", hidden, tp));
    if (tokens <= 0) {
      return csv.CellError(line, "num_tokens",
                           absl::StrCat("must be > 0, got ", tokens));
    }
    if (ffn <= 0 || ffn % tp != 0) {
      return csv.CellError(
          line, "n_expanded_embd",
          absl::StrCat(ffn, " is not a positive multiple of tp ", tp));
    }
    if (!seen.insert({tokens, tp}).second) {
      ++result->duplicate_rows;
      continue;
    }
    if (!tokens_axis.Keeps(tokens)) {
      ++result->thinned_rows;
      continue;
    }
    const int64_t ffn_per_chip = ffn / tp;
    const int64_t q_width = int64_t{g.q_heads} * g.head_dim;
    const int64_t kv_width = int64_t{g.kv_heads} * g.head_dim;
    struct Op {
      const char* vidur;
      const char* name;
      v1::OperatorClass op_class;
      int64_t m, n, k, elements, width;
    };
    const Op ops[] = {
        {"input_layernorm", "input_layernorm", v1::OPERATOR_CLASS_NORM, 0, 0, 0,
         tokens * hidden, hidden},
        {"attn_pre_proj", "qkv_proj", v1::OPERATOR_CLASS_GEMM, tokens,
         q_width + 2 * kv_width, hidden, 0, 0},
        {"attn_rope", "rope", v1::OPERATOR_CLASS_ELEMENTWISE, 0, 0, 0,
         tokens * (q_width + kv_width), g.head_dim},
        {"attn_post_proj", "o_proj", v1::OPERATOR_CLASS_GEMM, tokens, hidden,
         q_width, 0, 0},
        {"post_attention_layernorm", "post_attention_layernorm",
         v1::OPERATOR_CLASS_NORM, 0, 0, 0, tokens * hidden, hidden},
        {"mlp_up_proj", "mlp_up_proj", v1::OPERATOR_CLASS_GEMM, tokens,
         (gated ? 2 : 1) * ffn_per_chip, hidden, 0, 0},
        {"mlp_act", gated ? "mlp_act" : "mlp_act_ungated",
         v1::OPERATOR_CLASS_ELEMENTWISE, 0, 0, 0, tokens * ffn_per_chip,
         ffn_per_chip},
        {"mlp_down_proj", "mlp_down_proj", v1::OPERATOR_CLASS_GEMM, tokens,
         hidden, ffn_per_chip, 0, 0},
        {"add", "residual_add", v1::OPERATOR_CLASS_ELEMENTWISE, 0, 0, 0,
         tokens * hidden, hidden},
    };
    for (const Op& op : ops) {
      if (!csv.Has(absl::StrCat("time_stats.", op.vidur, ".median"))) continue;
      v1::CalibrationRow row = BaseRow(options, model, tp, 20);
      row.set_op(op.name);
      row.set_op_class(op.op_class);
      row.set_m(op.m);
      row.set_n(op.n);
      row.set_k(op.k);
      row.set_elements(op.elements);
      row.set_width(op.width);
      row.set_tokens(tokens);
      FLEETSIM_ASSIGN_OR_RETURN(bool measured,
                                FillTimes(csv, line, op.vidur, &row));
      if (!measured) {
        ++result->skipped_cells;
        continue;
      }
      *result->table.add_rows() = std::move(row);
    }
  }
  return absl::OkStatus();
}

absl::Status ImportAttention(const HeaderCsv& csv,
                             const VidurImportOptions& options,
                             const std::string& model,
                             VidurImportResult* result) {
  // Prefill axes: new tokens, cached tokens. Decode axes: batch, context.
  AxisThinner chunk_axis, prefill_kv_axis, batch_axis, decode_kv_axis;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(bool prefill, csv.Bool(line, "is_prefill"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t kv, csv.Int(line, "kv_cache_size"));
    if (prefill) {
      FLEETSIM_ASSIGN_OR_RETURN(int64_t chunk,
                                csv.Int(line, "prefill_chunk_size"));
      chunk_axis.Add(chunk);
      prefill_kv_axis.Add(kv);
    } else {
      FLEETSIM_ASSIGN_OR_RETURN(int64_t batch, csv.Int(line, "batch_size"));
      batch_axis.Add(batch);
      decode_kv_axis.Add(kv);
    }
  }
  for (AxisThinner* axis :
       {&chunk_axis, &prefill_kv_axis, &batch_axis, &decode_kv_axis}) {
    axis->Finish(options.points_per_octave);
  }
  std::set<std::vector<int64_t>> seen;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(bool prefill, csv.Bool(line, "is_prefill"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t tp,
                              csv.Int(line, "num_tensor_parallel_workers"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t hidden, csv.Int(line, "n_embd"));
    FLEETSIM_ASSIGN_OR_RETURN(HeadGeometry g,
                              Heads(csv, line, "n_q_head", hidden, tp));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t batch, csv.Int(line, "batch_size"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t chunk,
                              csv.Int(line, "prefill_chunk_size"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t kv, csv.Int(line, "kv_cache_size"));
    if (batch <= 0) {
      return csv.CellError(line, "batch_size",
                           absl::StrCat("must be > 0, got ", batch));
    }
    if (kv < 0) {
      return csv.CellError(line, "kv_cache_size",
                           absl::StrCat("must be >= 0, got ", kv));
    }
    if (prefill && chunk <= 0) {
      return csv.CellError(
          line, "prefill_chunk_size",
          absl::StrCat("must be > 0 on a prefill row, got ", chunk));
    }
    if (!prefill && kv <= 0) {
      return csv.CellError(
          line, "kv_cache_size",
          absl::StrCat("must be > 0 on a decode row, got ", kv));
    }
    if (!seen.insert({prefill ? 1 : 0, tp, batch, chunk, kv, hidden, g.q_heads,
                      g.kv_heads})
             .second) {
      ++result->duplicate_rows;
      continue;
    }
    bool keep = prefill ? chunk_axis.Keeps(chunk) && prefill_kv_axis.Keeps(kv)
                        : batch_axis.Keeps(batch) && decode_kv_axis.Keeps(kv);
    if (!keep) {
      ++result->thinned_rows;
      continue;
    }
    v1::CalibrationRow row = BaseRow(options, model, tp, 5);
    row.set_op(prefill ? "attn_prefill" : "attn_decode");
    row.set_op_class(prefill ? v1::OPERATOR_CLASS_ATTENTION_PREFILL
                             : v1::OPERATOR_CLASS_ATTENTION_DECODE);
    row.set_batch(batch);
    row.set_new_tokens(prefill ? chunk : 1);
    row.set_context_tokens(kv);
    row.set_heads(g.q_heads);
    row.set_kv_heads(g.kv_heads);
    row.set_head_dim(g.head_dim);
    row.set_tokens(prefill ? batch * chunk : batch);
    FLEETSIM_ASSIGN_OR_RETURN(
        bool measured,
        FillTimes(csv, line, prefill ? "attn_prefill" : "attn_decode", &row));
    if (!measured) {
      ++result->skipped_cells;
      continue;
    }
    *result->table.add_rows() = std::move(row);
  }
  return absl::OkStatus();
}

absl::Status ImportNetwork(const HeaderCsv& csv,
                           const VidurImportOptions& options,
                           VidurImportResult* result) {
  AxisThinner size_axis;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(int64_t size, csv.Int(line, "size"));
    size_axis.Add(size);
  }
  size_axis.Finish(options.points_per_octave);
  std::set<std::tuple<std::string, int64_t, int64_t, int64_t>> seen;
  for (const auto& line : csv.lines()) {
    FLEETSIM_ASSIGN_OR_RETURN(std::string collective,
                              csv.String(line, "collective"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t size, csv.Int(line, "size"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t ranks, csv.Int(line, "num_workers"));
    FLEETSIM_ASSIGN_OR_RETURN(int64_t per_node,
                              csv.Int(line, "devices_per_node"));
    if (collective.empty())
      return csv.CellError(line, "collective", "is empty");
    if (size <= 0) {
      return csv.CellError(line, "size",
                           absl::StrCat("must be > 0 bytes, got ", size));
    }
    if (ranks <= 0 || per_node <= 0 || per_node > ranks) {
      return csv.CellError(
          line, "devices_per_node",
          absl::StrCat("need 0 < devices_per_node <= num_workers, got ",
                       per_node, " and ", ranks));
    }
    if (!seen.insert({collective, ranks, per_node, size}).second) {
      ++result->duplicate_rows;
      continue;
    }
    if (!size_axis.Keeps(size)) {
      ++result->thinned_rows;
      continue;
    }
    // tp 0: a collective is not tied to one model's sharding.
    v1::CalibrationRow row = BaseRow(options, "", 0, 3);
    row.set_op(collective);
    row.set_op_class(v1::OPERATOR_CLASS_COLLECTIVE);
    row.set_bytes(size);  // already bytes: see the header comment
    row.set_ranks(static_cast<int32_t>(ranks));
    row.set_ranks_per_node(static_cast<int32_t>(per_node));
    FLEETSIM_ASSIGN_OR_RETURN(bool measured,
                              FillTimes(csv, line, collective, &row));
    if (!measured) {
      ++result->skipped_cells;
      continue;
    }
    *result->table.add_rows() = std::move(row);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VidurFormat> ParseVidurFormat(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "vidur-mlp") return VidurFormat::kMlp;
  if (lower == "vidur-attention") return VidurFormat::kAttention;
  if (lower == "vidur-allreduce" || lower == "vidur-network" ||
      lower == "vidur-sendrecv") {
    return VidurFormat::kNetwork;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown Vidur format '", name,
                   "' (known: vidur-mlp, vidur-attention, vidur-allreduce)"));
}

absl::StatusOr<VidurImportResult> ImportVidurCsv(
    VidurFormat format, absl::string_view text, const std::string& origin,
    const VidurImportOptions& options) {
  if (options.chip.empty()) {
    return absl::InvalidArgumentError(
        "Vidur import needs a chip name (--chip)");
  }
  FLEETSIM_ASSIGN_OR_RETURN(HeaderCsv csv, HeaderCsv::Parse(text, origin));
  VidurImportResult result;
  result.input_rows = static_cast<int64_t>(csv.lines().size());
  std::string model = options.model;
  if (model.empty() && format != VidurFormat::kNetwork)
    model = ModelFromPath(origin);
  std::string host = options.host;
  if (host.empty() && format == VidurFormat::kNetwork) {
    host = std::filesystem::path(origin).parent_path().filename().string();
  }
  SetProvenance(format, origin, options, host,
                result.table.mutable_provenance());
  switch (format) {
    case VidurFormat::kMlp:
      FLEETSIM_RETURN_IF_ERROR(ImportMlp(csv, options, model, &result));
      break;
    case VidurFormat::kAttention:
      FLEETSIM_RETURN_IF_ERROR(ImportAttention(csv, options, model, &result));
      break;
    case VidurFormat::kNetwork:
      FLEETSIM_RETURN_IF_ERROR(ImportNetwork(csv, options, &result));
      break;
  }
  for (const v1::CalibrationRow& row : result.table.rows()) {
    absl::Status status = ValidateCalibrationRow(row);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat(origin, ": imported row invalid: ", status.message()));
    }
  }
  return result;
}

absl::StatusOr<VidurImportResult> ImportVidurFile(
    VidurFormat format, const std::string& path,
    const VidurImportOptions& options) {
  std::string text;
  FLEETSIM_RETURN_IF_ERROR(ReadFileToString(path, &text));
  return ImportVidurCsv(format, text, path, options);
}

}  // namespace fleetsim::hardware
