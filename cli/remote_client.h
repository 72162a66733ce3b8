// File: cli/remote_client.h
//
// The CLI as a PlanningService client: `fleetsim replay --server HOST:PORT`
// sends the same flags as a SimulateRequest to a `fleetsim serve` and prints
// the same summary; `fleetsim plan --server` streams a Plan the same way. Local
// files named by flags are read here and sent inline (the cluster and SLO as
// protos, the trace as bytes when it is within the server's default inline
// limit); a larger trace must sit in the server's data folder and is sent as a
// path relative to it.
#ifndef FLEETSIM_CLI_REMOTE_CLIENT_H_
#define FLEETSIM_CLI_REMOTE_CLIENT_H_

#include <functional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/command_registry.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/planning_service.pb.h"
#include "fleetsim/v1/result.pb.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(absl::Duration, server_deadline);

namespace fleetsim::cli {

// The SimulateRequest for `replay`'s flags (--trace, --rate, --slo, --pool
// ...). Errors: InvalidArgument/NotFound for unreadable local files or bad
// flag values.
absl::StatusOr<v1::SimulateRequest> SimulateRequestFromFlags(
    const std::string& cluster_path, const std::string& model);

// Calls Simulate on `server` ("host:port") with `deadline`. Errors: the
// server's status, unchanged in code and message.
absl::StatusOr<v1::SimulationResult> SimulateRemotely(
    const std::string& server, const v1::SimulateRequest& request,
    absl::Duration deadline);

// Runs `request` (built from `plan`'s flags) on `server`, calling
// `progress` for each streamed progress event. The trace is sent as
// `replay --server` sends it: inline (PlanRequest.trace_bytes) whenever it
// is within the server's default inline limit, wherever it lies, so the
// server plans on exactly the client's bytes; a larger trace must lie inside
// the local data folder and is sent as a path relative to it (the server
// resolves it in its own --data-dir). An SLO file is read here and sent
// inline. Errors: NotFound (no trace file); InvalidArgument for a large
// trace outside the data folder; the server's status otherwise.
absl::StatusOr<v1::PlanResult> PlanRemotely(
    const std::string& server, v1::PlanRequest request,
    const std::function<void(const v1::PlanProgress&)>& progress,
    absl::Duration deadline);

// `replay` with --server set: builds the request, calls the server, prints
// the summary table (and writes --out/summary.json). Returns the exit code.
int ReplayRemotely(const std::string& cluster_path, const std::string& model);

// --server and --server-deadline: what `replay` and `plan` add to run on a
// `fleetsim serve`.
FlagNames RemoteFlagNames();

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_REMOTE_CLIENT_H_
