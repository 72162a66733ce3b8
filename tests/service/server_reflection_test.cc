// gRPC server reflection on the PlanningServer's port, read the way
// grpcurl reads it: over the wire with a generic stub, since the reflection
// protos are not installed with gRPC. Field numbers are those of
// grpc.reflection.v1alpha (src/proto/grpc/reflection/v1alpha/reflection.proto
// in github.com/grpc/grpc): ServerReflectionRequest.file_containing_symbol
// = 4 and .list_services = 7; ServerReflectionResponse
// .file_descriptor_response = 4 (repeated bytes file_descriptor_proto = 1)
// and .list_services_response = 6 (repeated ServiceResponse service = 1,
// whose name is field 1).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "service/planning_service.h"
#include "tests/service/loopback_server.h"

namespace fleetsim::service {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// One request on the reflection stream; its one response's bytes, or "" on
// a failed call.
std::string ReflectionCall(const std::shared_ptr<grpc::Channel>& channel,
                           const UnknownFieldSet& request) {
  std::string request_bytes;
  request.SerializeToString(&request_bytes);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  grpc::CompletionQueue queue;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  int next_tag = 0;
  // Waits for the operation started with `tag`; whether it succeeded.
  auto done = [&queue](void* tag) {
    void* got = nullptr;
    bool ok = false;
    return queue.Next(&got, &ok) && got == tag && ok;
  };
  auto tag = [&next_tag]() {
    return reinterpret_cast<void*>(static_cast<intptr_t>(++next_tag));
  };
  std::string response;
  void* t = tag();
  call->StartCall(t);
  if (done(t)) {
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, t = tag());
    if (done(t)) {
      call->WritesDone(t = tag());
      done(t);
      grpc::ByteBuffer reply;
      call->Read(&reply, t = tag());
      if (done(t)) {
        std::vector<grpc::Slice> slices;
        if (reply.Dump(&slices).ok()) {
          for (const grpc::Slice& s : slices) {
            response.append(reinterpret_cast<const char*>(s.begin()), s.size());
          }
        }
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, t = tag());
  done(t);
  queue.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (queue.Next(&ignored_tag, &ignored_ok)) {
  }
  return status.ok() ? response : "";
}

// The length-delimited values of field `number` in `set`.
std::vector<std::string> Strings(const UnknownFieldSet& set, int number) {
  std::vector<std::string> values;
  for (int i = 0; i < set.field_count(); ++i) {
    const UnknownField& field = set.field(i);
    if (field.number() == number &&
        field.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      values.push_back(field.length_delimited());
    }
  }
  return values;
}

// The reply to one reflection request: the `inner` fields of the reply's
// one `reply_field` message (empty when the call or a parse fails).
std::vector<std::string> Reply(const std::shared_ptr<grpc::Channel>& channel,
                               const UnknownFieldSet& request, int reply_field,
                               int inner) {
  UnknownFieldSet response;
  UnknownFieldSet message;
  if (!response.ParseFromString(ReflectionCall(channel, request))) return {};
  std::vector<std::string> messages = Strings(response, reply_field);
  if (messages.size() != 1 || !message.ParseFromString(messages[0])) return {};
  return Strings(message, inner);
}

class ServerReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PlanningServer>> server =
        testutil::StartLoopbackServer();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = testutil::ChannelTo(*server_);
  }

  std::unique_ptr<PlanningServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerReflectionTest, ListsThePlanningAndHealthServices) {
  UnknownFieldSet request;
  request.AddLengthDelimited(7, "");  // list_services
  std::vector<std::string> names;
  for (const std::string& service : Reply(channel_, request, 6, 1)) {
    UnknownFieldSet fields;
    ASSERT_TRUE(fields.ParseFromString(service));
    for (const std::string& name : Strings(fields, 1)) names.push_back(name);
  }
  EXPECT_NE(std::find(names.begin(), names.end(), kServiceName), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.health.v1.Health"),
            names.end());
}

TEST_F(ServerReflectionTest, DescribesThePlanningServicesMethods) {
  UnknownFieldSet request;
  request.AddLengthDelimited(4, kServiceName);  // file_containing_symbol
  // The file declaring the service, and the files it imports.
  google::protobuf::FileDescriptorProto file;
  for (const std::string& bytes : Reply(channel_, request, 4, 1)) {
    google::protobuf::FileDescriptorProto candidate;
    ASSERT_TRUE(candidate.ParseFromString(bytes));
    if (candidate.service_size() > 0) file = candidate;
  }
  ASSERT_EQ(file.service_size(), 1);
  EXPECT_EQ(absl::StrCat(file.package(), ".", file.service(0).name()),
            kServiceName);
  std::vector<std::string> methods;
  for (const auto& method : file.service(0).method()) {
    methods.push_back(method.name());
    if (method.name() == "Simulate") {
      EXPECT_EQ(method.input_type(), ".fleetsim.v1.SimulateRequest");
      EXPECT_EQ(method.output_type(), ".fleetsim.v1.SimulateResponse");
    }
  }
  EXPECT_NE(std::find(methods.begin(), methods.end(), "Simulate"),
            methods.end());
  EXPECT_NE(std::find(methods.begin(), methods.end(), "Plan"), methods.end());
}

}  // namespace
}  // namespace fleetsim::service
