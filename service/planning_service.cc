#include "service/planning_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace fleetsim::service {
namespace {

// Stops a call's worker when the client cancels or the deadline passes.
StopFn StopWhenDone(grpc::ServerContext* context) {
  return [context]() -> absl::Status {
    bool expired = std::chrono::system_clock::now() >= context->deadline();
    if (expired) {
      return absl::DeadlineExceededError(
          "the call's deadline passed; its simulations were stopped");
    }
    if (context->IsCancelled()) {
      return absl::CancelledError(
          "the client cancelled the call; its simulations were stopped");
    }
    return absl::OkStatus();
  };
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status PlanningServiceImpl::Simulate(grpc::ServerContext* context,
                                           const v1::SimulateRequest* request,
                                           v1::SimulateResponse* response) {
  absl::StatusOr<v1::SimulationResult> result =
      backend_->Simulate(*request, StopWhenDone(context));
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response->mutable_result() = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PlanningServiceImpl::Plan(
    grpc::ServerContext* context, const v1::PlanRequest* request,
    grpc::ServerWriter<v1::PlanResponse>* writer) {
  absl::StatusOr<v1::PlanResult> result = backend_->Plan(
      *request, StopWhenDone(context),
      [writer](const v1::PlanProgress& progress) {
        v1::PlanResponse event;
        *event.mutable_progress() = progress;
        writer->Write(event);  // false = client gone; StopWhenDone sees it
      });
  if (!result.ok()) return ToGrpcStatus(result.status());
  v1::PlanResponse event;
  *event.mutable_result() = *std::move(result);
  if (!writer->Write(event)) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client went away before the result");
  }
  return grpc::Status::OK;
}

grpc::Status PlanningServiceImpl::Study(
    grpc::ServerContext* context, const v1::StudyRequest* request,
    grpc::ServerWriter<v1::StudyResponse>* writer) {
  bool client_gone = false;
  absl::Status status = backend_->Study(
      *request, StopWhenDone(context),
      [writer](const v1::StudyProgress& progress) {
        v1::StudyResponse event;
        *event.mutable_progress() = progress;
        writer->Write(event);  // false = client gone; StopWhenDone sees it
      },
      [writer, &client_gone](const v1::ReportFile& file) {
        v1::StudyResponse event;
        *event.mutable_file() = file;
        if (!writer->Write(event)) client_gone = true;
      });
  if (!status.ok()) return ToGrpcStatus(status);
  if (client_gone) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client went away before the last file");
  }
  return grpc::Status::OK;
}

grpc::Status PlanningServiceImpl::ListChips(grpc::ServerContext* context,
                                            const v1::ListChipsRequest* request,
                                            v1::ListChipsResponse* response) {
  absl::StatusOr<v1::ListChipsResponse> chips = backend_->ListChips();
  if (!chips.ok()) return ToGrpcStatus(chips.status());
  *response = *std::move(chips);
  return grpc::Status::OK;
}

grpc::Status PlanningServiceImpl::ListModels(
    grpc::ServerContext* context, const v1::ListModelsRequest* request,
    v1::ListModelsResponse* response) {
  absl::StatusOr<v1::ListModelsResponse> models = backend_->ListModels();
  if (!models.ok()) return ToGrpcStatus(models.status());
  *response = *std::move(models);
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<PlanningServer>> PlanningServer::Start(
    const ServerOptions& options) {
  // gRPC takes "host:99999" as port 99999 mod 65536; refuse it instead.
  size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen '", options.listen,
                     "': expected HOST:PORT with PORT in 0-65535"));
  }
  if (options.max_message_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_message_bytes must be >= 0; got ", options.max_message_bytes));
  }
  std::unique_ptr<PlanningServer> server(new PlanningServer());
  // The worker helper first: gRPC starts threads as soon as it is built.
  absl::StatusOr<std::unique_ptr<PlanningBackend>> backend =
      PlanningBackend::Create(options.backend);
  if (!backend.ok()) return backend.status();
  server->backend_ = *std::move(backend);
  server->service_ =
      std::make_unique<PlanningServiceImpl>(server->backend_.get());

  // The backend refused an inline-trace limit past kMaxInlineTraceBytes, so
  // adding 1 MiB stays within int.
  int max_message = options.max_message_bytes;
  if (max_message == 0) {
    max_message =
        static_cast<int>(options.backend.limits.max_inline_trace_bytes) +
        (1 << 20);
  }
  grpc::EnableDefaultHealthCheckService(true);
  // Lists the services and serves their descriptors from the generated pool.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (options.request_log) {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(
        std::make_unique<RequestLogFactory>(options.request_log));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(64 << 20);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not host:port?)"));
  }
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    health->SetServingStatus(kServiceName, true);
  }
  if (pipe2(server->wake_fds_, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  PlanningServer* watched = server.get();
  server->helper_watcher_ = std::thread([watched] {
    if (!watched->backend_->WaitForHelperExit(watched->wake_fds_[0])) return;
    watched->helper_died_ = true;
    watched->Shutdown();
  });
  return server;
}

PlanningServer::~PlanningServer() {
  Shutdown();
  if (helper_watcher_.joinable()) {
    char byte = 0;
    while (write(wake_fds_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    helper_watcher_.join();
  }
  for (int fd : wake_fds_) {
    if (fd >= 0) close(fd);
  }
}

void PlanningServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

void PlanningServer::Shutdown(std::chrono::milliseconds grace) {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
}

}  // namespace fleetsim::service
