#include "report/chromium.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/output_file.h"
#include "util/status_macros.h"
#include "util/textproto.h"

extern char** environ;

namespace fleetsim::report {
namespace {

// A folder removed when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    std::string base = std::filesystem::temp_directory_path(ec).string();
    std::string pattern =
        (base.empty() ? "/tmp" : base) + "/fleetsim-chromium-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadOrEmpty(const std::string& path) {
  std::string text;
  (void)ReadFileToString(path, &text);
  return text;
}

}  // namespace

std::string FileUrl(const std::string& path) {
  std::string url = "file://";
  for (char c : path) {
    if (c == ' ' || c == '#' || c == '%' || c == '?') {
      absl::StrAppend(
          &url, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      url.push_back(c);
    }
  }
  return url;
}

absl::StatusOr<std::string> FindChromium() {
  if (const char* env = std::getenv("FLEETSIM_CHROMIUM"); env && *env)
    return std::string(env);
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path ? path : "/usr/bin:/bin", ':', absl::SkipEmpty())) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      std::string candidate = absl::StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return absl::NotFoundError(
      "Chromium not found (install Debian's chromium package, e.g. "
      "`apt-get install chromium`, or set FLEETSIM_CHROMIUM)");
}

absl::StatusOr<ChromiumRun> RunHeadlessChromium(
    const std::string& chromium, const std::vector<std::string>& args,
    double timeout_s) {
  TempDir temp;
  if (temp.path().empty())
    return absl::InternalError("cannot create a temporary folder for Chromium");
  std::vector<std::string> argv = {
      chromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-sync",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-crash-reporter",
      "--mute-audio",
      "--hide-scrollbars",
      // No network: nothing resolves, and every connection (IP literals
      // and loopback included) goes to a closed port.
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--proxy-server=http://127.0.0.1:9",
      "--proxy-bypass-list=<-loopback>",
      absl::StrCat("--user-data-dir=", temp.path(), "/profile"),
      absl::StrCat("--crash-dumps-dir=", temp.path(), "/crashes"),
  };
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);

  const std::string out_path = temp.path() + "/stdout";
  const std::string err_path = temp.path() + "/stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, so a timeout kills its helpers too.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, chromium.c_str(), &actions, &attributes,
                            c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", chromium, ": error ", spawned));
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR)
      return absl::InternalError(
          absl::StrCat("waitpid for ", chromium, " failed"));
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(absl::StrCat(
          chromium, " did not finish within ", timeout_s,
          " s; its output: ", ReadOrEmpty(err_path).substr(0, 2000)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ChromiumRun run;
  run.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.stdout_text = ReadOrEmpty(out_path);
  run.stderr_text = ReadOrEmpty(err_path);
  return run;
}

absl::StatusOr<std::string> ChromiumVersion(const std::string& chromium) {
  FLEETSIM_ASSIGN_OR_RETURN(ChromiumRun run,
                            RunHeadlessChromium(chromium, {"--version"}, 30));
  std::string version(absl::StripAsciiWhitespace(run.stdout_text));
  if (run.exit_code != 0 || version.empty()) {
    return absl::InternalError(absl::StrCat(
        chromium, " --version failed: ", run.stderr_text.substr(0, 500)));
  }
  return version;
}

absl::Status PrintToPdf(const std::string& chromium,
                        const std::string& html_path,
                        const std::string& pdf_path, double timeout_s) {
  std::error_code ec;
  const std::string page =
      std::filesystem::absolute(html_path, ec).lexically_normal().string();
  // A previous PDF goes first, so a failed print leaves none beside a new
  // report.html. Chromium prints into a scratch folder; the PDF is then
  // copied to pdf_path through an OutputFile, so a killed or failed print
  // never leaves a truncated report.pdf.
  std::filesystem::remove(pdf_path, ec);
  TempDir scratch;
  if (scratch.path().empty()) {
    return absl::InternalError("cannot create a scratch folder for Chromium");
  }
  const std::string printed = scratch.path() + "/report.pdf";
  FLEETSIM_ASSIGN_OR_RETURN(
      ChromiumRun run,
      RunHeadlessChromium(
          chromium,
          {absl::StrCat("--print-to-pdf=", printed), "--no-pdf-header-footer",
           "--virtual-time-budget=10000", FileUrl(page)},
          timeout_s));
  std::string pdf;
  if (!ReadFileToString(printed, &pdf).ok() || pdf.empty()) {
    return absl::InternalError(
        absl::StrCat("Chromium printed no PDF for ", pdf_path, " (exit ",
                     run.exit_code, "): ", run.stderr_text.substr(0, 2000)));
  }
  return WriteOutputFile(pdf_path, pdf);
}

}  // namespace fleetsim::report
