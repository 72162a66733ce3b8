// `fleetsim study` end to end: the test study (two variants over two seeds)
// written to disk, then its report.html loaded from disk by headless
// Chromium with the network cut off (no console message, every chart drawn)
// and its report.pdf read back with pdftotext. The browser checks skip only
// where Chromium is not installed; CI installs it (quickstart.sh).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "fleetsim/v1/study.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "report/chromium.h"
#include "tests/cli/fleetsim_cli.h"
#include "tests/scratch_dir.h"
#include "util/textproto.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testutil::RunFleetsim;

const std::string kSpec =
    std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/study/small.txtpb";

class StudyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(scratch_.path().empty()); }

  std::string Read(const std::string& name) {
    std::string text;
    EXPECT_TRUE(ReadFileToString(out_ + "/" + name, &text).ok()) << name;
    return text;
  }
  v1::StudyResult ReadStudyJson() {
    v1::StudyResult result;
    auto status = google::protobuf::util::JsonStringToMessage(
        Read("study.json"), &result);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return result;
  }

  testutil::ScratchDir scratch_;
  const std::string out_ = scratch_.path();
};

// "$512,696": a dollar figure as the report prints it.
std::string Dollars(double value) {
  std::string digits = absl::StrFormat("%.0f", value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return "$" + out;
}

TEST_F(StudyCommandTest, WritesStudyJsonAndCsvTables) {
  testutil::FleetsimRun run =
      RunFleetsim(absl::StrCat("study --spec ", kSpec, " --out ", out_,
                               " --seeds 2 --jobs 2 --pdf=false"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("today "));
  EXPECT_THAT(run.output, HasSubstr("(baseline)"));
  v1::StudyResult result = ReadStudyJson();
  ASSERT_EQ(result.variants_size(), 2);
  EXPECT_EQ(result.spec().name(), "small");
  EXPECT_EQ(result.schema(), "fleetsim.v1.StudyResult");
  EXPECT_TRUE(result.variants(0).feasible());
  EXPECT_THAT(result.provenance().command_line(), HasSubstr("--seeds 2"));
  // One header and one row per variant / per fleet compared.
  std::vector<std::string> summary =
      absl::StrSplit(Read("summary.csv"), '\n', absl::SkipEmpty());
  EXPECT_EQ(summary.size(), 3u);
  EXPECT_THAT(summary[1], HasSubstr("\"today\",1,"));
  std::vector<std::string> fleets =
      absl::StrSplit(Read("variant-today.csv"), '\n', absl::SkipEmpty());
  EXPECT_EQ(fleets.size(),
            1u + static_cast<size_t>(result.variants(0).fleets_size()));
  EXPECT_FALSE(std::filesystem::exists(out_ + "/report.pdf"));
  const std::string html = Read("report.html");
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(html, Not(HasSubstr("@STUDY_JSON@")));
}

TEST_F(StudyCommandTest, BadInputIsAnErrorNamingIt) {
  testutil::FleetsimRun run = RunFleetsim(
      absl::StrCat("study --spec ", kSpec, " --out ", out_, " --seeds 0"));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("seeds must be in [1, 64]"));
  run = RunFleetsim(
      absl::StrCat("study --spec ", out_, "/none.txtpb --out ", out_));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("none.txtpb"));
  run = RunFleetsim("study --out x");
  EXPECT_EQ(run.exit_code, 2);
}

// Protobuf's parser gives every entry of a repeated field its own position,
// even when several share a line (a scan for "variants" at the start of a
// line gave none for the second entry here).
TEST_F(StudyCommandTest, ErrorInARepeatedEntryNamesItsLineAndColumn) {
  const std::string spec = out_ + "/one_line.txtpb";
  std::ofstream(spec) << "name: \"s\"\n"
                         "base { model: \"llama-3-8b\" slo_preset: \"normal\"\n"
                         "  workload { trace_path: \"t.csv\" } }\n"
                         "variants { name: \"a\" } "
                         "variants { name: \"b\" budget_machines: -1 }\n";
  testutil::FleetsimRun run =
      RunFleetsim(absl::StrCat("study --spec ", spec, " --out ", out_, "/o"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(spec + ":4:45: variants[1] ('b'): field "
                                           "'budget_machines' must be >= 0"));
}

// Chart name -> the DOM between its <div class="chart"> and the next one
// (or the next section).
std::map<std::string, std::string> ChartSegments(const std::string& dom) {
  std::map<std::string, std::string> charts;
  std::regex open(R"re(<div class="chart" id="chart-([a-z]+)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), open);
       it != std::sregex_iterator(); ++it) {
    size_t start = it->position(0) + it->length(0);
    size_t end = dom.find("<h2", start);
    size_t next = dom.find("<div class=\"chart\"", start);
    end = std::min(end, next);
    charts[(*it)[1]] = dom.substr(start, end - start);
  }
  return charts;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

TEST_F(StudyCommandTest, ReportRendersOfflineInChromiumAndPrints) {
  absl::StatusOr<std::string> chromium = report::FindChromium();
  if (!chromium.ok()) GTEST_SKIP() << chromium.status().message();
  testutil::FleetsimRun run = RunFleetsim(absl::StrCat(
      "study --spec ", kSpec, " --out ", out_, " --seeds 2 --jobs 2"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  v1::StudyResult result = ReadStudyJson();
  EXPECT_THAT(result.provenance().chromium(), HasSubstr("Chromium"));

  // Loaded from disk, network off (report/chromium.h), after its scripts.
  absl::StatusOr<report::ChromiumRun> page = report::RunHeadlessChromium(
      *chromium,
      {"--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
       "--dump-dom", report::FileUrl(out_ + "/report.html")},
      120);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->exit_code, 0) << page->stderr_text;
  // Any console message (an error, a blocked load) fails: the report logs
  // nothing when all is well.
  for (absl::string_view line : absl::StrSplit(page->stderr_text, '\n')) {
    EXPECT_THAT(std::string(line), Not(HasSubstr(":CONSOLE")));
  }
  const std::string& dom = page->stdout_text;
  std::map<std::string, std::string> charts = ChartSegments(dom);
  std::smatch drawn;
  ASSERT_TRUE(
      std::regex_search(dom, drawn, std::regex(R"re(data-charts="(\d+)")re")))
      << "the report script did not finish";
  EXPECT_EQ(std::stoul(drawn[1]), charts.size());
  for (const char* name : {"pareto", "composition", "latency", "utilisation",
                           "seeds", "tornado"}) {
    ASSERT_TRUE(charts.count(name)) << name;
    const std::string& svg = charts[name];
    EXPECT_EQ(Count(svg, "<svg"), 1) << name;
    // Axes and legend alone draw a few paths; data marks add more.
    EXPECT_GE(Count(svg, "<path"), 8) << name;
  }
  // The composition chart labels the fleet's chip and role.
  EXPECT_THAT(charts["composition"], HasSubstr("h100 colocated"));

  // The PDF names the recommended fleet and its dollar figure.
  ASSERT_TRUE(OnPath("pdftotext"))
      << "pdftotext not found: install poppler-utils (quickstart.sh does)";
  testutil::FleetsimRun text{};
  const std::string command =
      absl::StrCat("pdftotext -layout ", out_, "/report.pdf - 2>&1");
  std::FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    text.output.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << text.output;
  const v1::StudyFleet& recommended = result.variants(0).recommended();
  EXPECT_THAT(text.output,
              HasSubstr(absl::StrCat("today: buy 1 h100 colocated for ",
                                     Dollars(recommended.tco_usd().median()))))
      << text.output.substr(0, 3000);
}

}  // namespace
}  // namespace fleetsim
