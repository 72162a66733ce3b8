#include "util/gzip_file.h"

#include <zlib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fleetsim {
namespace {

bool IsGzip(absl::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

}  // namespace

std::string GzipCompress(absl::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper with a zeroed header (no name, no
  // mtime), so the same input always gives the same bytes.
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

absl::StatusOr<std::string> GzipDecompress(absl::string_view data,
                                           const std::string& origin) {
  z_stream zs{};
  // 15 + 32: accept a gzip or zlib header. Concatenated gzip members are
  // read one after another.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return absl::InternalError(absl::StrCat(origin, ": zlib init failed"));
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[1 << 16];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // next gzip member
      continue;
    }
    if (rc != Z_OK) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return absl::DataLossError(
        absl::StrCat(origin, ": corrupt or truncated gzip data (zlib ",
                     rc == Z_BUF_ERROR ? "unexpected end of input"
                                       : "error " + std::to_string(rc),
                     ")"));
  }
  return out;
}

absl::StatusOr<std::string> ReadMaybeGzippedFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string raw = buffer.str();
  if (!IsGzip(raw)) return raw;
  return GzipDecompress(raw, path);
}

absl::Status WriteMaybeGzippedFile(const std::string& path,
                                   absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": cannot write"));
  }
  if (absl::EndsWith(path, ".gz")) {
    const std::string packed = GzipCompress(contents);
    out.write(packed.data(), static_cast<std::streamsize>(packed.size()));
  } else {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  }
  out.close();
  if (!out) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": write failed"));
  }
  return absl::OkStatus();
}

}  // namespace fleetsim
