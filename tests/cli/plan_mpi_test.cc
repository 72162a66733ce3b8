// `mpirun --oversubscribe -np 3 fleetsim plan|study` (issue 17): rank 0
// searches, ranks 1 and 2 simulate, and the outputs equal those of the
// local pool with --jobs 2 (the same search width) byte for byte, wall
// times and the generation time aside. A crashed simulation is retried and
// then an error; a rank that dies ends the launch without a plan. Skipped,
// saying why, where mpirun or the MPI build is absent.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/address_sanitizer.h"
#include "tests/cli/fleetsim_cli.h"
#include "tests/service/service_test_util.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadWithoutClocks(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << path;
  // "wall_s": 4.25 (plan.json, study.json's variants and study) and
  // study.json's "generated_utc": "2026-12-07T07:08:20Z".
  return std::regex_replace(
      text.str(),
      std::regex("\"(wall_s|generated_utc)\": *(\"[^\"]*\"|[0-9.e+-]+)"),
      "\"$1\": CLOCK");
}

// In the sanitized build, the ranks run without LeakSanitizer: Open MPI 4.1
// keeps what MPI_Init allocates until exit (~3,300 allocations in each rank
// of a program that only calls MPI_Init and MPI_Finalize), mostly from
// components it has unloaded by then. Suppressing them by library needs
// whole stacks (ASAN_OPTIONS fast_unwind_on_malloc=0), which made the ranks'
// simulations ~8x slower (a 26 s plan past 200 s here). The same planner and
// simulation code is leak-checked in every other test; elsewhere "". An
// app context's option: a launch of several contexts gives it to each.
std::string SanitizedRanks() {
  if (!FLEETSIM_ASAN) return "";
  const char* asan = std::getenv("ASAN_OPTIONS");
  return std::string(" -x ASAN_OPTIONS=") + (asan ? asan : "") +
         ":detect_leaks=0";
}

// mpirun and its global options, before any app context; "" when the test
// cannot run here.
std::string Mpirun() {
#ifndef FLEETSIM_MPIEXEC
  return "";
#else
  if (std::system("command -v " FLEETSIM_MPIEXEC " >/dev/null 2>&1") != 0)
    return "";
  // Open MPI refuses root without these (containers, CI).
  std::string root = geteuid() == 0 ? " --allow-run-as-root" : "";
  return std::string(FLEETSIM_MPIEXEC) + root + " --oversubscribe";
#endif
}

class MpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef FLEETSIM_MPIEXEC
    GTEST_SKIP() << "fleetsim was built without MPI (libopenmpi-dev absent "
                    "or -DFLEETSIM_MPI=OFF): the MPI pool is not tested";
#endif
    launcher_ = Mpirun();
    if (launcher_.empty())
      GTEST_SKIP() << "mpirun not found (apt-get install openmpi-bin)";
    mpirun_ = launcher_ + " -np 3" + SanitizedRanks() +
              " " FLEETSIM_BINARY_DIR "/fleetsim ";
    dir_ = ::testing::TempDir() + "/mpi_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `fleetsim ARGS --out DIR/out`, moves its outputs to DIR/local,
  // then `mpirun ... fleetsim ARGS --out DIR/out` (the same command line:
  // study.json records it).
  // `ranks` (default: mpirun_) launches the three ranks.
  void RunLocallyThenOnThreeRanks(const std::string& args,
                                  std::string ranks = "") {
    const std::string out = " --out " + dir_ + "/out";
    testutil::FleetsimRun local = testutil::RunFleetsim(args + out);
    ASSERT_EQ(local.exit_code, 0) << local.output;
    std::filesystem::rename(dir_ + "/out", dir_ + "/local");
    if (ranks.empty()) ranks = mpirun_;
    const std::string command = ranks + args + out + " 2>&1";
    std::string output;
    std::FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    if (pipe == nullptr) return;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
      output.append(buffer, n);
    EXPECT_EQ(pclose(pipe), 0) << output;
    // The simulations ran on the worker ranks.
    EXPECT_THAT(output, HasSubstr("simulations on 2 worker rank(s)")) << output;
  }

  void ExpectSameOutput(const std::string& file) {
    EXPECT_EQ(ReadWithoutClocks(dir_ + "/out/" + file),
              ReadWithoutClocks(dir_ + "/local/" + file))
        << file;
  }

  std::string launcher_;  // mpirun and its global options
  std::string mpirun_;    // launcher_, three ranks of fleetsim
  std::string dir_;
};

// --jobs 2 on both: the search width; on three ranks it is also the
// default (2 workers).
TEST_F(MpiTest, PlanOnThreeRanksEqualsTheLocalPlan) {
  RunLocallyThenOnThreeRanks(
      std::string("plan --model llama-2-7b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_conv.csv --rate 4 --duration 60 --slo normal "
      "--chips h100,a100 --budget-machines 8 --jobs 2");
  ExpectSameOutput("plan.json");
  ExpectSameOutput("plan.csv");
}

// A cluster's iteration_time_table travels to the workers by content, as
// the trace does: here rank 0 runs where the relative path `table.csv`
// names SplitwiseSim's table and the workers run in a folder where it names
// nothing (no shared file system), yet the plan equals the local one.
TEST_F(MpiTest, WorkersGetTheIterationTableByContent) {
  const std::string rank0 = dir_ + "/rank0";
  const std::string workers = dir_ + "/workers";
  std::filesystem::create_directories(rank0);
  std::filesystem::create_directories(workers);
  std::filesystem::copy_file(
      std::string(FLEETSIM_SOURCE_DIR) + "/data/splitwise/perf_model.csv",
      rank0 + "/table.csv");
  // The local run's folder is rank 0's.
  absl::Cleanup restore = [cwd = std::filesystem::current_path()] {
    std::filesystem::current_path(cwd);
  };
  std::filesystem::current_path(rank0);
  const std::string args =
      std::string("plan --model llama-2-70b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_conv.csv --rate 2 --duration 60 --slo normal "
      "--chips h100,a100 --modes colocated --budget-machines 4 --jobs 2 "
      "--iteration-table table.csv";
  const std::string app = FLEETSIM_BINARY_DIR "/fleetsim " + args;
  RunLocallyThenOnThreeRanks(
      args, launcher_ + " -np 1" + SanitizedRanks() + " --wdir " + rank0 + " " +
                app + " --out " + dir_ + "/out : -np 2" + SanitizedRanks() +
                " --wdir " + workers + " " FLEETSIM_BINARY_DIR "/fleetsim ");
  ExpectSameOutput("plan.json");
  ExpectSameOutput("plan.csv");
}

// The test study: two variants over two seeds.
TEST_F(MpiTest, StudyOnThreeRanksEqualsTheLocalStudy) {
  RunLocallyThenOnThreeRanks(std::string("study --spec ") +
                             FLEETSIM_SOURCE_DIR +
                             "/tests/testdata/study/small.txtpb --seeds 2 "
                             "--jobs 2 --pdf=false");
  ExpectSameOutput("study.json");
  ExpectSameOutput("summary.csv");
}

// A search of long simulations on three ranks, started in the background:
// the pid of mpirun (whose children are the ranks).
pid_t StartLongPlan(const std::string& mpirun, const std::string& dir) {
  const std::string command =
      "exec " + mpirun + "plan --model llama-2-70b --trace " +
      FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_conv.csv --rate 4 --duration 100000 --slo "
      "normal --modes colocated --jobs 2 --out " +
      dir + "/out >" + dir + "/log 2>&1";
  std::filesystem::create_directories(dir);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits up to two minutes for `pid`; its exit code, -1 if killed or late.
int WaitForExit(pid_t pid) {
  for (int i = 0; i < 12000; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every simulation a worker rank forks is killed: each is run twice (the
// retry rule of the local pool), then the plan stops with an error naming
// the crash, never an "infeasible" answer.
TEST_F(MpiTest, CrashedSimulationsAreRetriedThenAnErrorNotInfeasible) {
  pid_t mpirun = StartLongPlan(mpirun_, dir_);
  ASSERT_GT(mpirun, 0);
  int exit_code = -1;
  for (int i = 0; i < 12000; ++i) {
    int status = 0;
    if (waitpid(mpirun, &status, WNOHANG) == mpirun) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    for (pid_t rank : testutil::ChildrenOf(mpirun)) {
      for (pid_t simulation : testutil::ChildrenOf(rank))
        kill(simulation, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string log = ReadFile(dir_ + "/log");
  EXPECT_EQ(exit_code, 1) << log;
  EXPECT_THAT(log, HasSubstr("died with signal 9"));
  EXPECT_THAT(log, HasSubstr("(2 attempts)"));
  EXPECT_THAT(log, Not(HasSubstr("no fleet")));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/plan.json"));
}

// A worker rank killed mid-search ends the launch with an error and no
// plan, and leaves no rank or simulation running.
TEST_F(MpiTest, ARankThatDiesEndsTheLaunchWithoutAPlan) {
  pid_t mpirun = StartLongPlan(mpirun_, dir_);
  ASSERT_GT(mpirun, 0);
  std::vector<pid_t> ranks, simulations;
  for (int i = 0; i < 6000 && simulations.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ranks = testutil::ChildrenOf(mpirun);
    for (pid_t rank : ranks) {
      std::vector<pid_t> children = testutil::ChildrenOf(rank);
      if (children.empty()) continue;
      simulations = children;
      kill(rank, SIGKILL);
      break;
    }
  }
  ASSERT_FALSE(simulations.empty()) << "no worker rank ran a simulation";
  const int exit_code = WaitForExit(mpirun);
  EXPECT_NE(exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out/plan.json"));
  for (pid_t pid : ranks) EXPECT_TRUE(testutil::WaitForProcessGone(pid));
  for (pid_t pid : simulations) EXPECT_TRUE(testutil::WaitForProcessGone(pid));
}

}  // namespace
}  // namespace fleetsim
