// File: tests/catalog_test_util.h
//
// Helpers for tests of Catalog<T> loaders (chips, models): load or fail the
// test, find an entry or fail, and the message of an expected load error.
#ifndef FLEETSIM_TESTS_CATALOG_TEST_UTIL_H_
#define FLEETSIM_TESTS_CATALOG_TEST_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "util/catalog.h"

namespace fleetsim::testutil {

// The loaded catalog; an empty one (and a test failure) on error.
template <typename Entry>
Catalog<Entry> LoadedOrFail(const absl::StatusOr<Catalog<Entry>>& catalog) {
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *catalog : Catalog<Entry>();
}

// The entry named `name`; an empty entry (and a test failure) if missing.
template <typename Entry>
const Entry& FindOrFail(const Catalog<Entry>& catalog,
                        const std::string& name) {
  static const Entry* const kEmpty = new Entry();
  absl::StatusOr<const Entry*> entry = catalog.Find(name);
  EXPECT_TRUE(entry.ok()) << entry.status();
  return entry.ok() ? **entry : *kEmpty;
}

// A load's InvalidArgument message ("" when it loaded).
template <typename Entry>
std::string LoadErrorMessage(const absl::StatusOr<Catalog<Entry>>& catalog) {
  if (catalog.ok()) return "";
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(catalog.status().message());
}

}  // namespace fleetsim::testutil

#endif  // FLEETSIM_TESTS_CATALOG_TEST_UTIL_H_
