// File: hardware/ops/op_query.h
//
// The two directions between an operator invocation and the OperatorQuery
// that describes it by shape (hardware/operator_query.h): the simulator
// hands its correction hooks the query of each table entry at a batch
// (QueryOfOp), and the pricer of measured rows and hand-made queries
// (hardware/operator_pricer.h) turns a query back into the same family
// cost and batch features (CostOfQuery). Both go through the family files'
// cost functions, so a query the simulator emits prices to the simulator's
// own seconds, bit for bit. A new family adds its forms to both switches.
#ifndef FLEETSIM_HARDWARE_OPS_OP_QUERY_H_
#define FLEETSIM_HARDWARE_OPS_OP_QUERY_H_

#include "hardware/operator_options.h"
#include "hardware/operator_query.h"
#include "hardware/ops/op_cost.h"
#include "hardware/ops/priced_op.h"

namespace fleetsim::hardware {

// The family formula a query names: by class, then by the family's kernel
// names (attention_op.h, ssm_op.h) and the GEMM shape (experts > 0: MoE
// routed experts; heads > 0: per-head batched products). Names the
// families do not know price as their class's generic kernel (GEMM; a row
// kernel for NORM, ELEMENTWISE and SSM; a ring all-reduce).
OpForm FormOfQuery(const OperatorQuery& q);

// The cost of one invocation of `q` and the batch features it describes:
// fills x[0 .. kNumFeatures).
OpCost CostOfQuery(const OperatorQuery& q, const OperatorModelOptions& o,
                   double* x);

// The query of a table entry built from `shape` (its static fields: class,
// per-chip dimensions, dtypes) with `cost`, at batch features x: the batch
// fields of its form, then the analytic view (`work`, `analytic_s`).
OperatorQuery QueryOfOp(const OperatorQuery& shape, const OpCost& cost,
                        const double* x, OpWork work, double analytic_s);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_OPS_OP_QUERY_H_
