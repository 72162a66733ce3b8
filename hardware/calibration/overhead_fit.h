// File: hardware/calibration/overhead_fit.h
//
// The per-iteration serving-stack overhead, fitted against whole measured
// iterations (SplitwiseSim's perf_model.csv): what the kernel model
// (hardware/operator_model.h) leaves unexplained. `fleetsim calibrate e2e`
// prints these fits; OperatorModelOptions::WithSplitwiseOverhead() ships the
// serving-stack profile.
#ifndef FLEETSIM_HARDWARE_CALIBRATION_OVERHEAD_FIT_H_
#define FLEETSIM_HARDWARE_CALIBRATION_OVERHEAD_FIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hardware/splitwise_perf_model.h"

namespace fleetsim::hardware {

// Whole measured iterations: perf_model.csv (ReadSplitwisePerfRows) with one
// point per (model, hardware, TP, prompt size, batch), medians over the
// repetitions, sorted by key. Rows of hardware ending in "-pcap" are skipped
// (synthetic in the source); `inconsistent` is set as documented on
// IterationPoint. Errors as ReadSplitwisePerfRows.
absl::StatusOr<std::vector<IterationPoint>> ReadSplitwisePerfModel(
    const std::string& path);

// A kernel-model prediction of one IterationPoint next to its measurement;
// the overhead fit works on these.
struct IterationSample {
  IterationPoint point;
  bool prefill = true;  // the prompt_s (true) or token_s (false) sample
  double measured_s = 0;
  double kernel_s = 0;  // OperatorModel with zero framework overhead
  int layers = 0;       // num_layers of the model
  int requests = 1;     // requests in the iteration (the point's batch)
  // The kernel model's decode-attention time (0 for prefill samples), for
  // the alternative "decode attention runs at a lower memory efficiency".
  double attention_decode_s = 0;
};

// Least-squares fit of measured - kernel = a + b * layers over `samples`
// (relative weighting: each sample's residual divided by its measurement).
// a and b are clamped at >= 0. With a single distinct layer count, b = 0.
struct OverheadFit {
  double iteration_overhead_s = 0;
  double layer_overhead_s = 0;
  double request_layer_overhead_s = 0;
  // Alternative term: decode attention slower by this factor minus one
  // (its memory efficiency divided by 1 + attention_scale). Not shipped.
  double attention_scale = 0;

  // measured - kernel predicted by this fit for `s`.
  double Overhead(const IterationSample& s) const;
};
OverheadFit FitFrameworkOverhead(const std::vector<IterationSample>& samples,
                                 bool per_layer);

// The serving-stack profile: least squares of measured - kernel =
// b * layers + c * requests * layers (same weighting; no constant term;
// b, c >= 0). What OperatorModelOptions::WithSplitwiseOverhead() ships.
OverheadFit FitServingStackProfile(const std::vector<IterationSample>& samples);

// The rejected alternative: measured - kernel = b * layers + s *
// attention_decode_s (decode attention at 1 / (1 + s) of the model's memory
// efficiency), b, s >= 0; calibrate e2e reports it next to the profile.
OverheadFit FitDecodeAttentionScale(
    const std::vector<IterationSample>& samples);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_CALIBRATION_OVERHEAD_FIT_H_
