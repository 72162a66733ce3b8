#include "hardware/expert_all_to_all.h"

#include <algorithm>

#include "hardware/model_footprint.h"
#include "hardware/moe_routing.h"
#include "hardware/ops/op_cost.h"

namespace fleetsim::hardware {

ExpertAllToAll PlanExpertAllToAll(const v1::Model& model, int ep,
                                  int ranks_per_machine) {
  ExpertAllToAll a2a;
  a2a.ep = ep;
  a2a.ranks_per_machine = ranks_per_machine;
  a2a.moe_layers = NumMoeLayers(model);
  const double d = model.hidden_size();
  const double ranks_per_token = RanksPerToken(model.moe().top_k(), ep);
  a2a.dispatch_bytes_per_token =
      std::min<double>(WeightBytesPerElement(model), kActivationBytes) *
      ranks_per_token * d;
  a2a.combine_bytes_per_token = kActivationBytes * ranks_per_token * d;
  return a2a;
}

}  // namespace fleetsim::hardware
