// File: hardware/calibration/gpu_harness/calibration_csv.h
//
// A dependency-free writer for fleetsim's calibration CSV layout
// (proto/fleetsim/v1/calibration.proto, read back by
// hardware/calibration/calibration_table.h). The CUDA harness uses it instead
// of protobuf so that it builds on a GPU machine that has only the CUDA toolkit
// and a C++17 compiler (run_on_gpu.sh may compile it with nvcc alone).
// tests/hardware/calibration/calibration_table_test.cc checks that
// kCalibrationCsvColumns matches the proto's field order and that a table
// written here loads through ReadCalibrationTable.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CALIBRATION_CSV_H_
#define FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CALIBRATION_CSV_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim::calibrate {

// CalibrationRow's fields in field-number order: the CSV header.
inline constexpr const char* kCalibrationCsvColumns =
    "op,op_class,dtype,chip,tp,model,m,n,k,batch,new_tokens,context_tokens,"
    "heads,kv_heads,head_dim,bytes,ranks,ranks_per_node,elements,width,tokens,"
    "median_s,p10_s,p90_s,mean_s,min_s,max_s,std_s,samples";

// One measurement, mirroring CalibrationRow. Integers 0 and empty strings are
// written as empty cells (the proto default); every timing statistic is
// written because the harness always computes all of them.
struct CsvRow {
  std::string op;
  std::string op_class;  // short name: "gemm", "norm", "collective", ...
  std::string dtype;     // "bf16", "fp16"
  std::string chip;
  int32_t tp = 0;
  std::string model;
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 0, new_tokens = 0, context_tokens = 0;
  int32_t heads = 0, kv_heads = 0, head_dim = 0;
  int64_t bytes = 0;
  int32_t ranks = 0, ranks_per_node = 0;
  int64_t elements = 0, width = 0, tokens = 0;
  double median_s = 0, p10_s = 0, p90_s = 0, mean_s = 0, min_s = 0, max_s = 0,
         std_s = 0;
  int32_t samples = 0;
};

// Shortest "%.*g" text that reads back to the same double.
inline std::string CsvDouble(double value) {
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

inline std::string CsvInt(int64_t value) {
  return value == 0 ? std::string() : std::to_string(value);
}

inline std::string CsvRowText(const CsvRow& r) {
  std::string s;
  auto cell = [&s](const std::string& text, bool last = false) {
    s += text;
    s += last ? '\n' : ',';
  };
  cell(r.op);
  cell(r.op_class);
  cell(r.dtype);
  cell(r.chip);
  cell(CsvInt(r.tp));
  cell(r.model);
  for (int64_t v : {r.m, r.n, r.k, r.batch, r.new_tokens, r.context_tokens,
                    int64_t{r.heads}, int64_t{r.kv_heads}, int64_t{r.head_dim},
                    r.bytes, int64_t{r.ranks}, int64_t{r.ranks_per_node},
                    r.elements, r.width, r.tokens}) {
    cell(CsvInt(v));
  }
  for (double v :
       {r.median_s, r.p10_s, r.p90_s, r.mean_s, r.min_s, r.max_s, r.std_s}) {
    cell(CsvDouble(v));
  }
  cell(CsvInt(r.samples), true);
  return s;
}

// Writes provenance ("# field: value" lines, CalibrationProvenance field
// names), the header and `rows` to `path`. Returns false if the file cannot
// be written.
inline bool WriteCalibrationCsv(
    const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& provenance,
    const std::vector<CsvRow>& rows) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fputs(
      "# fleetsim calibration table (schema: "
      "proto/fleetsim/v1/calibration.proto)\n",
      f);
  for (const auto& [key, value] : provenance) {
    if (value.empty()) continue;
    std::string clean = value;
    for (char& c : clean) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    std::fprintf(f, "# %s: %s\n", key.c_str(), clean.c_str());
  }
  std::fprintf(f, "%s\n", kCalibrationCsvColumns);
  for (const CsvRow& row : rows) std::fputs(CsvRowText(row).c_str(), f);
  return std::fclose(f) == 0;
}

}  // namespace fleetsim::calibrate

#endif  // FLEETSIM_HARDWARE_CALIBRATION_GPU_HARNESS_CALIBRATION_CSV_H_
