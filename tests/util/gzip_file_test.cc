// Tests for util/gzip_file.h: round trips, plain files read as they are,
// deterministic output, corrupt and truncated streams reported as DataLoss.
#include "util/gzip_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("fleetsim_gzip_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string LargeText() {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "row," + std::to_string(i) + "\n";
  return text;  // ~500 kB: several inflate output buffers
}

TEST(GzipFileTest, RoundTripsThroughDiskAndIsDeterministic) {
  const std::string text = LargeText();
  const std::string gz = TempPath("a.csv.gz");
  ASSERT_TRUE(WriteMaybeGzippedFile(gz, text).ok());
  absl::StatusOr<std::string> back = ReadMaybeGzippedFile(gz);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, text);
  EXPECT_LT(std::filesystem::file_size(gz), text.size() / 4);
  EXPECT_EQ(GzipCompress(text), GzipCompress(text));
  // No time stamp: bytes 4..7 of the gzip header (MTIME) are zero.
  const std::string packed = GzipCompress("x");
  EXPECT_EQ(packed.substr(4, 4), std::string(4, '\0'));
}

TEST(GzipFileTest, PlainFilesReadAsTheyAre) {
  const std::string plain = TempPath("a.csv");
  ASSERT_TRUE(WriteMaybeGzippedFile(plain, "a,b\n1,2\n").ok());
  absl::StatusOr<std::string> back = ReadMaybeGzippedFile(plain);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "a,b\n1,2\n");
  EXPECT_EQ(ReadMaybeGzippedFile(TempPath("missing")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GzipFileTest, ConcatenatedMembersReadInOrder) {
  absl::StatusOr<std::string> back =
      GzipDecompress(GzipCompress("first\n") + GzipCompress("second\n"), "t");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "first\nsecond\n");
}

TEST(GzipFileTest, CorruptAndTruncatedDataAreDataLoss) {
  const std::string packed = GzipCompress(LargeText());
  absl::StatusOr<std::string> cut =
      GzipDecompress(packed.substr(0, packed.size() / 2), "t.gz");
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(cut.status().message(), HasSubstr("t.gz: corrupt or truncated"));
  std::string broken = packed;
  broken[20] ^= 0x55;
  broken[21] ^= 0x55;
  EXPECT_EQ(GzipDecompress(broken, "t.gz").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fleetsim
