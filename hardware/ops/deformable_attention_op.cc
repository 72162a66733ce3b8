#include "hardware/ops/deformable_attention_op.h"

#include <algorithm>

namespace fleetsim::hardware {

MsdaCounts MsdaPerQuery(const MsdaShape& s) {
  MsdaCounts c;
  const double lk = static_cast<double>(s.levels) * s.points;
  c.sampled_points = s.heads * lk;
  // Each head's point reads 4 neighbours of C / M channels: over the M
  // heads, 4 L K C elements.
  c.gathered_elements = 4.0 * lk * s.d_model;
  c.gathered_bytes = c.gathered_elements * s.value_bytes;
  c.flops = 2.0 * 5.0 * lk * s.d_model;
  c.io_bytes = kActivationBytes * (3.0 * c.sampled_points + s.d_model);
  return c;
}

OpCost MsdaSamplingCost(const MsdaShape& s, Feature queries,
                        double value_bytes_per_query,
                        v1::OperatorClass op_class) {
  const MsdaCounts n = MsdaPerQuery(s);
  OpCost c = MakeOpCost(OpForm::kDeformableSampling, op_class, queries);
  c.vector_flops[queries] = n.flops;
  const double misses = (1.0 - s.cache_hit_fraction) * n.gathered_bytes;
  c.bytes[queries] = std::max(misses, value_bytes_per_query) + n.io_bytes;
  return c;
}

}  // namespace fleetsim::hardware
