// File: hardware/calibration/row_query.h
//
// A measured calibration row (proto/fleetsim/v1/calibration.proto) -> the
// OperatorQuery the cost model prices it with: the one place a table's shapes
// meet the operator formulas, used by the evaluation (calibration_eval.h),
// every fit and the row filter.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_ROW_QUERY_H_
#define FLEETSIM_HARDWARE_CALIBRATION_ROW_QUERY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"
#include "hardware/operator_query.h"

namespace fleetsim::hardware {

// QueryFromRow()
//
// The OperatorQuery that prices `row` (proto/fleetsim/v1/calibration.proto
// shapes): GEMM m/n/k (heads > 0: one product per head, MLA's BMMs); attention
// with per-request cached tokens turned into the query's sums over requests
// (decode: context = batch * (cached + 1); prefill: new = batch * T,
// context = batch * (cached + T), pairs = batch * (T * cached + T (T + 1) /
// 2); a sliding window caps each query's keys), MLA rows in the naive
// (prefill) or absorbed (decode) shape the cost model uses, KV bytes from
// kv_dtype; norm and elementwise rows with the reads +
// writes and vector FLOPs of the kernel their op name measures
// (RowKernelForCalibrationOp in hardware/ops/elementwise_op.h: norm 2 rows,
// rope 2, mlp_act 3, residual_add 3); collectives with bytes and ranks,
// over scale-out when the ranks exceed one machine; MoE rows as the routed
// experts on one chip (experts / moe_ep of width inter / moe_tp, this
// chip's ceil(tokens x top_k / moe_ep) assignments as rows of one expert
// each; routing imbalance not modelled). q.name points into row.op():
// `row` must outlive the query. InvalidArgument for a row whose class
// cannot be priced (SSM; fp4), an MoE row with fewer experts than moe_ep,
// or an op unknown for its class.
absl::StatusOr<OperatorQuery> QueryFromRow(const v1::CalibrationRow& row);

// QueryFromRow for every row, in order; the first row it rejects fails the
// whole set with InvalidArgument naming the row (1-based) and the reason.
// The queries point into `rows`, which must outlive them.
absl::StatusOr<std::vector<OperatorQuery>> QueriesFromRows(
    const std::vector<v1::CalibrationRow>& rows);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_ROW_QUERY_H_
