// File: cli/calibrate_subcommands.h
//
// The `fleetsim calibrate` subcommands other than `import` (which registers
// the `calibrate` command and dispatches here): `eval` (prediction error of
// the cost model on a measured table), `fit` (per-class efficiency fit with
// leave-one-model-out cross-validation) and `e2e` (whole-iteration check and
// framework-overhead fit against SplitwiseSim's perf_model.csv).
// docs/calibration.md documents them.
#ifndef FLEETSIM_CLI_CALIBRATE_SUBCOMMANDS_H_
#define FLEETSIM_CLI_CALIBRATE_SUBCOMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/calibration.pb.h"

namespace fleetsim::cli {

// Reads a measured table (cli/calibrate_profile.cc): `format` "fleetsim"
// reads a .csv/.csv.gz/.txtpb table as it is; "aiconfigurator" imports an
// aiconfigurator table for catalog chip `chip` (dropped rows logged to
// stderr with their reasons); empty reads a fleetsim table, or an
// aiconfigurator one when its header says so (columns `framework` and
// `latency`); "vidur-mlp", "vidur-attention", "vidur-allreduce" import a
// Vidur CSV for `chip`. Every row is kept, then --where selects. Errors are
// the loader's, the importers' and --where's (NotFound, InvalidArgument
// "path:line: ...").
absl::StatusOr<v1::CalibrationTable> LoadProfile(const std::string& path,
                                                 const std::string& format,
                                                 const std::string& chip);

}  // namespace fleetsim::cli

#endif  // FLEETSIM_CLI_CALIBRATE_SUBCOMMANDS_H_
