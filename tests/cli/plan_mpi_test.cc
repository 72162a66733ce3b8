// `mpirun --oversubscribe -np 3 fleetsim plan|study` (issue 17): rank 0
// searches, ranks 1 and 2 simulate, and the outputs equal those of the
// local pool with --jobs 2 (the same search width) byte for byte, wall
// times and the generation time aside. Skipped, saying why, where mpirun or the
// MPI build is absent.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

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

// The mpirun command prefix, or "" when the test cannot run here.
std::string Mpirun() {
#ifndef FLEETSIM_MPIEXEC
  return "";
#else
  if (std::system("command -v " FLEETSIM_MPIEXEC " >/dev/null 2>&1") != 0)
    return "";
  // Open MPI refuses root without these (containers, CI).
  std::string root = geteuid() == 0 ? " --allow-run-as-root" : "";
  return std::string(FLEETSIM_MPIEXEC) + root +
         " --oversubscribe -np 3 " FLEETSIM_BINARY_DIR "/fleetsim ";
#endif
}

class MpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef FLEETSIM_MPIEXEC
    GTEST_SKIP() << "fleetsim was built without MPI (libopenmpi-dev absent "
                    "or -DFLEETSIM_MPI=OFF): the MPI pool is not tested";
#endif
    mpirun_ = Mpirun();
    if (mpirun_.empty())
      GTEST_SKIP() << "mpirun not found (apt-get install openmpi-bin)";
    dir_ = ::testing::TempDir() + "/mpi_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `fleetsim ARGS --out DIR/out`, moves its outputs to DIR/local,
  // then `mpirun ... fleetsim ARGS --out DIR/out` (the same command line:
  // study.json records it).
  void RunLocallyThenOnThreeRanks(const std::string& args) {
    const std::string out = " --out " + dir_ + "/out";
    testutil::FleetsimRun local = testutil::RunFleetsim(args + out);
    ASSERT_EQ(local.exit_code, 0) << local.output;
    std::filesystem::rename(dir_ + "/out", dir_ + "/local");
    const std::string command = mpirun_ + args + out + " 2>&1";
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

  std::string mpirun_;
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

// The test study: two variants over two seeds.
TEST_F(MpiTest, StudyOnThreeRanksEqualsTheLocalStudy) {
  RunLocallyThenOnThreeRanks(std::string("study --spec ") +
                             FLEETSIM_SOURCE_DIR +
                             "/tests/testdata/study/small.txtpb --seeds 2 "
                             "--jobs 2 --pdf=false");
  ExpectSameOutput("study.json");
  ExpectSameOutput("summary.csv");
}

}  // namespace
}  // namespace fleetsim
