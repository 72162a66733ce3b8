// File: hardware/splitwise_perf_model.h
//
// SplitwiseSim's measured iteration table (perf_model.csv: whole prefill and
// decode iterations per model, GPU and TP) and SplitwiseSim's own predictor
// over it, as a LatencyModel. fleetsim's simulator normally times iterations
// with the operator cost model; this predictor exists to replay a fleet the
// way SplitwiseSim (and SPAD, which is built on it) timed it, so that a
// difference between fleetsim and those simulators can be split into the
// latency model's share and the rest (docs/validation.md).
//
// SplitwiseSim's DatabasePerformanceModel, as published: per (model,
// hardware, TP), rows are grouped by batch_tokens = prompt_size x batch_size
// and the median prompt_time and token_time of each group are interpolated
// piecewise-linearly in batch_tokens, extrapolating the end segments. An
// iteration's batch_tokens is the sum of its prompts' tokens plus one per
// decode request; all-prompt batches take the prompt curve, all-decode
// batches the token curve, mixed batches 1.1 x the prompt curve. Decode time
// therefore depends on the number of requests only through batch_tokens,
// and not on their context (docs/validation.md shows what that changes).
// Where SplitwiseSim's extrapolation would fail its positive-time assertion
// (a falling last segment extended far enough, a steep first one), the
// curve holds its end value instead; a table of one batch-token count is a
// constant (scipy refuses to interpolate one point).
#ifndef FLEETSIM_HARDWARE_SPLITWISE_PERF_MODEL_H_
#define FLEETSIM_HARDWARE_SPLITWISE_PERF_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hardware/latency_model.h"

namespace fleetsim::hardware {

// One row of perf_model.csv (times in seconds), or with medians over the
// repetitions of one key (calibration/overhead_fit.h ReadSplitwisePerfModel).
struct IterationPoint {
  std::string model;     // "llama2-70b", "bloom-176b" (the file's names)
  std::string hardware;  // "h100-80gb", "a100-80gb", "h100-80gb-pcap"
  int tp = 1;
  int prompt_tokens = 0;
  int batch = 1;
  int output_tokens = 0;
  double prompt_s = 0;  // prefill of `batch` prompts together
  double token_s = 0;   // one decode step of `batch` requests
  int repetitions = 0;
  // The batched prefill is faster than the same configuration at half the
  // batch, which a whole-batch iteration cannot be (Llama-2-70B TP2 at batch
  // 64: 361 ms for 64 prompts vs 2,398 ms for 32, on H100; the batch does
  // not fit the KV memory left beside 140 GB of weights). Such points are
  // left out of the e2e fit and statistics.
  bool inconsistent = false;
};

// Every row of perf_model.csv (columns model, hardware, prompt_size,
// batch_size, token_size, prompt_time, token_time [ms], tensor_parallel; other
// columns ignored), in file order, repetitions = 1. NotFound if the file
// cannot be opened; InvalidArgument "path:line: field 'NAME' ..." for a
// missing column or a malformed row (non-numeric, or a time or size outside
// its sanity range: times in [1e-6, 1e7] ms, sizes >= 1).
absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfRows(
    const std::string& path);

// The table's name of a catalog model or chip: lower case without '-', '_'
// or '.' ("Llama-2-70B" and "llama2-70b" both give "llama270b"), and for
// hardware the "-80gb" memory suffix dropped ("h100-80gb" -> "h100",
// "h100-80gb-pcap" -> "h100pcap"), which is how the catalog names them.
std::string SplitwiseTableKey(const std::string& name, bool hardware);

// SplitwiseSim's predictor for one (model, hardware, TP) of the table.
class SplitwiseTableLatency final : public LatencyModel {
 public:
  // NotFound naming `origin`, the model, hardware and TP when the table has
  // no row for them (matched by SplitwiseTableKey).
  static absl::StatusOr<std::unique_ptr<SplitwiseTableLatency>> Create(
      const std::vector<IterationPoint>& rows, const std::string& origin,
      const std::string& model, const std::string& hardware, int tp);

  double IterationSeconds(const BatchShape& batch) const override;
  // One entry named after the curve used ("splitwise_prompt",
  // "splitwise_token" or "splitwise_mixed").
  IterationBreakdown Explain(const BatchShape& batch) const override;

 private:
  struct Curve {
    std::vector<double> x;  // batch tokens, ascending, distinct
    std::vector<double> y;  // median seconds
    double At(double batch_tokens) const;
  };
  SplitwiseTableLatency(Curve prompt, Curve token)
      : prompt_(std::move(prompt)), token_(std::move(token)) {}

  Curve prompt_;
  Curve token_;
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_SPLITWISE_PERF_MODEL_H_
