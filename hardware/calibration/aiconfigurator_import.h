// File: hardware/calibration/aiconfigurator_import.h
//
// Imports NVIDIA aiconfigurator's measured per-operator tables
// (github.com/ai-dynamo/aiconfigurator, aic-core/src/aiconfigurator_core/
// systems/data/<system>/<family>/<framework>/<version>/<table>.parquet,
// Apache-2.0) into fleetsim calibration tables
// (proto/fleetsim/v1/calibration.proto). The importer reads those tables as CSV
// (plain or gzip; a lossless parquet-to-CSV conversion with aiconfigurator's
// own column names), and tells the table's kind from its columns:
//
//   kind (columns that identify it)      fleetsim rows
//   attention (num_key_value_heads, isl, attn_prefill / attn_decode by the
//     step, attn_dtype)                  op_name (context_attention /
//                                        generation_attention): batch,
//                                        new_tokens = isl (prefill),
//                                        context_tokens = step (decode:
//                                        tokens already cached), heads,
//                                        kv_heads, head_dim, window_tokens
//   gemm (gemm_dtype, m, n, k)           gemm: x[m,k] . W[n,k]^T
//   nccl (nccl_dtype, num_gpus,          collective all_reduce, all_gather,
//     message_size)                      reduce_scatter, alltoall; bytes =
//                                        message_size (ELEMENTS) * dtype bytes
//   custom all-reduce (allreduce_dtype)  collective all_reduce (the
//                                        framework's own kernel)
//   moe (moe_dtype, num_experts, ...)    moe: tokens, hidden, inter,
//                                        experts, top_k, moe_tp, moe_ep,
//                                        routing (+ alpha)
//   mla (mla_dtype, no `model` column)   MLA attention core: prefill (naive:
//                                        heads K/V heads of 128 + 64, V 128)
//                                        or absorbed decode (one latent KV
//                                        head of 512 + 64)
//   mla_bmm (bmm_dtype, num_heads)       gemm rows with heads = per-head
//                                        products: mla_gen_pre m x 128 x 512,
//                                        mla_gen_post m x 512 x 128
//   mamba2 (d_state, chunk_size)         ssm_conv (kernel causal_conv1d_fn),
//                                        ssm_scan_prefill
//                                        (mamba_chunk_scan_combined), else
//                                        ssm_prefill (conv + chunked scan)
//
// The MLA and MLA-BMM dimensions are not in those tables: aiconfigurator's
// collector (collector/trtllm/collect_mla.py, collect_mla_bmm.py) measures
// DeepSeek-V3's attention (kv_lora_rank 512, qk_nope_head_dim 128,
// qk_rope_head_dim 64, v_head_dim 128), which the importer writes into
// every row. Shapes are per GPU as in the source (num_heads is already
// divided by the TP degree). Latencies are milliseconds (mean of timed
// CUDA-graph replays) and become seconds, rounded to 6 significant digits,
// stored as median_s (the one statistic the source has).
//
// Rows dropped, each counted under its reason (ImportResult::dropped):
//   - the known-bad subsets of the source (aiconfigurator's data has no
//     flag for them; physical checks find them): decode-attention rows whose
//     KV read implies more than the chip's memory bandwidth (A100 TRT-LLM
//     1.0.0 generation rows, probably shared dummy KV blocks), and Mamba-2
//     generation rows (state updates that stay in cache at ~50 TB/s);
//   - rows fleetsim has no dtype for: weight-only and integer quantisation
//     (int4_wo, int8_wo, sq, w4a8, w4a16_mxfp4, ...), fp16-only int8 NCCL;
//   - beam search (beam_width > 1).
// Tables fleetsim cannot price at all (MLA module, gated delta-net) are an
// error naming the table kind.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_AICONFIGURATOR_IMPORT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_AICONFIGURATOR_IMPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fleetsim/v1/calibration.pb.h"
#include "fleetsim/v1/chip.pb.h"

namespace fleetsim::hardware {

// The aiconfigurator table layouts the importer reads.
enum class AiconfiguratorTable {
  kAttention,
  kGemm,
  kNccl,
  kCustomAllReduce,
  kMoe,
  kMla,
  kMlaBmm,
  kMamba2,
};

// "attention", "gemm", ... for messages and provenance.
const char* AiconfiguratorTableName(AiconfiguratorTable kind);

// The table kind a header (column names) identifies. InvalidArgument naming
// `origin` for the MLA module and gated delta-net tables (not priceable) and
// for a header that is none of the known layouts.
absl::StatusOr<AiconfiguratorTable> DetectAiconfiguratorTable(
    const std::vector<std::string>& columns, const std::string& origin);

struct AiconfiguratorImportOptions {
  // Provenance: the upstream commit and path of the table and the git blob
  // SHA-1 of its parquet file (aiconfigurator has no CSVs; the blob
  // identifies the exact data). Empty = unknown.
  std::string source_commit;
  std::string source_path;
  std::string source_blob;
};

// Rows dropped for one reason.
struct DroppedRows {
  std::string reason;
  int64_t rows = 0;
};

struct AiconfiguratorImportResult {
  AiconfiguratorTable kind = AiconfiguratorTable::kAttention;
  v1::CalibrationTable table;
  int64_t input_rows = 0;            // data lines read
  std::vector<DroppedRows> dropped;  // in first-seen order
};

// ImportAiconfiguratorCsv()
//
// Converts CSV `text` (aiconfigurator's columns) measured on `chip` (the
// catalog entry: its name goes into every row, its memory bandwidth into
// the decode-attention check). `origin` names the source in errors.
// Errors: InvalidArgument "origin:line: column 'name': problem" for a
// missing column or an unparsable cell; as DetectAiconfiguratorTable for
// the header; InvalidArgument when no data row is left.
absl::StatusOr<AiconfiguratorImportResult> ImportAiconfiguratorCsv(
    absl::string_view text, const std::string& origin, const v1::Chip& chip,
    const AiconfiguratorImportOptions& options = {});

// Reads `path` (.csv or gzip'd .csv.gz) and imports it as above. NotFound
// if it cannot be opened; DataLoss for corrupt gzip data.
absl::StatusOr<AiconfiguratorImportResult> ImportAiconfiguratorFile(
    const std::string& path, const v1::Chip& chip,
    const AiconfiguratorImportOptions& options = {});

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_AICONFIGURATOR_IMPORT_H_
