// File: sim/isolated_run.h
//
// RunSimulationInChild: RunSimulation in a forked child process. SimGrid
// allows one engine per process (a second one aborts, and engines run one
// after another share a clock that never resets), so every caller that runs
// more than one simulation — tests, the planner, the gRPC service — uses
// this. A crash in a simulation stays in its child and comes back as an
// Internal error. The child is killed when the process that started it
// dies (PR_SET_PDEATHSIG), so no simulation outlives its planner or
// worker. Costs ~2 ms per call (measured on a 2-core machine).
//
// REQUIRES: the calling process has no threads besides the caller (fork
// from a multi-threaded process copies only the calling thread).
#ifndef FLEETSIM_SIM_ISOLATED_RUN_H_
#define FLEETSIM_SIM_ISOLATED_RUN_H_

#include <string>

#include "absl/status/statusor.h"
#include "sim/simulation.h"

namespace fleetsim::sim {

// `requests_csv`, when not empty, receives requests.csv (RequestCsvHeader
// and one RequestCsvRow per request) written by the child.
absl::StatusOr<v1::SimulationResult> RunSimulationInChild(
    const SimulationInputs& inputs, const std::string& requests_csv = "");

// Lower-level pieces for callers that manage several children at once (the
// planner's worker pool): start a child that writes its framed result to
// the returned pipe descriptor, and decode what it wrote.
struct SimulationChild {
  int pid = -1;
  int read_fd = -1;
};
absl::StatusOr<SimulationChild> StartSimulationChild(
    const SimulationInputs& inputs, const std::string& requests_csv = "");
// Reads the child's whole output, reaps it and decodes the result.
absl::StatusOr<v1::SimulationResult> FinishSimulationChild(
    const SimulationChild& child);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_ISOLATED_RUN_H_
