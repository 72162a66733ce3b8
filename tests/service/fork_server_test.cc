// ForkServer (service/fork_server.h): jobs run in processes of their
// own, answers come back as frames, a crash is reported, and a job whose
// caller hangs up is killed with all of its children.
#include "service/fork_server.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/service/service_test_util.h"

namespace fleetsim::service {
namespace {

using testutil::ChildrenOf;
using testutil::WaitForChildren;
using testutil::WaitForNoChildren;
using testutil::WaitForProcessGone;

// Job bodies, chosen by the request text.
void TestJob(int fd) {
  absl::StatusOr<Frame> request = ReadFrame(fd);
  if (!request.ok()) return;
  const std::string& what = request->payload;
  if (what == "crash") {
    // The default action, so that a sanitizer's handler (ASan turns
    // SIGSEGV into a report and exit 1) does not stand in for the crash.
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
  }
  if (what == "sleep") {  // a child that would outlive a careless kill
    if (fork() == 0) {
      while (true) pause();
    }
    while (true) pause();
  }
  if (what == "progress") {
    for (int i = 0; i < 3; ++i)
      (void)WriteFrame(fd, 2, absl::StrCat("step ", i));
  }
  (void)WriteFrame(fd, 1, absl::StrCat("echo ", getpid(), " ", what));
}

absl::Status NeverStop() { return absl::OkStatus(); }

TEST(ForkServerTest, EachJobRunsInAProcessOfItsOwnAndAnswers) {
  auto server = ForkServer::Start(TestJob);
  ASSERT_TRUE(server.ok()) << server.status();
  for (const char* text : {"a", "b"}) {
    absl::StatusOr<Job> job = (*server)->Submit();
    ASSERT_TRUE(job.ok()) << job.status();
    ASSERT_TRUE(job->Send(text).ok());
    absl::StatusOr<Frame> answer = job->Next(NeverStop);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->kind, 1);
    EXPECT_NE(answer->payload.find(text), std::string::npos);
    EXPECT_EQ(answer->payload.find(absl::StrCat(" ", getpid(), " ")),
              std::string::npos);  // not this process
  }
  EXPECT_EQ(WaitForNoChildren((*server)->pid()), 0u);
}

TEST(ForkServerTest, FramesArriveInOrder) {
  auto server = ForkServer::Start(TestJob);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Job> job = (*server)->Submit();
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->Send("progress").ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Frame> frame = job->Next(NeverStop);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->kind, 2);
    EXPECT_EQ(frame->payload, absl::StrCat("step ", i));
  }
  absl::StatusOr<Frame> last = job->Next(NeverStop);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->kind, 1);
}

TEST(ForkServerTest, ACrashIsAnInternalErrorNamingTheSignal) {
  auto server = ForkServer::Start(TestJob);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Job> job = (*server)->Submit();
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->Send("crash").ok());
  absl::StatusOr<Frame> answer = job->Next(NeverStop);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(answer.status().message().find("signal 11"), std::string::npos)
      << answer.status();
  // The helper survives and serves the next job.
  absl::StatusOr<Job> next = (*server)->Submit();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->Send("after").ok());
  EXPECT_TRUE(next->Next(NeverStop).ok());
}

TEST(ForkServerTest, StoppingAJobKillsItAndItsChildren) {
  auto server = ForkServer::Start(TestJob);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Job> job = (*server)->Submit();
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->Send("sleep").ok());
  int polls = 0;
  absl::StatusOr<Frame> answer = job->Next([&polls]() {
    return ++polls < 10 ? absl::OkStatus()
                        : absl::CancelledError("caller gave up");
  });
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kCancelled);
  pid_t helper = (*server)->pid();
  ASSERT_EQ(ChildrenOf(helper).size(), 1u);  // the sleeping job
  job->Kill();
  // The job and its grandchild (re-parented to the helper, a subreaper)
  // are gone.
  EXPECT_EQ(WaitForNoChildren(helper), 0u);
}

TEST(ForkServerTest, DestroyingTheServerKillsRunningJobs) {
  auto server = ForkServer::Start(TestJob);
  ASSERT_TRUE(server.ok());
  absl::StatusOr<Job> job = (*server)->Submit();
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->Send("sleep").ok());
  pid_t helper = (*server)->pid();
  std::vector<pid_t> jobs = WaitForChildren(helper);
  ASSERT_EQ(jobs.size(), 1u) << "the job never started";
  server->reset();  // returns once the helper has exited
  EXPECT_EQ(kill(helper, 0), -1);
  EXPECT_TRUE(ChildrenOf(getpid()).empty());
  EXPECT_TRUE(WaitForProcessGone(jobs[0]));
}

}  // namespace
}  // namespace fleetsim::service
