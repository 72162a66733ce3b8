// File: planner/portable_job.h
//
// A planner simulation (SimulationJob) split into what every simulation of
// a plan shares (SimulationContext: model, workload, SLO, reference chips,
// engine settings) and what is its own (SimulationTask: the candidate's
// cluster and the chips of its pools), both protos (proto/simulation_job.
// proto), and joined again in another process image. The MPI pool sends a
// context once per rank and then only tasks; a worker rank rebuilds the
// inputs with the same sim::ResolveFleet the planner used, so the
// simulation it runs is the one the local pool would have run.
#ifndef FLEETSIM_PLANNER_PORTABLE_JOB_H_
#define FLEETSIM_PLANNER_PORTABLE_JOB_H_

#include "absl/status/statusor.h"
#include "fleetsim/v1/simulation_job.pb.h"
#include "planner/simulation_pool.h"
#include "sim/simulation.h"

namespace fleetsim::planner {

// The shared part of `inputs` (trace_sha256 left empty: the sender that
// ships the trace's bytes fills it).
v1::SimulationContext ContextOf(const sim::SimulationInputs& inputs);

// The job's own part. InvalidArgument when the job has no cluster.
absl::StatusOr<v1::SimulationTask> TaskOf(const SimulationJob& job);

// The inputs a context and a task describe. Errors: sim::ResolveFleet's
// (the task's cluster does not resolve against its chips).
absl::StatusOr<sim::SimulationInputs> InputsOf(
    const v1::SimulationContext& context, const v1::SimulationTask& task);

}  // namespace fleetsim::planner

#endif  // FLEETSIM_PLANNER_PORTABLE_JOB_H_
