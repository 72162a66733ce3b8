// File: sim/expert_parallel_layout.h
//
// Whether a pool's expert parallelism (Pool.ep) is a layout the simulator
// models: ep divides the model's routed experts and is a multiple of tp,
// and the instance's ep x pp chips either divide one machine or, with one
// pipeline stage, take whole machines (its all-to-all's cross-machine share
// then runs on the scale-out links, sim/instance.h). Kept apart from
// sim/fleet.cc, which resolves everything else of a pool.
#ifndef FLEETSIM_SIM_EXPERT_PARALLEL_LAYOUT_H_
#define FLEETSIM_SIM_EXPERT_PARALLEL_LAYOUT_H_

#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "sim/fleet.h"

namespace fleetsim::sim {

// Pool `index` of `cluster` (resolved as `pool`) against `model`:
// InvalidArgument naming the file, line and field 'ep' otherwise.
// Tensor parallelism across machines is refused by the pool's shape check
// (field 'tp').
absl::Status CheckExpertParallel(const v1::Cluster& cluster, int index,
                                 const v1::Model& model,
                                 const std::string& origin,
                                 const PoolSpec& pool);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_EXPERT_PARALLEL_LAYOUT_H_
