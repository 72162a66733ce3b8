// File: util/sha256.h
//
// SHA-256 digests (OpenSSL) as lowercase hex: a study's provenance records
// the hash of every input file, and the planner's simulation cache keys
// simulations by the hash of their inputs.
#ifndef FLEETSIM_UTIL_SHA256_H_
#define FLEETSIM_UTIL_SHA256_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fleetsim {

// 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view data);

// The digest of a file's contents, read in blocks. NotFound /
// PermissionDenied naming the path when it cannot be read.
absl::StatusOr<std::string> Sha256FileHex(const std::string& path);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_SHA256_H_
