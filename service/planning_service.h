// File: service/planning_service.h
//
// The gRPC face of PlanningBackend: PlanningServiceImpl (the generated
// service, translating between gRPC and the backend and nothing else),
// ToGrpcStatus (the one absl -> gRPC status conversion), and PlanningServer,
// which puts the backend, the service, the standard health service
// (grpc.health.v1) and server reflection (grpc.reflection.v1alpha, for
// grpcurl-style tools) behind one listening port, with an optional request
// log (service/request_log.h). `fleetsim serve` and the
// in-process tests use PlanningServer.
//
// Example:
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";  // any free port
//   options.backend.limits.data_dir = "data";
//   FLEETSIM_ASSIGN_OR_RETURN(auto server, PlanningServer::Start(options));
//   server->Wait();
#ifndef FLEETSIM_SERVICE_PLANNING_SERVICE_H_
#define FLEETSIM_SERVICE_PLANNING_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/planning_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "service/planning_backend.h"
#include "service/request_log.h"

namespace fleetsim::service {

// The service name health checks report on (besides "", the whole server).
inline constexpr char kServiceName[] = "fleetsim.v1.PlanningService";

// The absl::Status -> grpc::Status conversion; the codes are numerically
// the same (both follow google.rpc.Code).
grpc::Status ToGrpcStatus(const absl::Status& status);

// Translates between gRPC and PlanningBackend. Thread-safe (the backend is).
class PlanningServiceImpl final : public v1::PlanningService::Service {
 public:
  // `backend` must outlive this object.
  explicit PlanningServiceImpl(PlanningBackend* backend) : backend_(backend) {}

  grpc::Status Simulate(grpc::ServerContext* context,
                        const v1::SimulateRequest* request,
                        v1::SimulateResponse* response) override;
  grpc::Status Plan(grpc::ServerContext* context,
                    const v1::PlanRequest* request,
                    grpc::ServerWriter<v1::PlanResponse>* writer) override;
  grpc::Status Study(grpc::ServerContext* context,
                     const v1::StudyRequest* request,
                     grpc::ServerWriter<v1::StudyResponse>* writer) override;
  grpc::Status ListChips(grpc::ServerContext* context,
                         const v1::ListChipsRequest* request,
                         v1::ListChipsResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;

 private:
  PlanningBackend* const backend_;
};

struct ServerOptions {
  // host:port to listen on. Loopback by default: the service runs
  // simulations for anyone who can reach it and has no authentication.
  // Port 0 picks a free one (PlanningServer::port() tells which).
  std::string listen = "127.0.0.1:50051";
  BackendOptions backend;
  // Largest request message accepted, bytes; 0 = the inline-trace limit
  // plus 1 MiB for the rest of the request. Larger messages fail with
  // RESOURCE_EXHAUSTED before any handler runs.
  int max_message_bytes = 0;
  // Receives one line per finished call (service/request_log.h); null = no
  // request log.
  RequestLogSink request_log;
};

// A running server. Destroying it shuts down gRPC (cancelling calls in
// flight, which kills their workers), then the worker helper.
class PlanningServer final {
 public:
  // Starts the backend (worker helper) and then the gRPC server.
  // REQUIRES: no threads besides the caller yet (see PlanningBackend).
  // Errors: the backend's; Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<PlanningServer>> Start(
      const ServerOptions& options);
  ~PlanningServer();

  int port() const { return port_; }
  PlanningBackend* backend() { return backend_.get(); }
  // Blocks until Shutdown() (from another thread or a signal handler's
  // helper thread), or until the worker helper dies: the server cannot run
  // anything then, so it shuts itself down (health NOT_SERVING, calls
  // cancelled) for a supervisor to restart it; helper_died() tells which.
  void Wait();
  bool helper_died() const { return helper_died_; }
  // Marks the server NOT_SERVING, cancels calls in flight and stops
  // accepting new ones; waits at most `grace` for calls to finish.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  PlanningServer() = default;

  std::unique_ptr<PlanningBackend> backend_;
  std::unique_ptr<PlanningServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Waits for the helper's death; woken through wake_fds_ on destruction.
  std::thread helper_watcher_;
  int wake_fds_[2] = {-1, -1};
  std::atomic<bool> helper_died_{false};
};

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_PLANNING_SERVICE_H_
