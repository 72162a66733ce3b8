// The Study rpc over the wire: a PlanningServer on an ephemeral loopback
// port, the test study (tests/testdata/study/small.txtpb) sent inline, its
// progress and files streamed back and compared with the same study run
// locally; and the limits and path confinement Plan has.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "report/chromium.h"
#include "service/planning_service.h"
#include "study/study_runner.h"
#include "study/study_spec.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::service {
namespace {

using ::testing::HasSubstr;
using testutil::kData;
using testutil::WaitForNoChildren;

const std::string kSpec =
    std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/study/small.txtpb";

class StudyRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.backend.limits.data_dir = kData;
    options.backend.max_concurrent = 2;
    absl::StatusOr<std::unique_ptr<PlanningServer>> server =
        PlanningServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::PlanningService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
    absl::StatusOr<v1::StudySpec> spec = study::LoadStudySpec(kSpec);
    ASSERT_TRUE(spec.ok()) << spec.status();
    spec_ = *spec;
  }

  grpc::Status Study(const v1::StudyRequest& request,
                     std::vector<v1::StudyResponse>* events) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(240));
    std::unique_ptr<grpc::ClientReader<v1::StudyResponse>> reader =
        stub_->Study(&context, request);
    v1::StudyResponse event;
    while (reader->Read(&event)) events->push_back(event);
    return reader->Finish();
  }

  std::unique_ptr<PlanningServer> server_;
  std::unique_ptr<v1::PlanningService::Stub> stub_;
  v1::StudySpec spec_;
};

TEST_F(StudyRpcTest, StreamsProgressThenTheFilesOfALocalRun) {
  v1::StudyRequest request;
  *request.mutable_spec() = spec_;
  request.set_seeds(2);
  const bool pdf = report::FindChromium().ok();
  request.set_pdf(pdf);
  std::vector<v1::StudyResponse> events;
  grpc::Status status = Study(request, &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> names;
  bool progress_after_files = false;
  const v1::ReportFile* json = nullptr;
  const v1::ReportFile* html = nullptr;
  for (const v1::StudyResponse& event : events) {
    if (event.has_progress()) progress_after_files |= !names.empty();
    if (!event.has_file()) continue;
    names.push_back(event.file().name());
    if (event.file().name() == "study.json") json = &event.file();
    if (event.file().name() == "report.html") html = &event.file();
  }
  EXPECT_TRUE(events.front().has_progress());
  EXPECT_FALSE(progress_after_files);
  std::vector<std::string> expected = {"study.json", "summary.csv",
                                       "variant-today.csv",
                                       "variant-dear_power.csv", "report.html"};
  if (pdf) expected.push_back("report.pdf");
  EXPECT_EQ(names, expected);
  ASSERT_NE(json, nullptr);
  ASSERT_NE(html, nullptr);
  EXPECT_THAT(html->content(), HasSubstr("Content-Security-Policy"));

  // The same numbers as the study run here.
  v1::StudyResult remote;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(json->content(), &remote)
          .ok());
  study::StudyOptions options;
  options.data_dir = kData;
  options.seeds = 2;
  options.jobs = 2;
  absl::StatusOr<v1::StudyResult> local = study::RunStudy(spec_, options);
  ASSERT_TRUE(local.ok()) << local.status();
  ASSERT_EQ(remote.variants_size(), local->variants_size());
  for (int i = 0; i < local->variants_size(); ++i) {
    const v1::StudyVariantResult& r = remote.variants(i);
    const v1::StudyVariantResult& l = local->variants(i);
    EXPECT_EQ(r.recommended().key(), l.recommended().key());
    EXPECT_EQ(r.recommended().tco_usd().median(),
              l.recommended().tco_usd().median());
  }
  EXPECT_THAT(remote.provenance().command_line(), HasSubstr("Study rpc"));
  EXPECT_EQ(remote.provenance().inputs(0).role(), "study");
  EXPECT_EQ(WaitForNoChildren(server_->backend()->worker_helper_pid()), 0u);
}

TEST_F(StudyRpcTest, PathsOutsideTheDataFolderAreRefused) {
  v1::StudyRequest request;
  *request.mutable_spec() = spec_;
  request.mutable_spec()->mutable_base()->mutable_workload()->set_trace_path(
      "../../etc/passwd");
  std::vector<v1::StudyResponse> events;
  grpc::Status status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("spec.base.workload.trace_path"));
  EXPECT_TRUE(events.empty());

  *request.mutable_spec() = spec_;
  request.mutable_spec()->mutable_variants(1)->set_slo_preset("/etc/passwd");
  status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("spec.variants[1] ('dear_power'): slo_preset"));
}

TEST_F(StudyRpcTest, BadRequestsAreRefusedBeforeAnyWork) {
  std::vector<v1::StudyResponse> events;
  v1::StudyRequest request;
  *request.mutable_spec() = spec_;
  request.set_seeds(65);
  grpc::Status status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("seeds: 65"));

  request.set_seeds(1);
  request.mutable_spec()->mutable_base()->set_trace_bytes("a,b\n");
  status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("spec.base.trace_bytes"));

  *request.mutable_spec() = spec_;
  request.mutable_spec()->mutable_variants(0)->set_model("gpt-5");
  status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("spec.variants[0] ('today'): model"));

  *request.mutable_spec() = spec_;
  request.mutable_spec()->mutable_base()->mutable_fixed_fleet()->set_name("x");
  status = Study(request, &events);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace fleetsim::service
