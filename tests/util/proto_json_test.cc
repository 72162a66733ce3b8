// util/proto_json.h: output files are protobuf's JSON of their message, and
// every number reads back to the same bits.
#include "util/proto_json.h"

#include <cmath>
#include <limits>

#include "fleetsim/v1/result.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

TEST(ProtoJsonTest, NumbersRoundTripExactly) {
  v1::SimulationResult result;
  result.set_requests(9007199254740993);  // 2^53 + 1: not a double
  result.set_throughput_rps(0.1 + 0.2);
  result.set_energy_j(1.0 / 3.0);
  result.set_simulated_s(123456789.123456789);
  result.mutable_ttft_s()->set_p99(5e-324);  // the smallest denormal
  result.mutable_tbt_s()->set_max(std::numeric_limits<double>::max());
  result.set_schema("fleetsim.v1.SimulationResult");
  absl::StatusOr<std::string> json = ProtoJson(result);
  ASSERT_TRUE(json.ok()) << json.status();
  v1::SimulationResult back;
  ASSERT_TRUE(ParseProtoJson(*json, "test", &back).ok()) << *json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(result, back))
      << *json;
}

TEST(ProtoJsonTest, ZerosArePrintedAsZeroWithProtoFieldNames) {
  v1::SimulationResult result;
  result.mutable_queue_s()->set_mean(0);
  const std::string json = ProtoJson(result).value();
  EXPECT_THAT(json, HasSubstr("\"queue_s\": {"));
  EXPECT_THAT(json, HasSubstr("\"mean\": 0,"));
  EXPECT_THAT(json, HasSubstr("\"kv_transfer_count\": \"0\""));  // int64
}

TEST(ProtoJsonTest, UnknownFieldsAreErrorsNamingTheOrigin) {
  v1::SimulationResult result;
  absl::Status status =
      ParseProtoJson("{\"no_such_field\": 1}", "summary.json", &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("summary.json: "));
}

// The printer's failure reaches the caller (it used to be dropped, and the
// caller wrote the empty string it left as the file).
TEST(ProtoJsonTest, PrinterFailureIsAnErrorNamingTheType) {
  google::protobuf::Any any;
  any.set_type_url("type.googleapis.com/no.such.Type");
  any.set_value("\x08\x01");
  absl::StatusOr<std::string> json = ProtoJson(any);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(json.status().message()),
              HasSubstr("cannot print google.protobuf.Any as JSON: "));
  EXPECT_THAT(std::string(json.status().message()), HasSubstr("no.such.Type"));
}

}  // namespace
}  // namespace fleetsim
