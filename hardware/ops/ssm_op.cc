#include "hardware/ops/ssm_op.h"

namespace fleetsim::hardware {
namespace {

constexpr double kB_a = kActivationBytes;
// mamba2.py's defaults (state-spaces/mamba, mamba_ssm/modules/mamba2.py):
// chunk_size 256, ngroups 1; a query may set others (ssm_chunk,
// ssm_groups).
constexpr double kSsdChunk = 256;

// The dimensions every SSM kernel uses.
struct Dims {
  explicit Dims(const OperatorQuery& s)
      : d_inner(static_cast<double>(s.width)),
        n(s.d_state),
        mamba2(s.ssm_head_dim > 0),
        groups(s.ssm_groups > 0 ? s.ssm_groups : 1),
        chunk(s.ssm_chunk > 0 ? s.ssm_chunk : kSsdChunk),
        groups_n(mamba2 ? 2.0 * groups * n : 0),
        b_s(s.kv_bytes),
        p(s.ssm_head_dim),
        heads(mamba2 ? d_inner / p : 0) {}
  double d_inner;
  double n;
  bool mamba2;
  double groups;    // Mamba-2 B/C groups
  double chunk;     // Mamba-2 SSD chunk tokens
  double groups_n;  // B and C over the groups
  double b_s;       // state bytes per element
  double p;         // Mamba-2 head width
  double heads;     // Mamba-2 heads on the chip
};

}  // namespace

OpCost SsmConvCost(const OperatorQuery& s) {
  const Dims d(s);
  const double conv_dim = d.d_inner + d.groups_n;
  const double conv_k = s.conv_kernel;
  OpCost c = MakeOpCost(OpForm::kSsmConv, v1::OPERATOR_CLASS_SSM, kTokens);
  c.vector_flops[kTokens] = 2.0 * conv_dim * conv_k;
  c.bytes[kTokens] = kB_a * 2.0 * conv_dim;
  c.bytes[kDecodeRequests] = 2.0 * d.b_s * conv_dim * conv_k;  // state
  return c;
}

OpCost SsmScanPrefillCost(const OperatorQuery& s) {
  const Dims d(s);
  OpCost c = MakeOpCost(OpForm::kSsmScanPrefill, v1::OPERATOR_CLASS_SSM,
                        kPrefillTokens);
  if (d.mamba2) {
    c.flops[kPrefillTokens] =
        2.0 * d.d_inner * (d.chunk + 2 * d.n) + 2.0 * d.chunk * d.n * d.groups;
    c.bytes[kPrefillTokens] = kB_a * (2 * d.d_inner + d.groups_n + d.heads);
    c.bytes[kPrefillRequests] = d.b_s * d.heads * d.p * d.n;  // final state
  } else {
    c.vector_flops[kPrefillTokens] = 9.0 * d.d_inner * d.n + d.d_inner;
    c.bytes[kPrefillTokens] = kB_a * (4 * d.d_inner + 2 * d.n);
    c.bytes[kPrefillRequests] = d.b_s * d.d_inner * d.n;
  }
  return c;
}

OpCost SsmScanDecodeCost(const OperatorQuery& s) {
  const Dims d(s);
  OpCost c = MakeOpCost(OpForm::kSsmScanDecode, v1::OPERATOR_CLASS_SSM,
                        kDecodeRequests);
  if (d.mamba2) {
    c.vector_flops[kDecodeRequests] = 6.0 * d.heads * d.p * d.n;
    c.bytes[kDecodeRequests] =
        2.0 * d.b_s * d.heads * d.p * d.n + kB_a * (2 * d.d_inner + d.groups_n);
  } else {
    c.vector_flops[kDecodeRequests] = 6.0 * d.d_inner * d.n;
    c.bytes[kDecodeRequests] =
        2.0 * d.b_s * d.d_inner * d.n + kB_a * (4 * d.d_inner + 2 * d.n);
  }
  return c;
}

}  // namespace fleetsim::hardware
