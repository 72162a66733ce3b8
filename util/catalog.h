// File: util/catalog.h
//
// Catalog<T>: named protobuf entries (chips, models) loaded from a folder of
// text-format files, one entry per file. Users add their own entry by
// dropping a file in; a later folder overrides an earlier one by name.
// The per-type checks live beside the type (hardware/chip_catalog.h,
// workloads/model_catalog.h) and are passed in as a validator.
#ifndef FLEETSIM_UTIL_CATALOG_H_
#define FLEETSIM_UTIL_CATALOG_H_

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/text_locator.h"
#include "util/textproto.h"

namespace fleetsim {

// Owns its entries; read-only after loading, so safe to share across threads.
template <typename Entry>
class Catalog final {
 public:
  // Checks one parsed entry; `path` is for error messages (a TextLocator
  // on it gives each field's line).
  using Validator =
      std::function<absl::Status(const Entry&, const std::string& path)>;

  Catalog() = default;

  // Loads every *.txtpb file in `dir` (sorted by name, so loading is
  // deterministic). Errors: NotFound if `dir` is missing; InvalidArgument
  // naming file, line and field for a bad entry or a duplicate name.
  absl::Status AddDirectory(const std::string& dir, const Validator& validate) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return absl::NotFoundError(
          absl::StrCat(dir, ": catalog folder not found"));
    }
    std::vector<std::string> files;
    for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
      if (item.path().extension() == ".txtpb")
        files.push_back(item.path().string());
    }
    std::sort(files.begin(), files.end());
    std::map<std::string, std::string> seen_here;
    for (const std::string& path : files) {
      Entry entry;
      absl::Status status = ReadTextProtoFile(path, &entry);
      if (!status.ok()) return status;
      if (entry.name().empty()) {
        return absl::InvalidArgumentError(
            AtLocation(path, 0, "field 'name' is missing"));
      }
      status = validate(entry, path);
      if (!status.ok()) return status;
      auto [it, inserted] = seen_here.emplace(entry.name(), path);
      if (!inserted) {
        return absl::InvalidArgumentError(
            TextLocator(path, entry)
                .At("name", absl::StrCat("name '", entry.name(),
                                         "' already defined in ", it->second)));
      }
      entries_[entry.name()] = std::move(entry);
    }
    return absl::OkStatus();
  }

  // Adds or replaces one entry (validated by the caller).
  void Add(Entry entry) {
    std::string name = entry.name();
    entries_[name] = std::move(entry);
  }

  // NotFound, listing the known names, when `name` is not in the catalog.
  absl::StatusOr<const Entry*> Find(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "unknown name '", name, "'; known: ", absl::StrJoin(names(), ", ")));
    }
    return &it->second;
  }

  // Entries sorted by name.
  std::vector<const Entry*> entries() const {
    std::vector<const Entry*> out;
    for (const auto& [name, entry] : entries_) out.push_back(&entry);
    return out;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

  size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_CATALOG_H_
