#include "hardware/ops/op_query.h"

#include <algorithm>
#include <cstdint>

#include "hardware/ops/attention_op.h"
#include "hardware/ops/collective_op.h"
#include "hardware/ops/elementwise_op.h"
#include "hardware/ops/gemm_op.h"
#include "hardware/ops/ssm_op.h"

namespace fleetsim::hardware {
namespace {

bool IsPrefillAttention(OpForm form) {
  return form == OpForm::kAttentionPrefill ||
         form == OpForm::kAttentionScores ||
         form == OpForm::kAttentionSoftmax || form == OpForm::kAttentionContext;
}

}  // namespace

OpForm FormOfQuery(const OperatorQuery& q) {
  switch (q.op_class) {
    case v1::OPERATOR_CLASS_COLLECTIVE:
      return OpForm::kCollective;
    case v1::OPERATOR_CLASS_ATTENTION_PREFILL:
      if (q.name == kAttnScoresName) return OpForm::kAttentionScores;
      if (q.name == kAttnContextName) return OpForm::kAttentionContext;
      return OpForm::kAttentionPrefill;
    case v1::OPERATOR_CLASS_ATTENTION_DECODE:
      return OpForm::kAttentionDecode;
    case v1::OPERATOR_CLASS_ELEMENTWISE:
      if (q.name == kAttnSoftmaxName) return OpForm::kAttentionSoftmax;
      if (q.name == kCcaConvName) return OpForm::kCcaConv;
      return OpForm::kRowKernel;
    case v1::OPERATOR_CLASS_NORM:
      return OpForm::kRowKernel;
    case v1::OPERATOR_CLASS_SSM:
      if (q.name == kSsmConvName) return OpForm::kSsmConv;
      if (q.name == kSsmScanPrefillName) return OpForm::kSsmScanPrefill;
      if (q.name == kSsmScanDecodeName) return OpForm::kSsmScanDecode;
      return OpForm::kRowKernel;
    default:  // GEMM, MOE, UNSPECIFIED
      if (q.experts > 0) return OpForm::kMoeExperts;
      if (q.heads > 0) return OpForm::kBatchedGemm;
      return OpForm::kGemm;
  }
}

OpCost CostOfQuery(const OperatorQuery& q, const OperatorModelOptions& o,
                   double* x) {
  std::fill(x, x + kNumFeatures, 0.0);
  x[kOne] = 1;
  const OpForm form = FormOfQuery(q);
  if (IsPrefillAttention(form)) {
    x[kPrefillTokens] = static_cast<double>(q.new_tokens);
    x[kPairs] = q.attention_pairs;
    x[kPrefillContext] = static_cast<double>(q.context_tokens);
    // The compute ramp's mean context: a query describes at least one
    // request.
    x[kPrefillRequests] = static_cast<double>(std::max<int64_t>(q.requests, 1));
  }
  switch (form) {
    case OpForm::kGemm:
      x[kTokens] = static_cast<double>(q.m);
      return GemmCost(q, kTokens);
    case OpForm::kBatchedGemm:
      x[kTokens] = static_cast<double>(q.m);
      return BatchedGemmCost(q, kTokens);
    case OpForm::kMoeExperts:
      x[kTokens] = static_cast<double>(q.m);
      return MoeExpertsCost(q);
    case OpForm::kAttentionPrefill:
      return AttentionPrefillCost(q, o);
    case OpForm::kAttentionScores:
      return AttentionScoresCost(q, o);
    case OpForm::kAttentionSoftmax:
      return AttentionSoftmaxCost(q, o);
    case OpForm::kAttentionContext:
      return AttentionContextCost(q, o);
    case OpForm::kAttentionDecode:
      x[kDecodeRequests] = static_cast<double>(q.requests);
      x[kDecodeContext] = static_cast<double>(q.context_tokens);
      return AttentionDecodeCost(q, o);
    case OpForm::kCcaConv:
      x[kTokens] = static_cast<double>(q.new_tokens);
      return CcaConvCost(q);
    case OpForm::kRowKernel:
      if (q.width <= 0) {
        return BlockKernelCost(q, o, static_cast<double>(q.elements));
      }
      x[kTokens] =
          static_cast<double>(q.elements) / static_cast<double>(q.width);
      return RowKernelCost(q, o);
    case OpForm::kSsmConv:
      // Token rows = prompt tokens + one per decode request.
      x[kTokens] = static_cast<double>(q.new_tokens);
      x[kDecodeRequests] = static_cast<double>(q.requests);
      x[kPrefillRequests] = static_cast<double>(q.prefill_requests);
      x[kPrefillTokens] = static_cast<double>(q.new_tokens - q.requests);
      return SsmConvCost(q);
    case OpForm::kSsmScanPrefill:
      x[kPrefillTokens] = static_cast<double>(q.new_tokens);
      x[kPrefillRequests] = static_cast<double>(q.requests);
      return SsmScanPrefillCost(q);
    case OpForm::kSsmScanDecode:
      x[kDecodeRequests] = static_cast<double>(q.requests);
      return SsmScanDecodeCost(q);
    case OpForm::kDeformableSampling:
      // Never a query's form (FormOfQuery): the sampler is priced from a
      // model's shape only (deformable_attention_op.h).
      return MakeOpCost(form, q.op_class, kTokens);
    case OpForm::kCollective:
      break;
  }
  return CollectiveCost(CollectiveKindOf(q.name), std::max(q.ranks, 2),
                        q.scale_out, q.message_bytes, kOne);
}

OperatorQuery QueryOfOp(const OperatorQuery& shape, const OpCost& cost,
                        const double* x, OpWork work, double analytic_s) {
  OperatorQuery q = shape;
  q.op_class = cost.op_class;
  const auto rows = static_cast<int64_t>(x[cost.rows]);
  if (IsPrefillAttention(cost.form)) {
    q.requests = static_cast<int64_t>(x[kPrefillRequests]);
    q.new_tokens = static_cast<int64_t>(x[kPrefillTokens]);
    q.context_tokens = static_cast<int64_t>(x[kPrefillContext]);
    q.attention_pairs = x[kPairs];
  }
  switch (cost.form) {
    case OpForm::kGemm:
    case OpForm::kBatchedGemm:
    case OpForm::kMoeExperts:
      q.m = rows;
      break;
    case OpForm::kAttentionDecode:
      q.requests = static_cast<int64_t>(x[kDecodeRequests]);
      q.new_tokens = q.requests;
      q.context_tokens = static_cast<int64_t>(x[kDecodeContext]);
      break;
    case OpForm::kCcaConv:
      q.new_tokens = rows;
      break;
    case OpForm::kRowKernel:
      q.elements = rows * q.width;
      break;
    case OpForm::kSsmConv:
      q.new_tokens = static_cast<int64_t>(x[kTokens]);
      q.requests = static_cast<int64_t>(x[kDecodeRequests]);
      q.prefill_requests = static_cast<int64_t>(x[kPrefillRequests]);
      break;
    case OpForm::kSsmScanPrefill:
      q.new_tokens = static_cast<int64_t>(x[kPrefillTokens]);
      q.requests = static_cast<int64_t>(x[kPrefillRequests]);
      break;
    case OpForm::kSsmScanDecode:
      q.requests = static_cast<int64_t>(x[kDecodeRequests]);
      q.new_tokens = q.requests;
      break;
    case OpForm::kCollective:
      q.message_bytes = work.bytes;
      break;
    default:  // prefill attention, filled above
      break;
  }
  q.flops = work.flops;
  q.vector_flops = work.vector_flops;
  q.bytes = work.bytes;
  q.analytic_s = analytic_s;
  return q;
}

}  // namespace fleetsim::hardware
