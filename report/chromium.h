// File: report/chromium.h
//
// Headless Chromium (Debian's `chromium` package) as fleetsim uses it: to
// print report.html to report.pdf, and in the tests to load the report and
// dump its DOM. Every run has the network cut off (DNS answers nothing and
// every connection goes to a closed proxy port), a throw-away profile, no
// sandbox (it may run as root in CI), and a time limit after which its whole
// process group is killed.
#ifndef FLEETSIM_REPORT_CHROMIUM_H_
#define FLEETSIM_REPORT_CHROMIUM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fleetsim::report {

// $FLEETSIM_CHROMIUM when set, else the first of chromium,
// chromium-browser, google-chrome on $PATH. NotFound (saying how to
// install it) when there is none.
absl::StatusOr<std::string> FindChromium();

// "Chromium 156.0.8078.129 built on Debian GNU/Linux 12 (bookworm)".
absl::StatusOr<std::string> ChromiumVersion(const std::string& chromium);

struct ChromiumRun {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `chromium --headless` with the fixed flags above and `args`.
// Errors: Internal when it cannot start, DeadlineExceeded after
// `timeout_s` (the process group is killed). A non-zero exit is a result.
absl::StatusOr<ChromiumRun> RunHeadlessChromium(
    const std::string& chromium, const std::vector<std::string>& args,
    double timeout_s);

// The file:// URL of an absolute path (space, #, %, ? escaped).
std::string FileUrl(const std::string& absolute_path);

// Prints the page at `html_path` to `pdf_path` (A4, the page's own print
// CSS, no header or footer) once its scripts have run; the file appears
// only once complete (util/output_file.h). Errors: as RunHeadlessChromium;
// Internal with Chromium's output when no PDF appears; OutputFile's.
absl::Status PrintToPdf(const std::string& chromium,
                        const std::string& html_path,
                        const std::string& pdf_path, double timeout_s);

}  // namespace fleetsim::report

#endif  // FLEETSIM_REPORT_CHROMIUM_H_
