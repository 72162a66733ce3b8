#include "service/request_log.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace fleetsim::service {
namespace {

// Logs the call when the server sends its status. The peer is read at the
// first hook (the call exists by then; reading it from the destructor could
// touch a released call). A call that ends without sending a status (the
// client went away first) is logged as CANCELLED when gRPC destroys the
// interceptor at the end of the call.
class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(grpc::experimental::ServerRpcInfo* info,
                        const RequestLogSink* sink)
      : info_(info), sink_(sink), start_(absl::Now()) {}

  ~RequestLogInterceptor() override {
    if (!logged_) Log(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (peer_.empty() && info_->server_context() != nullptr) {
      peer_ = info_->server_context()->peer();
    }
    if (!logged_ &&
        methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Log(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Log(grpc::StatusCode code) {
    logged_ = true;
    (*sink_)(
        RequestLogLine(info_->method(), peer_, code, absl::Now() - start_));
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const RequestLogSink* const sink_;
  const absl::Time start_;
  std::string peer_;
  bool logged_ = false;
};

}  // namespace

std::string RequestLogLine(absl::string_view method, absl::string_view peer,
                           grpc::StatusCode code, absl::Duration duration) {
  // gRPC and absl share the google.rpc.Code numbering.
  return absl::StrFormat(
      "rpc method=%s peer=%s status=%s duration_ms=%.3f", method,
      peer.empty() ? "-" : peer,
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)),
      absl::ToDoubleMilliseconds(duration));
}

grpc::experimental::Interceptor* RequestLogFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestLogInterceptor(info, &sink_);
}

}  // namespace fleetsim::service
