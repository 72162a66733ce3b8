// The money flags through the real binary: the TCO block in summary.json,
// a missing price as a named error, and the site overrides recorded.
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using testutil::FleetsimRun;
using testutil::RunFleetsim;

const std::string kSource = FLEETSIM_SOURCE_DIR;

// Replays 20 s of the coding trace on `cluster` with `extra` flags.
FleetsimRun Replay(const std::string& cluster, const std::string& out,
                   const std::string& extra) {
  return RunFleetsim("replay --cluster " + kSource + "/data/clusters/" +
                     cluster + " --model bloom-176b --trace " + kSource +
                     "/data/traces/azure_2023_code.csv --rate 10 --duration "
                     "20 --seed 2 --out " +
                     out + " " + extra);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::string TempOut(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "_" + std::to_string(getpid());
}

TEST(EconomicsFlagsTest, SummaryCarriesTheTcoWithItsAssumptions) {
  const std::string out = TempOut("tco_summary");
  FleetsimRun run = Replay("default.txtpb", out,
                           "--pool prefill=2 --pool decode=2 --usd-per-kwh "
                           "0.12 --amortization-years 4");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("cost (list basis): capex $"));
  const std::string summary = Slurp(out + "/summary.json");
  for (const char* key :
       {"\"tco\"", "\"cost_basis\": \"COST_BASIS_LIST\"", "\"capex_usd\"",
        "\"energy_usd_per_year\"", "\"opex_usd_per_year\"", "\"tco_usd\"",
        "\"usd_per_hour\"", "\"usd_per_million_output_tokens\"",
        "\"amortization_years\": 4",
        "\"schema\": \"fleetsim.v1.SimulationResult\"",
        "\"source\": \"command line --usd-per-kwh\"", "\"pue\"",
        "\"Uptime Institute"}) {
    EXPECT_THAT(summary, HasSubstr(key));
  }
  // 4 DGX-H100-class machines at list price: 4 x (8 x 27,500 + 84,000).
  EXPECT_THAT(summary, HasSubstr("\"capex_usd\": 1216000"));
}

TEST(EconomicsFlagsTest, AnUnpricedChipFailsNamingTheField) {
  const std::string out = TempOut("tco_unpriced");
  FleetsimRun run = Replay("spad.txtpb", out, "--cost-basis list");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("chip 'spad_prefill'"));
  EXPECT_THAT(run.output, HasSubstr("pricing.purchase_usd"));
  run = Replay("spad.txtpb", out, "--cost-basis free");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("--cost-basis"));
  run = Replay("default.txtpb", out, "--pue 0.5");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("pue"));
}

}  // namespace
}  // namespace fleetsim
