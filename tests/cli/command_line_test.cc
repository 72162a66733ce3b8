// The `fleetsim` command line (cli/command_line.h) end to end: per-command
// help, flags refused by commands that do not read them, stray positional
// words, the version.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/fleetsim_cli.h"

namespace fleetsim::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testutil::RunFleetsim;

TEST(CommandLineTest, EachCommandHasItsOwnHelp) {
  for (const std::string command :
       {"replay", "plan", "estimate", "catalog", "trace-stats", "serve",
        "study", "calibrate import", "calibrate eval", "calibrate fit",
        "calibrate e2e"}) {
    SCOPED_TRACE(command);
    testutil::FleetsimRun run = RunFleetsim(command + " --help");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("usage: fleetsim " +
                                      command.substr(0, command.find(' '))));
    EXPECT_THAT(run.output, HasSubstr("--help"));
  }
  testutil::FleetsimRun plan = RunFleetsim("plan --help");
  EXPECT_THAT(plan.output, HasSubstr("--budget-machines=INT"));
  EXPECT_THAT(plan.output, HasSubstr("--rate-scale=NUMBER"));
  // Flags of other commands are not listed.
  EXPECT_THAT(plan.output, Not(HasSubstr("--cluster")));
  EXPECT_THAT(plan.output, Not(HasSubstr("--prefill")));
  EXPECT_THAT(RunFleetsim("replay --help").output,
              HasSubstr("--pool=STRING (repeated)"));
  testutil::FleetsimRun help = RunFleetsim("help estimate");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("--accounting=STRING"));
  EXPECT_EQ(RunFleetsim("-h replay").exit_code, 0);
}

TEST(CommandLineTest, TopLevelHelpListsCommands) {
  for (const std::string args : {"help", "--help", ""}) {
    SCOPED_TRACE(args);
    testutil::FleetsimRun run = RunFleetsim(args);
    EXPECT_EQ(run.exit_code, args.empty() ? 2 : 0);
    EXPECT_THAT(run.output, HasSubstr("fleetsim calibrate fit"));
    EXPECT_THAT(run.output, HasSubstr("fleetsim replay"));
  }
}

TEST(CommandLineTest, RefusesFlagsTheCommandDoesNotRead) {
  testutil::ExpectCliErrors(
      "", {
              {"estimate --model bloom-176b --chip h100 --prefill 10 --cluster "
               "x.txtpb",
               2, "estimate does not take --cluster (a flag of replay)"},
              {"trace-stats --trace data/traces/azure_2023_code.csv --json", 2,
               "trace-stats does not take --json"},
              {"catalog chips --rate 5", 2,
               "catalog does not take --rate (a flag of plan, replay)"},
              {"replay --no-such-flag", 2, "unknown flag '--no-such-flag'"},
              {"replay --cluster", 2, "flag --cluster needs a value"},
              {"calibrate", 2,
               "calibrate needs a subcommand: e2e, eval, fit, "
               "import"},
              {"calibrate nope", 2, "(got 'nope')"},
              {"nope", 2, "unknown command 'nope'"},
              {"--model x", 2, "flags need a command first"},
          });
}

TEST(CommandLineTest, RefusesStrayPositionalWords) {
  testutil::ExpectCliErrors(
      "", {
              {"estimate --model bloom-176b --chip h100 --prefill 10 extra", 2,
               "estimate takes no positional arguments, got 'extra'"},
              {"calibrate e2e --perf x.csv more", 2,
               "calibrate e2e takes no positional arguments, got 'more'"},
              {"trace-stats --trace a.csv b.csv", 2,
               "trace-stats takes no positional arguments, got 'b.csv'"},
          });
}

TEST(CommandLineTest, DashesUnderscoresAndSpacesAllWork) {
  const std::string base = "estimate --model bloom-176b --chip h100 ";
  for (const std::string flags :
       {"--tp=8 --prefill=1500", "--tp 8 --prefill 1500",
        "--tp 8 --prefill 1500 --nojson",
        "--tp 8 --prefill 1500 --json=false"}) {
    SCOPED_TRACE(flags);
    testutil::FleetsimRun run = RunFleetsim(base + flags);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("TP8: iteration"));
  }
  testutil::FleetsimRun json = RunFleetsim(base + "--tp 8 --prefill 10 --json");
  EXPECT_THAT(json.output, HasSubstr("\"iteration_s\""));
}

TEST(CommandLineTest, VersionNamesReleaseAndCommit) {
  for (const std::string args : {"--version", "version"}) {
    testutil::FleetsimRun run = RunFleetsim(args);
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_THAT(run.output, ::testing::MatchesRegex(
                                "fleetsim [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit "
                                "([0-9a-f]{40}|unknown), .*\\)\n"));
  }
}

}  // namespace
}  // namespace fleetsim::cli
