// File: service/request_checks.h
//
// Checks and normalises what a PlanningService client sends before any
// worker process is started, and turns a checked SimulateRequest into
// SimulationInputs through the same LoadScenario the CLI uses, so the
// service and `fleetsim replay` validate identically. Pure functions of
// their arguments and the data folder; thread-safe.
//
// Confinement: every path a client names is resolved inside the server's
// data folder. Relative paths are taken from it; absolute ones must already
// point inside it; ".." components are refused outright; and the resolved
// (symlink-free) path must stay inside the resolved data folder, so a
// symlink cannot lead out of it. Refusals are PermissionDenied naming the
// field.
#ifndef FLEETSIM_SERVICE_REQUEST_CHECKS_H_
#define FLEETSIM_SERVICE_REQUEST_CHECKS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/plan.pb.h"
#include "fleetsim/v1/planning_service.pb.h"
#include "sim/catalogs.h"
#include "sim/simulation.h"

namespace fleetsim::service {

// The default largest inline trace, bytes: `fleetsim serve`'s flag default,
// and what `--server` clients assume when deciding to send a trace inline.
inline constexpr int64_t kDefaultMaxInlineTraceBytes = 8 << 20;
// The largest limit a server accepts: a gRPC message is at most INT32_MAX
// bytes, and the rest of the request gets 1 MiB beside the trace.
inline constexpr int64_t kMaxInlineTraceBytes = INT32_MAX - (1 << 20);

// Limits a request is checked against (flags of `fleetsim serve`).
struct RequestLimits {
  // The folder holding chips/, models/, slos/ and every file a request may
  // name. REQUIRES: not empty.
  std::string data_dir;
  // Largest SimulateRequest.trace_bytes or PlanRequest.trace_bytes
  // accepted, bytes.
  int64_t max_inline_trace_bytes = kDefaultMaxInlineTraceBytes;
  // The catalogs of data_dir, loaded once by PlanningBackend::Create and
  // shared by every check and job; null = loaded on each use (CatalogsOf).
  std::shared_ptr<const sim::Catalogs> catalogs = nullptr;
};

// limits.catalogs, or the catalogs of limits.data_dir when it is null.
// Errors: the catalog loaders'.
absl::StatusOr<std::shared_ptr<const sim::Catalogs>> CatalogsOf(
    const RequestLimits& limits);

// What trace a request names: its inline `trace_bytes` when set (checked
// against limits.max_inline_trace_bytes; returns "", since the worker
// writes them to an in-memory file), else `trace_path`
// (workload.trace_path) resolved by ResolveDataPath. Shared by Simulate
// and Plan so both take inline traces the same way.
// Errors: InvalidArgument naming trace_bytes (over the limit) or
// workload.trace_path; PermissionDenied (the path leaves the folder).
absl::StatusOr<std::string> CheckTraceSource(const std::string& trace_bytes,
                                             const std::string& trace_path,
                                             const RequestLimits& limits);

// `path` (the value of request field `field`) resolved to an absolute,
// symlink-free path of an existing regular file inside `data_dir`.
// Errors: PermissionDenied (leaves the folder: "..", an absolute path
// elsewhere, a symlink out); InvalidArgument (empty, missing, not a regular
// file). Messages start with the field name.
absl::StatusOr<std::string> ResolveDataPath(const std::string& data_dir,
                                            const std::string& path,
                                            const std::string& field);

// Checks the request's shape and confines its paths: a cluster (inline, or
// cluster_path read here and made inline), a model name, a trace (inline
// within limits.max_inline_trace_bytes, or workload.trace_path resolved to
// an absolute path in the data folder), an SLO preset that is a plain name.
// Returns the request with every path resolved, ready for a worker.
// Errors: InvalidArgument naming the field; PermissionDenied (paths).
absl::StatusOr<v1::SimulateRequest> CheckSimulateRequest(
    const v1::SimulateRequest& request, const RequestLimits& limits);

// SimulationInputs for a request CheckSimulateRequest returned. When the
// trace is inline, `inline_trace_path` is the file holding trace_bytes (a
// placeholder is fine when only validating: the trace is opened later, by
// RunSimulation). Errors: LoadScenario's, with NotFound (an unknown chip,
// model or preset the client named) reported as InvalidArgument since the
// bad value came from a request field.
absl::StatusOr<sim::SimulationInputs> ScenarioFromRequest(
    const v1::SimulateRequest& checked, const RequestLimits& limits,
    const std::string& inline_trace_path);

// Checks a PlanRequest before any worker starts: model and chips in the
// catalogs; workload fields valid; the trace inline (trace_bytes, within
// limits.max_inline_trace_bytes; workload.trace_path is then cleared) or
// workload.trace_path resolved inside the data folder; an SLO given (inline
// targets, valid, or slo_preset: a preset name or a file inside the folder,
// either made an absolute path); every field valid for
// planner::ValidatePlanRequest (ranges, enums, limits). Returns the
// request with paths resolved. Errors as CheckSimulateRequest. The planner
// validates everything else itself.
absl::StatusOr<v1::PlanRequest> CheckPlanRequest(const v1::PlanRequest& request,
                                                 const RequestLimits& limits);

// Most variants a Study call may ask for.
inline constexpr int kMaxStudyVariants = 64;

// Checks a StudyRequest before any worker starts: the spec as a study file
// is checked (study/study_spec.h; Unimplemented for base.fixed_fleet); no
// inline trace; seeds in [0, kMaxStudySeeds], jobs >= 0, at most
// kMaxStudyVariants variants; and every variant's plan request as
// CheckPlanRequest checks a Plan's, so the same paths are confined and the
// same catalog names checked. Returns the request with the base's paths
// and each variant's SLO preset resolved. Errors name the field
// ("spec.variants[1] ('x'): model: ...").
absl::StatusOr<v1::StudyRequest> CheckStudyRequest(
    const v1::StudyRequest& request, const RequestLimits& limits);

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_REQUEST_CHECKS_H_
