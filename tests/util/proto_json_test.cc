// util/proto_json.h: output files are protobuf's JSON of their message, and
// every number reads back to the same bits.
#include "util/proto_json.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/result.pb.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

TEST(ProtoJsonTest, NumbersRoundTripExactly) {
  SimulationResult result;
  result.set_requests(9007199254740993);  // 2^53 + 1: not a double
  result.set_throughput_rps(0.1 + 0.2);
  result.set_energy_j(1.0 / 3.0);
  result.set_simulated_s(123456789.123456789);
  result.mutable_ttft_s()->set_p99(5e-324);  // the smallest denormal
  result.mutable_tbt_s()->set_max(std::numeric_limits<double>::max());
  result.set_schema("fleetsim.SimulationResult/v1");
  const std::string json = ProtoJson(result);
  SimulationResult back;
  ASSERT_TRUE(ParseProtoJson(json, "test", &back).ok()) << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(result, back))
      << json;
}

TEST(ProtoJsonTest, ZerosArePrintedAsZeroWithProtoFieldNames) {
  SimulationResult result;
  result.mutable_queue_s()->set_mean(0);
  const std::string json = ProtoJson(result);
  EXPECT_THAT(json, HasSubstr("\"queue_s\": {"));
  EXPECT_THAT(json, HasSubstr("\"mean\": 0,"));
  EXPECT_THAT(json, HasSubstr("\"kv_transfer_count\": \"0\""));  // int64
}

TEST(ProtoJsonTest, UnknownFieldsAreErrorsNamingTheOrigin) {
  SimulationResult result;
  absl::Status status =
      ParseProtoJson("{\"no_such_field\": 1}", "summary.json", &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("summary.json: "));
}

}  // namespace
}  // namespace fleetsim
