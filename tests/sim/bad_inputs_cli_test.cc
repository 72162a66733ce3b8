// Regressions for issue 16 through the real `fleetsim` binary: hostile
// values that once aborted, hung or were silently ignored now exit 1 (2 for
// usage errors) with a message naming the flag, or the file, line and field.
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fleetsim_cli.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using testutil::FleetsimRun;
using testutil::RunFleetsim;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

std::string Replay(const std::string& extra) {
  return "replay --cluster " + kData +
         "/clusters/default.txtpb --model bloom-176b --trace " + kData +
         "/traces/azure_2023_code.csv " + extra;
}

std::string Plan(const std::string& extra) {
  return "plan --model bloom-176b --trace " + kData +
         "/traces/azure_2023_code.csv --rate 2 --duration 10 --slo normal " +
         extra;
}

struct Case {
  std::string args;
  int exit_code;
  std::string message;
};

TEST(BadInputsCliTest, ExitWithAnErrorNamingTheFlag) {
  for (const Case& c : std::vector<Case>{
           {Replay("--rate-scale 5e-324"), 1, "--rate-scale"},
           {Replay("--rate 1e9 --duration 1e6"), 1,
            "exceed the per-run limit of 10000000"},
           {Replay("--rate 10 --arrival gamma --gamma-cv 1e9 --duration 10"), 1,
            "field 'gamma_cv' must be in [0.001, 100]"},
           {Replay("--duration inf"), 1, "field 'duration_s'"},
           {Replay("--pool prefill=2147483647"), 1, "exceed the per-run limit"},
           {Replay("stray_word"), 2,
            "replay takes no positional arguments, got 'stray_word'"},
           {Plan("--jobs -1"), 1, "field 'jobs' must be in"},
           {Plan("--budget-machines -1"), 1,
            "field 'budget_machines' must be in"},
           {Plan("--tp-options 3"), 1, "3 does not divide the machine's 8"},
           {Plan("stray_word"), 2,
            "plan takes no positional arguments, got 'stray_word'"},
       }) {
    SCOPED_TRACE(c.args);
    FleetsimRun run = RunFleetsim(c.args);
    EXPECT_EQ(run.exit_code, c.exit_code) << run.output;
    EXPECT_THAT(run.output, HasSubstr(c.message));
  }
}

TEST(BadInputsCliTest, BadClusterValuesNameFileLineAndField) {
  const std::string path = ::testing::TempDir() + "/role99.txtpb";
  std::ofstream(path) << R"(name: "x"
pools {
  role: 99
  machine { chip: "h100" }
  machines: 1
}
)";
  FleetsimRun run =
      RunFleetsim("replay --cluster " + path + " --model bloom-176b --trace " +
                  kData + "/traces/azure_2023_code.csv");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr(path + ":3: field 'pools[0].role' has no value 99"));
}

}  // namespace
}  // namespace fleetsim
