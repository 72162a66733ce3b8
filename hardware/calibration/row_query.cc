#include "hardware/calibration/row_query.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/moe_routing.h"
#include "hardware/operator_options.h"
#include "hardware/ops/elementwise_op.h"

namespace fleetsim::hardware {

// This function is long: it is the one mapping from a measured row's columns
// to the query the pricer reads, one case per operator class; split by class,
// the shared fields (precision, MLA, window) would be read in several places.
absl::StatusOr<OperatorQuery> QueryFromRow(const v1::CalibrationRow& row) {
  OperatorQuery q;
  q.name = row.op();
  q.op_class = row.op_class();
  q.tp = std::max(row.tp(), 1);
  if (row.dtype() == v1::DTYPE_FP4 || row.kv_dtype() == v1::DTYPE_FP4) {
    return absl::InvalidArgumentError(
        "fp4 rows cannot be priced yet (FP4 is priced only as a pool's FFN "
        "weights; no FP4 kernel is calibrated)");
  }
  const double b = row.dtype() == v1::DTYPE_FP8 ? 1 : 2;
  q.weight_bytes = b;
  q.kv_bytes = row.kv_dtype() == v1::DTYPE_UNSPECIFIED ? b
               : row.kv_dtype() == v1::DTYPE_FP8       ? 1
                                                       : 2;
  // MLA: the cached latent is the compressed KV plus the rope key; prefill
  // runs the naive form (head_dim = nope + rope, value width v_head_dim),
  // absorbed decode MQA over the latent (hardware/ops/attention_op.h).
  const int latent = row.latent_dim() + row.rope_dim();
  const bool mla = row.latent_dim() > 0;
  auto set_heads = [&row, &q, latent, mla] {
    q.heads = row.heads();
    q.kv_heads = row.kv_heads();
    q.head_dim = row.head_dim();
    if (!mla) return;
    q.latent_dim = latent;
    if (row.absorbed()) {
      q.kv_heads = 1;
      q.head_dim = latent;
      q.v_head_dim = row.latent_dim();
    } else {
      q.kv_heads = row.heads();
      q.head_dim = row.head_dim() + row.rope_dim();
      q.v_head_dim = row.v_head_dim();
    }
  };
  const OperatorModelOptions defaults;
  // Sliding window: each query sees at most `w` keys (0 = unlimited).
  const double w = row.window_tokens() > 0
                       ? static_cast<double>(row.window_tokens())
                       : std::numeric_limits<double>::infinity();
  switch (row.op_class()) {
    case v1::OPERATOR_CLASS_GEMM:
      q.m = row.m();
      q.n = row.n();
      q.k = row.k();
      q.heads = row.heads();  // > 0: one product per head (MLA BMM)
      return q;
    case v1::OPERATOR_CLASS_ATTENTION_PREFILL: {
      const double t = static_cast<double>(row.new_tokens());
      const double l = static_cast<double>(row.context_tokens());
      const double batch = static_cast<double>(row.batch());
      // Query i (1..t) sees min(l + i, w) keys.
      const double full = std::clamp(w - l, 0.0, t);  // queries under w
      const double pairs_per_request =
          full * l + full * (full + 1) / 2.0 + (t - full) * std::min(w, l + t);
      q.requests = row.batch();
      q.new_tokens = row.batch() * row.new_tokens();
      q.context_tokens = row.batch() * static_cast<int64_t>(std::min(l, w) + t);
      q.attention_pairs = batch * pairs_per_request;
      set_heads();
      return q;
    }
    case v1::OPERATOR_CLASS_ATTENTION_DECODE:
      // Rows store cached tokens per request; the query sums K/V rows read
      // (cached + the new token, within the window) over requests, as
      // BatchShape does.
      q.requests = row.batch();
      q.new_tokens = row.batch();
      q.context_tokens =
          row.batch() * static_cast<int64_t>(std::min(
                            static_cast<double>(row.context_tokens() + 1), w));
      set_heads();
      return q;
    case v1::OPERATOR_CLASS_NORM:
    case v1::OPERATOR_CLASS_ELEMENTWISE: {
      // The kernel the row measures, as the cost model prices it
      // (hardware/ops/elementwise_op.h).
      absl::StatusOr<RowKernel> kernel =
          RowKernelForCalibrationOp(row.op(), row.op_class(), defaults);
      if (!kernel.ok()) return kernel.status();
      q.elements = row.elements();
      q.width = row.width();
      q.io_rows = kernel->io_rows;
      q.vector_flops_per_element = kernel->vector_flops_per_element;
      if (row.op_class() == v1::OPERATOR_CLASS_ELEMENTWISE &&
          NamedOperatorIndex(row.op()) ==
              static_cast<int>(NamedOperator::kRope) &&
          row.tokens() > 0 && row.elements() % row.tokens() == 0) {
        // Vidur's rotary rows have width = head_dim; a row of the cost
        // model is one token over all Q and K heads, which the wave term
        // counts. `tokens` recovers it.
        q.width = row.elements() / row.tokens();
      }
      return q;
    }
    case v1::OPERATOR_CLASS_MOE: {
      // The routed experts of one layer on the measured rank (gemm_op.h
      // MoeExpertsCost: gate, up and down per expert) of width inter /
      // moe_tp: the (token, expert) pairs that rank computes, counted as
      // rows of one pair each, over the distinct experts they touch
      // (moe_routing.h: balanced routing spreads N top_k / moe_ep pairs
      // evenly; power-law routing times the most loaded rank). Every pair
      // of the layer is moe_layer_pairs / rows (kernels that scan them all
      // on every rank).
      const int ep = std::max(row.moe_ep(), 1);
      const int tp_moe = std::max(row.moe_tp(), 1);
      if (row.experts() < ep || row.top_k() < 1 || row.hidden() <= 0 ||
          row.inter() < tp_moe || row.tokens() < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "moe row needs experts >= moe_ep, top_k >= 1, hidden > 0, "
            "tokens > 0 and inter >= moe_tp (got experts ",
            row.experts(), ", moe_ep ", ep, ", top_k ", row.top_k(),
            ", hidden ", row.hidden(), ", tokens ", row.tokens(), ", inter ",
            row.inter(), ", moe_tp ", tp_moe, ")"));
      }
      RankLoad load;
      if (row.routing() == "power_law") {
        if (!(row.routing_alpha() > 0) || row.routing_alpha() == 1) {
          return absl::InvalidArgumentError(absl::StrCat(
              "moe row with power_law routing needs routing_alpha > 0 and "
              "!= 1 (got ",
              row.routing_alpha(), ")"));
        }
        load = PowerLawRankLoad(row.tokens(), row.experts(), row.top_k(), ep,
                                row.routing_alpha());
      } else {
        load = BalancedRankLoad(row.tokens(), row.experts(), row.top_k(), ep);
      }
      q.m = std::max<int64_t>(1, std::llround(load.pairs));
      q.experts = std::max(1, static_cast<int>(std::lround(load.experts)));
      q.top_k = 1;
      q.moe_spread = true;
      q.moe_layer_pairs = static_cast<double>(row.tokens()) * row.top_k() /
                          static_cast<double>(q.m);
      q.k = row.hidden();
      q.n = row.inter() / tp_moe;
      return q;
    }
    case v1::OPERATOR_CLASS_SSM: {
      // Mamba-2 kernels of one prefill call (ssm_op.h): `batch` prompts of
      // `new_tokens` tokens each, the inner width heads x head_dim, B/C
      // groups and chunk as measured. (The conv and the scan together,
      // "ssm_prefill", and decode steps have no single kernel to price.)
      if (row.op() != "ssm_conv" && row.op() != "ssm_scan_prefill") break;
      if (row.heads() <= 0 || row.head_dim() <= 0 || row.d_state() <= 0 ||
          row.batch() <= 0 || row.new_tokens() <= 0 ||
          (row.op() == "ssm_conv" && row.conv_kernel() <= 0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ssm row '", row.op(),
            "' needs heads, head_dim, d_state, batch, new_tokens (and "
            "conv_kernel for ssm_conv) > 0"));
      }
      q.width = static_cast<int64_t>(row.heads()) * row.head_dim();
      q.d_state = row.d_state();
      q.ssm_head_dim = row.head_dim();
      q.ssm_groups = row.ssm_groups();
      q.ssm_chunk = row.chunk();
      q.conv_kernel = row.conv_kernel();
      q.new_tokens = row.batch() * row.new_tokens();
      if (row.op() == "ssm_conv") {
        q.prefill_requests = row.batch();  // prompts, no decode requests
      } else {
        q.requests = row.batch();
      }
      return q;
    }
    case v1::OPERATOR_CLASS_COLLECTIVE:
      q.message_bytes = static_cast<double>(row.bytes());
      q.ranks = row.ranks();
      // More ranks than one machine holds: the measurement crossed the
      // scale-out network.
      q.scale_out = std::max(row.ranks(), 2) > defaults.chips_per_machine;
      return q;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "op '", row.op(), "' of class ", OperatorClassShortName(row.op_class()),
      " cannot be priced from a calibration row"));
}

absl::StatusOr<std::vector<OperatorQuery>> QueriesFromRows(
    const std::vector<v1::CalibrationRow>& rows) {
  std::vector<OperatorQuery> queries;
  queries.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<OperatorQuery> q = QueryFromRow(rows[i]);
    if (!q.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", i + 1, ": ", q.status().message()));
    }
    queries.push_back(*q);
  }
  return queries;
}

}  // namespace fleetsim::hardware
