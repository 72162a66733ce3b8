// `fleetsim plan` through the built binary: bad requests are errors naming
// the flag (issue 16: they used to fall back to defaults or end as
// "infeasible").
#include <string>

#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim {
namespace {

TEST(PlanCommandTest, BadFlagsAreErrorsNamingThem) {
  const std::string base =
      std::string("plan --model bloom-176b --trace ") + FLEETSIM_SOURCE_DIR +
      "/data/traces/azure_2023_code.csv --rate 2 --duration 10 --slo normal ";
  testutil::ExpectCliErrors(
      base, {{"--jobs -1", 1, "field 'jobs' must be in"},
             {"--budget-machines -1", 1, "field 'budget_machines' must be in"},
             {"--budget-machines 2000000", 1,
              "field 'budget_machines' must be in [1, 10000]"},
             {"--tp-options 3", 1, "3 does not divide the machine's 8"},
             {"--gamma-cv 500 --arrival gamma", 1,
              "field 'workload.gamma_cv' must be in"},
             {"stray_word", 2,
              "plan takes no positional arguments, got 'stray_word'"}});
}

}  // namespace
}  // namespace fleetsim
