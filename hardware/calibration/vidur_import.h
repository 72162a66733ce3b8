// File: hardware/calibration/vidur_import.h
//
// Imports Vidur's profiling CSVs (microsoft/vidur, data/profiling/, commit
// 7d47513363ec447a741ac5e47241580b47724fbf; the columns each layout needs
// are named below and in vidur_import.cc) into fleetsim calibration tables
// (proto/fleetsim/v1/calibration.proto). Vidur keys each measurement by model
// identity and token count; fleetsim wants explicit per-chip operator shapes,
// so the importer derives them from the model dimensions that every Vidur row
// carries in its own columns (n_head, n_kv_head, n_embd, n_expanded_embd,
// use_gated_mlp, num_tokens, num_tensor_parallel_workers): the model need
// not be in fleetsim's catalog. mlp.csv (every per-layer operator but
// attention, one time_stats.<op>.median column per op, milliseconds):
//
//   Vidur op         fleetsim op      class        shape (per chip)
//   attn_pre_proj    qkv_proj         GEMM         m=T, n=(q+2kv)*d, k=D
//   attn_post_proj   o_proj           GEMM         m=T, n=D, k=q*d
//   mlp_up_proj      mlp_up_proj      GEMM         m=T, n=g*F/tp, k=D
//   mlp_down_proj    mlp_down_proj    GEMM         m=T, n=D, k=F/tp
//   input_layernorm, post_attention_layernorm
//                    (same names)     NORM         elements=T*D, width=D
//   attn_rope        rope             ELEMENTWISE  elements=T*(q+kv)*d,
//                                                  width=d
//   mlp_act          mlp_act (g=2),   ELEMENTWISE  elements=T*F/tp,
//                    mlp_act_ungated               width=F/tp
//   add              residual_add     ELEMENTWISE  elements=T*D, width=D
//   emb              (skipped: not an iteration operator in fleetsim)
//
// with T = num_tokens, D = n_embd, d = D / n_head, q = n_head / tp,
// kv = max(1, n_kv_head / tp), F = n_expanded_embd, g = 2 if use_gated_mlp
// (else 1).
//
// Attention tables: is_prefill rows become attn_prefill (batch_size
// requests of prefill_chunk_size new tokens after kv_cache_size cached
// tokens), others attn_decode (batch_size requests, one new token each, with
// kv_cache_size cached tokens). Reshape/KV-save columns are not imported.
//
// Network tables (all_reduce.csv, send_recv.csv, and the legacy file that
// mixes all_gather rows in): one row per line, op = the `collective` cell,
// bytes = `size`. Vidur's profiler writes `size` as element count * 2, i.e.
// BYTES of fp16 data (collectives_wrapper.py: "size": self._size * 2); it is
// NOT an element count, and Vidur's own predictor converts it to tokens as
// size / (2 * n_embd). Reading it as elements would double every message.
//
// Vidur times are milliseconds; the importer converts to seconds, rounded to
// 6 significant digits (the source resolution is 1 microsecond).
#ifndef FLEETSIM_HARDWARE_CALIBRATION_VIDUR_IMPORT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_VIDUR_IMPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/calibration.pb.h"

namespace fleetsim::hardware {

// Which of Vidur's CSV layouts a file has.
enum class VidurFormat {
  kMlp,        // compute/<device>/<org>/<model>/mlp.csv
  kAttention,  // compute/<device>/<org>/<model>/attention.csv (or legacy)
  kNetwork,    // network/<node>/{all_reduce,send_recv}.csv
};

// Parses the --format names "vidur-mlp", "vidur-attention" and
// "vidur-allreduce" (also accepted: "vidur-network", "vidur-sendrecv", which
// read the same layout). InvalidArgument listing them otherwise.
absl::StatusOr<VidurFormat> ParseVidurFormat(absl::string_view name);

struct VidurImportOptions {
  // Chip catalog name written into every row ("h100"). Required.
  std::string chip;
  // Model id for the rows' informational `model` field. Empty: for mlp and
  // attention files, the two folders above the file
  // (".../meta-llama/Llama-2-7b-hf/mlp.csv" -> "meta-llama/Llama-2-7b-hf")
  // when the path has them; network rows have no model.
  std::string model;
  // Node type for provenance.host. Empty: for network files, the folder
  // holding the file ("h100_dgx").
  std::string host;
  // Thinning of Vidur's dense sweeps to keep shipped tables small. 0 keeps
  // every row. N > 0 keeps, along each swept axis (num_tokens; prefill chunk
  // and cached tokens; decode batch and context; message size), the
  // smallest grid value at or above each 2^(j/N), plus the axis minimum and
  // maximum: about N points per octave. Default 0; data/calibration/ uses 4.
  int points_per_octave = 0;
  // Provenance: commit of the Vidur repository the file came from and its
  // path there (default: the path given to ImportVidurFile).
  std::string source_commit;
  std::string source_path;
};

struct VidurImportResult {
  v1::CalibrationTable table;
  int64_t input_rows = 0;      // data lines read
  int64_t duplicate_rows = 0;  // repeated sweep points; the first is kept
  int64_t thinned_rows = 0;    // dropped by points_per_octave
  int64_t skipped_cells = 0;   // operator cells left empty in the source
};

// ImportVidurCsv()
//
// Converts Vidur CSV `text` of `format`; `origin` is the file name for
// errors and for deriving defaults (see VidurImportOptions).
// Errors: InvalidArgument "origin:line: column 'name': problem" for a
// missing column, an unparsable cell, or dimensions that do not shard
// (n_head not divisible by tp, n_embd not by n_head); InvalidArgument if
// options.chip is empty or the file has no data rows.
absl::StatusOr<VidurImportResult> ImportVidurCsv(
    VidurFormat format, absl::string_view text, const std::string& origin,
    const VidurImportOptions& options);

// ImportVidurFile()
//
// Reads `path` and imports it as above. NotFound if it cannot be opened.
absl::StatusOr<VidurImportResult> ImportVidurFile(
    VidurFormat format, const std::string& path,
    const VidurImportOptions& options);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_VIDUR_IMPORT_H_
