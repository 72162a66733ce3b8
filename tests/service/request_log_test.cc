// The request log: one line per call from the PlanningServer's interceptor,
// for successful, failed and health calls.
#include "service/request_log.h"

#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/planning_service.h"
#include "tests/service/loopback_server.h"

namespace fleetsim::service {
namespace {

TEST(RequestLogLineTest, NamesMethodPeerStatusAndDuration) {
  EXPECT_EQ(RequestLogLine(
                "/fleetsim.v1.PlanningService/Simulate", "ipv4:127.0.0.1:4000",
                grpc::StatusCode::INVALID_ARGUMENT, absl::Microseconds(12345)),
            "rpc method=/fleetsim.v1.PlanningService/Simulate "
            "peer=ipv4:127.0.0.1:4000 status=INVALID_ARGUMENT "
            "duration_ms=12.345");
  EXPECT_EQ(
      RequestLogLine("/m", "", grpc::StatusCode::OK, absl::ZeroDuration()),
      "rpc method=/m peer=- status=OK duration_ms=0.000");
}

class RequestLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.request_log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(line);
    };
    absl::StatusOr<std::unique_ptr<PlanningServer>> server =
        testutil::StartLoopbackServer(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = testutil::ChannelTo(*server_);
    stub_ = v1::PlanningService::NewStub(channel_);
  }

  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::unique_ptr<PlanningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PlanningService::Stub> stub_;
};

TEST_F(RequestLogTest, OneLinePerCallWithItsStatus) {
  grpc::ClientContext chips_context;
  v1::ListChipsResponse chips;
  ASSERT_TRUE(stub_->ListChips(&chips_context, {}, &chips).ok());
  grpc::ClientContext simulate_context;
  v1::SimulateRequest bad = testutil::SmallRequest();
  bad.set_model("no-such-model");
  v1::SimulateResponse response;
  EXPECT_EQ(stub_->Simulate(&simulate_context, bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(testutil::HealthStatus(channel_), 1);
  // Each line is written before its status goes out, so all three are there.
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  const std::string peer = "peer=ipv[46]:\\S+ ";
  const std::string duration = " duration_ms=[0-9]+\\.[0-9]{3}";
  EXPECT_TRUE(std::regex_match(
      lines[0],
      std::regex("rpc method=/fleetsim.v1.PlanningService/ListChips " + peer +
                 "status=OK" + duration)))
      << lines[0];
  EXPECT_TRUE(std::regex_match(
      lines[1], std::regex("rpc method=/fleetsim.v1.PlanningService/Simulate " +
                           peer + "status=INVALID_ARGUMENT" + duration)))
      << lines[1];
  EXPECT_TRUE(std::regex_match(
      lines[2], std::regex("rpc method=/grpc.health.v1.Health/Check " + peer +
                           "status=OK" + duration)))
      << lines[2];
}

}  // namespace
}  // namespace fleetsim::service
