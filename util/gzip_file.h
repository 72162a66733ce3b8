// File: util/gzip_file.h
//
// Whole-file reading and writing with optional gzip compression (zlib), for
// the tables fleetsim ships compressed: calibration tables (.csv.gz,
// hardware/calibration/calibration_table.h) and the aiconfigurator tables
// their importer reads.
#ifndef FLEETSIM_UTIL_GZIP_FILE_H_
#define FLEETSIM_UTIL_GZIP_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fleetsim {

// Reads the file at `path`, decompressing it when it starts with the gzip
// magic bytes (whatever its name); plain files are returned as they are.
// NotFound if it cannot be opened; DataLoss naming the path for a corrupt or
// truncated gzip stream.
absl::StatusOr<std::string> ReadMaybeGzippedFile(const std::string& path);

// Writes `contents` to `path`, gzip-compressed (level 9) when the name ends
// in ".gz", plainly otherwise. The output is deterministic (no file name or
// time stamp in the gzip header). FailedPrecondition naming the path when
// it cannot be written.
absl::Status WriteMaybeGzippedFile(const std::string& path,
                                   absl::string_view contents);

// gzip-compresses / decompresses a buffer (as above); `origin` names the
// source in errors.
std::string GzipCompress(absl::string_view data);
absl::StatusOr<std::string> GzipDecompress(absl::string_view data,
                                           const std::string& origin);

}  // namespace fleetsim

#endif  // FLEETSIM_UTIL_GZIP_FILE_H_
