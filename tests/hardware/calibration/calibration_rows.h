// File: tests/hardware/calibration/calibration_rows.h
//
// Calibration rows for the fit tests (tests/hardware/calibration/*_test.cc):
// GEMM, norm/elementwise and attention rows of a given shape, and synthetic
// tables whose medians are what a known pricer predicts, so a fit can be
// checked against the parameters that generated them.
#ifndef FLEETSIM_TESTS_HARDWARE_CALIBRATION_CALIBRATION_ROWS_H_
#define FLEETSIM_TESTS_HARDWARE_CALIBRATION_CALIBRATION_ROWS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fleetsim/v1/calibration.pb.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_pricer.h"

namespace fleetsim::hardware::calibration_test {

inline v1::CalibrationRow Gemm(int64_t m, int64_t n, int64_t k,
                               const std::string& model) {
  v1::CalibrationRow r;
  r.set_op("qkv_proj");
  r.set_op_class(v1::OPERATOR_CLASS_GEMM);
  r.set_model(model);
  r.set_m(m);
  r.set_n(n);
  r.set_k(k);
  r.set_median_s(1);
  return r;
}

// Rows whose medians are what `pricer` predicts, times (1 + error).
inline std::vector<v1::CalibrationRow> Synthetic(
    const OperatorPricer& pricer, std::vector<v1::CalibrationRow> rows,
    const std::vector<double>& errors) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const double predicted = pricer.Seconds(*QueryFromRow(rows[i]));
    const double e = errors.empty() ? 0 : errors[i % errors.size()];
    rows[i].set_median_s(predicted / (1 + e));
  }
  return rows;
}

inline std::vector<v1::CalibrationRow> GemmSweep(const std::string& model,
                                                 int64_t n, int64_t k) {
  std::vector<v1::CalibrationRow> rows;
  for (int64_t m : {1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096})
    rows.push_back(Gemm(m, n, k, model));
  return rows;
}

inline v1::CalibrationRow Elementwise(const std::string& op,
                                      v1::OperatorClass c, int64_t tokens,
                                      int64_t width, const std::string& model) {
  v1::CalibrationRow r;
  r.set_op(op);
  r.set_op_class(c);
  r.set_model(model);
  r.set_tokens(tokens);
  r.set_width(width);
  r.set_elements(tokens * width);
  r.set_median_s(1);
  return r;
}

inline v1::CalibrationRow AttentionRow(v1::OperatorClass c, int64_t batch,
                                       int64_t tokens, int64_t cached,
                                       int heads, int kv_heads,
                                       const std::string& framework) {
  v1::CalibrationRow r;
  r.set_op(c == v1::OPERATOR_CLASS_ATTENTION_PREFILL ? "attn_prefill"
                                                     : "attn_decode");
  r.set_op_class(c);
  r.set_batch(batch);
  r.set_new_tokens(tokens);
  r.set_context_tokens(cached);
  r.set_heads(heads);
  r.set_kv_heads(kv_heads);
  r.set_head_dim(128);
  r.set_framework(framework);
  r.set_median_s(1);
  return r;
}

inline std::vector<v1::CalibrationRow> AttentionSweep(
    v1::OperatorClass c, const std::string& framework) {
  std::vector<v1::CalibrationRow> rows;
  const bool prefill = c == v1::OPERATOR_CLASS_ATTENTION_PREFILL;
  for (int64_t batch : {1, 4, 32, 256}) {
    for (int64_t len : {64, 512, 4096}) {
      for (auto [h, kv] : std::vector<std::pair<int, int>>{{32, 32}, {64, 8}}) {
        rows.push_back(AttentionRow(c, batch, prefill ? len : 1,
                                    prefill ? 0 : len, h, kv, framework));
      }
    }
  }
  return rows;
}

}  // namespace fleetsim::hardware::calibration_test

#endif  // FLEETSIM_TESTS_HARDWARE_CALIBRATION_CALIBRATION_ROWS_H_
