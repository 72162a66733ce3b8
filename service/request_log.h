// File: service/request_log.h
//
// The request log of `fleetsim serve`: one line per finished call naming
// the method, the peer, the status code and the duration. It is a gRPC
// server interceptor rather than code in each handler so that it covers
// every service on the port (health and reflection included) and calls
// that end before a handler runs (a message over the size limit).
//
// Example:
//   grpc::ServerBuilder builder;
//   std::vector<std::unique_ptr<
//       grpc::experimental::ServerInterceptorFactoryInterface>> factories;
//   factories.push_back(std::make_unique<RequestLogFactory>(
//       [](const std::string& line) { std::cerr << line << "\n"; }));
//   builder.experimental().SetInterceptorCreators(std::move(factories));
#ifndef FLEETSIM_SERVICE_REQUEST_LOG_H_
#define FLEETSIM_SERVICE_REQUEST_LOG_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_interceptor.h"

namespace fleetsim::service {

// Receives one log line (no newline). Called from gRPC's threads, one call
// at a time per RPC but concurrently across RPCs: it must be thread-safe.
using RequestLogSink = std::function<void(const std::string& line)>;

// "rpc method=M peer=P status=CODE duration_ms=D", with the status code's
// name (OK, INVALID_ARGUMENT, ...) and the duration in milliseconds to the
// microsecond.
std::string RequestLogLine(absl::string_view method, absl::string_view peer,
                           grpc::StatusCode code, absl::Duration duration);

// Makes one logging interceptor per call.
class RequestLogFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogFactory(RequestLogSink sink) : sink_(std::move(sink)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const RequestLogSink sink_;
};

}  // namespace fleetsim::service

#endif  // FLEETSIM_SERVICE_REQUEST_LOG_H_
