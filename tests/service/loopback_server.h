// A PlanningServer for in-process tests (the request log and reflection
// tests): a free loopback port, the bundled data, and a channel to it.
#ifndef FLEETSIM_TESTS_SERVICE_LOOPBACK_SERVER_H_
#define FLEETSIM_TESTS_SERVICE_LOOPBACK_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "service/planning_service.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::testutil {

// Starts a PlanningServer on a free loopback port over the bundled data,
// with `options`' other settings.
inline absl::StatusOr<std::unique_ptr<service::PlanningServer>>
StartLoopbackServer(service::ServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  options.backend.limits.data_dir = kData;
  return service::PlanningServer::Start(options);
}

// An insecure channel to `server`'s port.
inline std::shared_ptr<grpc::Channel> ChannelTo(
    const service::PlanningServer& server) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()),
                             grpc::InsecureChannelCredentials());
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_SERVICE_LOOPBACK_SERVER_H_
