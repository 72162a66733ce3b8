// File: hardware/breakdown_accumulation.h
//
// Adds one priced operator's contribution to an IterationBreakdown (what
// `fleetsim estimate` prints): the entry of the same name accumulates time,
// FLOPs and bytes, and the larger contribution names its bound; and the
// serving framework's time, the first entry. Shared by the latency models
// that explain their iterations (operator_model.cc,
// deformable_detr_model.cc).
#ifndef FLEETSIM_HARDWARE_BREAKDOWN_ACCUMULATION_H_
#define FLEETSIM_HARDWARE_BREAKDOWN_ACCUMULATION_H_

#include <algorithm>
#include <string>

#include "hardware/latency_model.h"
#include "hardware/ops/priced_op.h"

namespace fleetsim::hardware {

// The name of the framework's entry, in breakdowns and OperatorLabels
// (index 0 of a latency model's operator totals).
inline constexpr char kFrameworkOverheadName[] = "framework_overhead";

// Appends the framework's `seconds` of an iteration (none when 0).
inline void AddOverheadToBreakdown(double seconds, IterationBreakdown* out) {
  if (seconds <= 0) return;
  OperatorTime t;
  t.name = kFrameworkOverheadName;
  t.op_class = v1::OPERATOR_CLASS_UNSPECIFIED;
  t.bound = Bound::kFloor;
  t.seconds = seconds;
  out->ops.push_back(t);
}

// `seconds` is the operator's time over all its `invocations`; `work` one
// invocation's.
inline void AddToBreakdown(const std::string& name, v1::OperatorClass op_class,
                           Bound bound, double seconds, const OpWork& work,
                           double invocations, IterationBreakdown* out) {
  auto it =
      std::find_if(out->ops.begin(), out->ops.end(),
                   [&name](const OperatorTime& t) { return t.name == name; });
  if (it == out->ops.end()) {
    OperatorTime t;
    t.name = name;
    t.op_class = op_class;
    t.bound = bound;
    out->ops.push_back(t);
    it = out->ops.end() - 1;
  } else if (seconds > it->seconds) {
    it->bound = bound;  // the larger contribution names the bound
  }
  it->seconds += seconds;
  it->flops += work.flops * invocations;
  it->vector_flops += work.vector_flops * invocations;
  it->bytes += work.bytes * invocations;
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_BREAKDOWN_ACCUMULATION_H_
