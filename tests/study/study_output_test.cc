// Tests for study/study_output.h: a file whose writing fails is an error
// naming it, and is never left truncated (issue 16).
#include "study/study_output.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace fleetsim::study {
namespace {

// A file size limit stands in for a full disk: study.json and summary.csv
// fit under it, report.html (ECharts embedded, over 1 MB) does not. The
// write fails with DataLoss naming report.html, which is not left behind,
// nor any temporary.
TEST(StudyOutputTest, AFailedWriteIsAnErrorAndLeavesNoTruncatedFile) {
  const std::string dir =
      ::testing::TempDir() + "/study_output_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  v1::StudyResult result;
  result.mutable_spec()->set_name("full_disk");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG
    rlimit limit{64 << 10, 64 << 10};
    setrlimit(RLIMIT_FSIZE, &limit);
    OutputOptions options;
    options.pdf = false;
    absl::StatusOr<std::vector<std::string>> written =
        WriteStudyOutputs(result, dir, options);
    bool named =
        written.status().code() == absl::StatusCode::kDataLoss &&
        written.status().message().find("report.html") != std::string::npos;
    _exit(named ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.insert(entry.path().filename().string());
  }
  EXPECT_EQ(files, (std::set<std::string>{"study.json", "summary.csv"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fleetsim::study
