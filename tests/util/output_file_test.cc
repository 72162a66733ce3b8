// Tests for util/output_file.h: a file appears only when complete, an
// uncommitted one leaves nothing (and the previous file untouched), and a
// write that fails for lack of room is an error naming the file.
#include "util/output_file.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/textproto.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/output_file_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::string& path) {
    std::string contents;
    EXPECT_TRUE(ReadFileToString(path, &contents).ok()) << path;
    return contents;
  }
  // Names in dir_, to see that no temporary is left.
  std::vector<std::string> Files() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  std::string dir_;
};

TEST_F(OutputFileTest, TheFileAppearsOnlyOnCommit) {
  std::string path = dir_ + "/out.csv";
  auto file = OutputFile::Create(path);
  ASSERT_TRUE(file.ok()) << file.status();
  (*file)->Write("a,b\n");
  (*file)->Write("1,2\n");
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ(Read(path), "a,b\n1,2\n");
  file->reset();
  EXPECT_THAT(Files(), ::testing::ElementsAre("out.csv"));
}

TEST_F(OutputFileTest, AnUncommittedFileLeavesThePreviousOneUntouched) {
  std::string path = dir_ + "/summary.json";
  ASSERT_TRUE(WriteOutputFile(path, "{\"run\": 1}\n").ok());
  {
    auto file = OutputFile::Create(path);
    ASSERT_TRUE(file.ok());
    (*file)->Write("{\"run\": 2, \"trunc");
  }  // an error path returns without Commit
  EXPECT_EQ(Read(path), "{\"run\": 1}\n");
  EXPECT_THAT(Files(), ::testing::ElementsAre("summary.json"));
}

TEST_F(OutputFileTest, AnUnwritableFolderIsAnErrorNamingThePath) {
  auto file = OutputFile::Create(dir_ + "/missing/out.csv");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(file.status().message(), HasSubstr("missing/out.csv"));
}

// A file size limit stands in for a full disk: the write fails part way,
// Commit says so, and neither the file nor its temporary is left.
TEST_F(OutputFileTest, AFailedWriteIsAnErrorAndLeavesNoFile) {
  std::string path = dir_ + "/requests.csv";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG
    rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    auto file = OutputFile::Create(path);
    if (!file.ok()) _exit(2);
    for (int i = 0; i < 10000; ++i) (*file)->Write("0123456789\n");
    absl::Status status = (*file)->Commit();
    bool named = status.code() == absl::StatusCode::kDataLoss &&
                 status.message().find("requests.csv") != std::string::npos;
    _exit(named ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  EXPECT_TRUE(Files().empty());
}

TEST_F(OutputFileTest, SigtermRemovesTheTemporary) {
  std::string path = dir_ + "/plan.json";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto file = OutputFile::Create(path);
    (*file)->Write("partial");
    char byte = 1;
    (void)!write(ready[1], &byte, 1);
    pause();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);  // the temporary exists now
  EXPECT_EQ(Files().size(), 1u);
  kill(child, SIGTERM);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wait_status));
  EXPECT_TRUE(Files().empty());
}

}  // namespace
}  // namespace fleetsim
