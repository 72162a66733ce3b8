// File: util/output_file.h
//
// OutputFile: a result file that appears under its name only once it is
// complete. Bytes go to a temporary file beside it ("NAME.tmp-PID");
// Commit() checks every write, the flush and the close, then renames the
// temporary into place. A file never committed (an error, an early return,
// exit(), SIGINT/SIGTERM) is removed, so a failed or interrupted run never
// leaves a truncated file that reads like a finished one, and never
// replaces the previous run's complete file.
#ifndef FLEETSIM_UTIL_OUTPUT_FILE_H_
#define FLEETSIM_UTIL_OUTPUT_FILE_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fleetsim {

class OutputFile final {
 public:
  // Opens the temporary file. Errors: PermissionDenied naming `path` (the
  // folder is missing or not writable).
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(
      const std::string& path);

  // Removes the temporary file unless committed.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends `data`. The first error is kept and returned by status() and
  // Commit(), so a caller writing many rows need not check each one.
  void Write(absl::string_view data);
  absl::Status status() const { return status_; }

  // Flushes and closes the temporary file, then renames it to
  // path(). Errors: DataLoss naming the path and the system's reason (a
  // full disk, a file size limit); the temporary is then removed.
  absl::Status Commit();

  const std::string& path() const { return path_; }

 private:
  OutputFile(std::string path, std::string temp_path, FILE* file, int slot);
  void Fail(const char* what);

  const std::string path_;
  const std::string temp_path_;
  FILE* file_;
  int slot_;  // in the registry of uncommitted files (output_file.cc)
  bool committed_ = false;
  absl::Status status_;
};

// Writes `contents` to `path` through an OutputFile.
absl::Status WriteOutputFile(const std::string& path,
                             absl::string_view contents);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_OUTPUT_FILE_H_
