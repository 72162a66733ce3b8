// File: tests/scratch_dir.h
//
// A fresh folder under the system's temporary directory for one test,
// removed with everything in it when the ScratchDir goes out of scope.
#ifndef FLEETSIM_TESTS_SCRATCH_DIR_H_
#define FLEETSIM_TESTS_SCRATCH_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace fleetsim::testutil {

class ScratchDir final {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "fleetsim_test_XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Empty when the folder could not be made.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_SCRATCH_DIR_H_
