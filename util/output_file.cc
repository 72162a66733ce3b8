#include "util/output_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace fleetsim {
namespace {

// Temporary files not yet committed, for the exit and signal cleanup. A
// signal handler may only read plain memory, so each slot is a fixed
// buffer published by an atomic flag.
constexpr int kSlots = 16;
constexpr size_t kPathBytes = 4096;
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathBytes];
};
Slot slots[kSlots];
std::mutex slots_mutex;  // serialises claiming a slot (not the handler)

void RemoveUncommitted() {
  for (Slot& slot : slots) {
    if (slot.used.load()) unlink(slot.path);
  }
}

void RemoveUncommittedAndDie(int signal_number) {
  RemoveUncommitted();
  std::signal(signal_number, SIG_DFL);
  raise(signal_number);
}

// Installs the exit and SIGINT/SIGTERM cleanup once. A signal whose handler
// someone else installed (SimGrid's SIGINT handler calls exit(), which the
// atexit hook covers; the server's sigwait) keeps it.
void InstallCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(RemoveUncommitted);
    for (int signal_number : {SIGINT, SIGTERM}) {
      struct sigaction old;
      if (sigaction(signal_number, nullptr, &old) == 0 &&
          old.sa_handler == SIG_DFL) {
        std::signal(signal_number, RemoveUncommittedAndDie);
      }
    }
  });
}

int ClaimSlot(const std::string& temp_path) {
  if (temp_path.size() >= kPathBytes) return -1;
  std::lock_guard<std::mutex> lock(slots_mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (!slots[i].used.load()) {
      std::memcpy(slots[i].path, temp_path.c_str(), temp_path.size() + 1);
      slots[i].used.store(true);
      return i;
    }
  }
  return -1;  // more files open at once than slots: no signal cleanup
}

void ReleaseSlot(int slot) {
  if (slot >= 0) slots[slot].used.store(false);
}

}  // namespace

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(
    const std::string& path) {
  InstallCleanup();
  std::string temp_path = absl::StrCat(path, ".tmp-", getpid());
  FILE* file = std::fopen(temp_path.c_str(), "wbx");
  if (file == nullptr && errno == EEXIST) {  // left by a killed run
    unlink(temp_path.c_str());
    file = std::fopen(temp_path.c_str(), "wbx");
  }
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
  }
  int slot = ClaimSlot(temp_path);
  return std::unique_ptr<OutputFile>(
      new OutputFile(path, std::move(temp_path), file, slot));
}

OutputFile::OutputFile(std::string path, std::string temp_path, FILE* file,
                       int slot)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      file_(file),
      slot_(slot) {}

OutputFile::~OutputFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) unlink(temp_path_.c_str());
  ReleaseSlot(slot_);
}

void OutputFile::Fail(const char* what) {
  if (status_.ok()) {
    status_ = absl::DataLossError(
        absl::StrCat(path_, ": ", what, " failed: ", std::strerror(errno)));
  }
}

void OutputFile::Write(absl::string_view data) {
  if (!status_.ok() || file_ == nullptr || data.empty()) return;
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    Fail("write");
  }
}

absl::Status OutputFile::Commit() {
  if (file_ == nullptr) {
    return status_.ok() ? absl::FailedPreconditionError(
                              absl::StrCat(path_, ": committed twice"))
                        : status_;
  }
  if (status_.ok() && std::fflush(file_) != 0) Fail("write");
  if (std::fclose(file_) != 0) Fail("close");
  file_ = nullptr;
  if (status_.ok() && std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Fail("rename");
  }
  if (!status_.ok()) {
    unlink(temp_path_.c_str());
    return status_;
  }
  committed_ = true;
  return absl::OkStatus();
}

absl::Status WriteOutputFile(const std::string& path,
                             absl::string_view contents) {
  absl::StatusOr<std::unique_ptr<OutputFile>> file = OutputFile::Create(path);
  if (!file.ok()) return file.status();
  (*file)->Write(contents);
  return (*file)->Commit();
}

}  // namespace fleetsim
