#include "workloads/trace_reader.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/address_sanitizer.h"

#if FLEETSIM_ASAN
#include <sanitizer/allocator_interface.h>
#endif

namespace fleetsim::workloads {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string DataTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/data/traces/" + name;
}
std::string BadTrace(const std::string& name) {
  return std::string(FLEETSIM_SOURCE_DIR) + "/tests/testdata/traces/" + name;
}

// Reads a whole trace; on error returns the status (requests so far kept).
struct ReadResult {
  absl::Status status;
  std::vector<Request> requests;
  int64_t skipped_rows = 0;
  int64_t filtered_rows = 0;
};

ReadResult ReadAll(const std::string& path,
                   v1::TraceFormat format = v1::TRACE_FORMAT_UNSPECIFIED,
                   bool skip_bad_rows = false) {
  ReadResult result;
  ReaderOptions options;
  options.skip_bad_rows = skip_bad_rows;
  absl::StatusOr<std::unique_ptr<TraceReader>> reader =
      TraceReader::Open(path, format, options);
  if (!reader.ok()) {
    result.status = reader.status();
    return result;
  }
  Request request;
  while (true) {
    absl::StatusOr<bool> got = (*reader)->Next(&request);
    if (!got.ok()) {
      result.status = got.status();
      break;
    }
    if (!*got) break;
    result.requests.push_back(request);
  }
  result.skipped_rows = (*reader)->skipped_rows();
  result.filtered_rows = (*reader)->filtered_rows();
  return result;
}

// The error message of reading `path`, or "OK".
std::string ErrorOf(const std::string& path) {
  ReadResult result = ReadAll(path);
  return result.status.ok() ? "OK" : std::string(result.status.message());
}

absl::StatusCode CodeOf(const std::string& path) {
  return ReadAll(path).status.code();
}

TEST(TraceReaderTest, ParseTraceFormatNames) {
  EXPECT_EQ(*ParseTraceFormat("azure"), v1::TRACE_FORMAT_AZURE);
  EXPECT_EQ(*ParseTraceFormat("BurstGPT"), v1::TRACE_FORMAT_BURSTGPT);
  EXPECT_EQ(*ParseTraceFormat("mooncake"), v1::TRACE_FORMAT_MOONCAKE);
  EXPECT_EQ(*ParseTraceFormat("vidur"), v1::TRACE_FORMAT_VIDUR);
  EXPECT_EQ(*ParseTraceFormat("splitwise"), v1::TRACE_FORMAT_SPLITWISE);
  EXPECT_EQ(*ParseTraceFormat(""), v1::TRACE_FORMAT_UNSPECIFIED);
  absl::StatusOr<v1::TraceFormat> bad = ParseTraceFormat("csv");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown trace format 'csv'"));
  EXPECT_STREQ(TraceFormatName(v1::TRACE_FORMAT_SPLITWISE), "splitwise");
}

TEST(TraceReaderTest, DetectsEveryFormatFromItsHeader) {
  struct Case {
    std::string path;
    v1::TraceFormat format;
    bool has_timestamps;
  };
  for (const Case& c : std::vector<Case>{
           {DataTrace("azure_2023_conv.csv"), v1::TRACE_FORMAT_AZURE, true},
           {DataTrace("mooncake_synthetic.jsonl"), v1::TRACE_FORMAT_MOONCAKE,
            true},
           {DataTrace("vidur_splitwise_conv.csv"), v1::TRACE_FORMAT_VIDUR,
            true},
           {DataTrace("splitwise_test_trace.csv"), v1::TRACE_FORMAT_SPLITWISE,
            true},
           {BadTrace("burstgpt_sample.csv"), v1::TRACE_FORMAT_BURSTGPT, true},
           {BadTrace("vidur_lengths_only.csv"), v1::TRACE_FORMAT_VIDUR, false},
       }) {
    SCOPED_TRACE(c.path);
    absl::StatusOr<std::unique_ptr<TraceReader>> reader =
        TraceReader::Open(c.path, v1::TRACE_FORMAT_UNSPECIFIED);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->format(), c.format);
    EXPECT_EQ((*reader)->has_timestamps(), c.has_timestamps);
  }
}

TEST(TraceReaderTest, UnknownHeaderAsksForFormat) {
  EXPECT_EQ(CodeOf(BadTrace("unknown_header.csv")),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      ErrorOf(BadTrace("unknown_header.csv")),
      HasSubstr("unknown_header.csv:1: cannot detect the trace format"));
}

TEST(TraceReaderTest, ForcedFormatNeedsItsColumns) {
  ReadResult result =
      ReadAll(DataTrace("azure_2023_conv.csv"), v1::TRACE_FORMAT_SPLITWISE);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status.message(),
              HasSubstr("azure_2023_conv.csv:1: splitwise header: missing "
                        "column 'arrival_timestamp'"));
  // Forcing the right format works like detection.
  EXPECT_EQ(ReadAll(DataTrace("azure_2023_conv.csv"), v1::TRACE_FORMAT_AZURE)
                .requests.size(),
            19366u);
}

TEST(TraceReaderTest, MissingFileIsNotFound) {
  EXPECT_EQ(CodeOf(BadTrace("no_such_file.csv")), absl::StatusCode::kNotFound);
}

TEST(TraceReaderTest, AzureConvRowsAreRebasedToTheFirstRow) {
  ReadResult result = ReadAll(DataTrace("azure_2023_conv.csv"));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.requests.size(), 19366u);
  const Request& first = result.requests[0];
  EXPECT_EQ(first.id, 0);
  EXPECT_EQ(first.arrival_s, 0.0);
  EXPECT_EQ(first.input_tokens, 374);
  EXPECT_EQ(first.output_tokens, 44);
  // 18:15:50.9951690 - 18:15:46.6805900 (7 fractional digits kept).
  EXPECT_NEAR(result.requests[1].arrival_s, 4.314579, 1e-9);
  EXPECT_EQ(result.requests[1].id, 1);
  // Last row (no trailing newline in the file): 19:14:08.4025270,197,183.
  const Request& last = result.requests.back();
  EXPECT_EQ(last.id, 19365);
  EXPECT_EQ(last.input_tokens, 197);
  EXPECT_EQ(last.output_tokens, 183);
  EXPECT_NEAR(last.arrival_s, 3501.721937, 1e-6);
  EXPECT_TRUE(first.prefix_block_hashes.empty());
}

TEST(TraceReaderTest, VidurReencodingMatchesAzureRowForRow) {
  ReadResult azure = ReadAll(DataTrace("azure_2023_conv.csv"));
  ReadResult vidur = ReadAll(DataTrace("vidur_splitwise_conv.csv"));
  ASSERT_TRUE(vidur.status.ok()) << vidur.status;
  ASSERT_EQ(azure.requests.size(), vidur.requests.size());
  for (size_t i = 0; i < azure.requests.size(); ++i) {
    ASSERT_EQ(azure.requests[i].input_tokens, vidur.requests[i].input_tokens);
    ASSERT_EQ(azure.requests[i].output_tokens, vidur.requests[i].output_tokens);
    ASSERT_NEAR(azure.requests[i].arrival_s, vidur.requests[i].arrival_s, 1e-5)
        << "row " << i;
  }
}

TEST(TraceReaderTest, MooncakeKeepsHashesAndConvertsMilliseconds) {
  ReadResult result = ReadAll(DataTrace("mooncake_synthetic.jsonl"));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.requests.size(), 3993u);
  const Request& first = result.requests[0];
  EXPECT_EQ(first.input_tokens, 40160);
  EXPECT_EQ(first.output_tokens, 6);
  // 40,160 tokens = 79 blocks of 512 (78.4 rounded up), ids 0..78.
  ASSERT_EQ(first.prefix_block_hashes.size(), 79u);
  EXPECT_EQ(first.prefix_block_hashes.front(), 0u);
  EXPECT_EQ(first.prefix_block_hashes.back(), 78u);
  EXPECT_EQ(result.requests[1].prefix_block_hashes.front(), 79u);
  EXPECT_EQ(result.requests[2].arrival_s, 0.040);  // "timestamp": 40 (ms)
  int64_t blocks = 0;
  for (const Request& r : result.requests) {
    blocks += static_cast<int64_t>(r.prefix_block_hashes.size());
  }
  // README: mean 30.5 hash blocks per request.
  EXPECT_NEAR(static_cast<double>(blocks) / 3993.0, 30.5, 0.05);
}

TEST(TraceReaderTest, SplitwiseToyTrace) {
  ReadResult result = ReadAll(DataTrace("splitwise_test_trace.csv"));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.requests.size(), 3u);
  EXPECT_EQ(result.requests[0].input_tokens, 4096);
  EXPECT_EQ(result.requests[0].output_tokens, 32);
  EXPECT_EQ(result.requests[1].arrival_s, 2.0);  // 3 s - 1 s
  EXPECT_EQ(result.requests[2].arrival_s, 3.0);  // 4 s - 1 s
}

TEST(TraceReaderTest, BurstGptDropsFailedRequests) {
  ReadResult result = ReadAll(BadTrace("burstgpt_sample.csv"));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.requests.size(), 3u);
  EXPECT_EQ(result.filtered_rows, 1);
  EXPECT_EQ(result.skipped_rows, 0);
  EXPECT_EQ(result.requests[1].input_tokens, 417);  // quoted "API log" row
  EXPECT_EQ(result.requests[1].output_tokens, 276);
  EXPECT_EQ(result.requests[1].arrival_s, 113.0);
  EXPECT_EQ(result.requests[2].arrival_s, 125.5);
  EXPECT_EQ(result.requests[2].id, 2);  // ids stay sequential
}

TEST(TraceReaderTest, VidurLengthsOnlyHasZeroArrivals) {
  ReadResult result = ReadAll(BadTrace("vidur_lengths_only.csv"));
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.requests.size(), 3u);
  EXPECT_EQ(result.requests[1].input_tokens, 2015);
  EXPECT_EQ(result.requests[1].output_tokens, 156);
  for (const Request& r : result.requests) EXPECT_EQ(r.arrival_s, 0.0);
}

// Each kind of malformed row fails with file, line and field.
TEST(TraceReaderTest, BadRowsNameFileLineAndField) {
  struct Case {
    std::string file;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"azure_missing_column.csv",
            "azure_missing_column.csv:3: field 'GeneratedTokens': missing "
            "(row has 2 of 3 columns)"},
           {"azure_negative_tokens.csv",
            "azure_negative_tokens.csv:4: field 'ContextTokens': '-7' is "
            "negative"},
           {"azure_non_numeric.csv",
            "azure_non_numeric.csv:2: field 'GeneratedTokens': 'abc' is not a "
            "token count"},
           {"azure_time_backwards.csv",
            "azure_time_backwards.csv:4: field 'TIMESTAMP': time goes "
            "backwards (1.995169 s before the previous row)"},
           {"azure_bad_timestamp.csv",
            "azure_bad_timestamp.csv:3: field 'TIMESTAMP': '2023-11-16 "
            "25:15:50.9951690' is not a timestamp"},
           {"mooncake_bad.jsonl", "mooncake_bad.jsonl:2: invalid JSON: "},
       }) {
    SCOPED_TRACE(c.file);
    ReadResult result = ReadAll(BadTrace(c.file));
    EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status.message()), HasSubstr(c.message));
  }
}

TEST(TraceReaderTest, SkipBadRowsCountsThemAndKeepsGoodRows) {
  ReadResult result =
      ReadAll(BadTrace("azure_mixed_bad.csv"), v1::TRACE_FORMAT_UNSPECIFIED,
              /*skip_bad_rows=*/true);
  ASSERT_TRUE(result.status.ok()) << result.status;
  // Bad: line 3 non-numeric, 5 backwards, 6 missing column, 9 out of range;
  // line 7 is blank (ignored, not counted).
  EXPECT_EQ(result.skipped_rows, 4);
  std::vector<int32_t> inputs;
  std::vector<double> arrivals;
  std::vector<int64_t> ids;
  for (const Request& r : result.requests) {
    inputs.push_back(r.input_tokens);
    arrivals.push_back(r.arrival_s);
    ids.push_back(r.id);
  }
  EXPECT_THAT(inputs, ElementsAre(100, 200, 500, 600));
  // The rows cross midnight (23:59:59.5 -> 00:00:03.0 next day).
  EXPECT_THAT(arrivals, ElementsAre(0.0, 0.75, 2.5, 3.5));
  EXPECT_THAT(ids, ElementsAre(0, 1, 2, 3));

  // Without skipping, the first bad row stops the read.
  EXPECT_THAT(ErrorOf(BadTrace("azure_mixed_bad.csv")),
              HasSubstr("azure_mixed_bad.csv:3: field 'ContextTokens': 'x'"));
}

TEST(TraceReaderTest, SkipBadRowsInJsonl) {
  ReadResult result =
      ReadAll(BadTrace("mooncake_bad.jsonl"), v1::TRACE_FORMAT_UNSPECIFIED,
              /*skip_bad_rows=*/true);
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.skipped_rows, 3);
  ASSERT_EQ(result.requests.size(), 2u);
  EXPECT_EQ(result.requests[1].input_tokens, 600);
  EXPECT_EQ(result.requests[1].arrival_s, 0.040);
  EXPECT_THAT(result.requests[1].prefix_block_hashes, ElementsAre(0u, 3u));
}

// Syntax and type errors come from protobuf's JSON parser, whose wording
// is its own: the test checks that the line, the key and the value are named.
TEST(TraceReaderTest, JsonlFieldErrors) {
  const std::string path = ::testing::TempDir() + "/mooncake_fields.jsonl";
  struct Case {
    std::string line;
    std::vector<std::string> message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"timestamp": 20, "output_length": 3})",
            {":1: field 'input_length': missing"}},
           {R"({"timestamp": 20, "input_length": -4, "output_length": 3})",
            {":1: field 'input_length': -4 is negative"}},
           {R"({"timestamp": 20, "input_length": 4, "output_length": 3e10})",
            {":1: ", "output_length", "out of range"}},
           {R"({"timestamp": "NaN", "input_length": 4, "output_length": 3})",
            {":1: field 'timestamp': not a finite number"}},
           {R"({"timestamp": 0, "input_length": 5, "output_length": 1, )"
            R"("hash_ids": [2, -1]})",
            {":1: invalid JSON: ", "hash_ids", "-1"}},
           {R"({"timestamp": "x", "input_length": 5, "output_length": 1})",
            {":1: invalid JSON: ", "timestamp", "x"}},
           {R"({"timestamp": 1, "input_length": 5.5, "output_length": 1})",
            {":1: invalid JSON: ", "input_length", "5.5"}},
           {R"({"timestamp": 1, "input_length": 5, "output_length": 1} x)",
            {":1: invalid JSON: "}},
           {R"([1, 2])", {":1: invalid JSON: "}},
       }) {
    SCOPED_TRACE(c.line);
    std::ofstream(path) << c.line << "\n";
    ReadResult result = ReadAll(path, v1::TRACE_FORMAT_MOONCAKE);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : c.message) {
      EXPECT_THAT(std::string(result.status.message()), HasSubstr(part));
    }
  }
}

TEST(TraceReaderTest, HostileInputsAreErrorsNotCrashes) {
  const std::string path = ::testing::TempDir() + "/hostile.csv";
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  struct Case {
    std::string body;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", ":1: empty first line"},
           {header + "2023-11-16 18:15:46,99999999999999999999999,1\n",
            ":2: field 'ContextTokens': '99999999999999999999999' is out of "
            "range"},
           {header + "2023-02-29 00:00:00,1,1\n", "is not a timestamp"},
           {header + "2023-11-16 18:15:46.,1,1\n", "is not a timestamp"},
           {header + ",,\n", ":2: field 'TIMESTAMP': '' is not a timestamp"},
           {header + "2023-11-16 18:15:46,1e400,1\n", "is not a token count"},
           {header + "2023-11-16 18:15:46,nan,1\n", "is not a token count"},
           {header + "2023-11-16 18:15:46,1," + std::string(2 << 20, '7') +
                "\n",
            ":2: line longer than 1048576 bytes"},
           // Regression (issue 16): counts that overflowed an int32 sum.
           {header + "2023-11-16 18:15:46,2147483647,1\n",
            ":2: input + output = 2147483648 tokens, over the per-request "
            "limit of 100000000"},
           // Regression (issue 16): timestamps whose span is infinite.
           {"arrival_timestamp,prompt_size,token_size\n-1.7e308,1,1\n"
            "1.7e308,1,1\n",
            ":3: field 'arrival_timestamp': inf s after the first row, past "
            "the simulated-time limit"},
       }) {
    SCOPED_TRACE(c.body.substr(0, 80));
    std::ofstream(path, std::ios::binary) << c.body;
    ReadResult result = ReadAll(path);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status.message()), HasSubstr(c.message));
  }
  // Pandas-style "12.0" token counts and a BOM are accepted.
  std::ofstream(path, std::ios::binary)
      << "\xEF\xBB\xBF" << header << "2023-11-16 18:15:46,12.0,3\n";
  ReadResult ok = ReadAll(path);
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.requests.at(0).input_tokens, 12);
}

// What the process holds, in KiB: its resident set (Linux), or -1. Under
// ASan, the heap bytes in use instead: ASan's quarantine keeps freed blocks
// resident (up to 256 MiB by default), so there the resident set grows with
// every block a row allocates and frees.
int64_t HeldKiB() {
#if FLEETSIM_ASAN
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes() / 1024);
#else
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kib = -1;
      status >> kib;
      return kib;
    }
    status.ignore(1 << 20, '\n');
  }
  return -1;
#endif
}

// Streaming: a 1M-row file (~36 MB) is read with the memory held (HeldKiB)
// growing by far less than one byte per row. This shows the reader keeps no
// per-row state; it cannot rule out small constant buffers, which are by
// design.
TEST(TraceReaderTest, ReadsAMillionRowsInBoundedMemory) {
  const std::string path = ::testing::TempDir() + "/million.csv";
  constexpr int64_t kRows = 1000000;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("TIMESTAMP,ContextTokens,GeneratedTokens\n", f);
    for (int64_t i = 0; i < kRows; ++i) {
      // 10 requests per second over ~27.8 hours, crossing midnight.
      int64_t tenths = i;
      int64_t s = 12 * 3600 + tenths / 10;
      std::fprintf(f, "2024-05-%02d %02d:%02d:%02d.%d000000,%d,%d\n",
                   static_cast<int>(10 + s / 86400),
                   static_cast<int>(s % 86400 / 3600),
                   static_cast<int>(s % 3600 / 60), static_cast<int>(s % 60),
                   static_cast<int>(tenths % 10), static_cast<int>(i % 5000),
                   static_cast<int>(i % 700 + 1));
    }
    std::fclose(f);
  }
  absl::StatusOr<std::unique_ptr<TraceReader>> reader =
      TraceReader::Open(path, v1::TRACE_FORMAT_UNSPECIFIED);
  ASSERT_TRUE(reader.ok()) << reader.status();
  Request request;
  int64_t rows = 0;
  int64_t held_after_warmup_kib = -1;
  int64_t input_sum = 0;
  while (true) {
    absl::StatusOr<bool> got = (*reader)->Next(&request);
    ASSERT_TRUE(got.ok()) << got.status();
    if (!*got) break;
    input_sum += request.input_tokens;
    if (++rows == 1000) held_after_warmup_kib = HeldKiB();
  }
  int64_t held_end_kib = HeldKiB();
  std::remove(path.c_str());
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(input_sum, int64_t{200} * (4999 * 5000 / 2));
  EXPECT_NEAR(request.arrival_s, (kRows - 1) / 10.0, 1e-6);
  ASSERT_GT(held_after_warmup_kib, 0);
  // One byte per row would be ~977 KiB; allow 256 KiB of noise.
  EXPECT_LT(held_end_kib - held_after_warmup_kib, 256)
      << "reader memory grew with the trace";
}

}  // namespace
}  // namespace fleetsim::workloads
