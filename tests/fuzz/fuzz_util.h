// File: tests/fuzz/fuzz_util.h
//
// What the libFuzzer targets in tests/fuzz/ share: the fuzzer's bytes as a
// file (the readers take paths, as the CLI and the service hand them
// over), the shipped data folder, and one pass over a resolved fleet's
// latency models and SLO reference, where a config's extreme but finite
// numbers turn into infinities and NaNs.
#ifndef FLEETSIM_TESTS_FUZZ_FUZZ_UTIL_H_
#define FLEETSIM_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/chip.pb.h"
#include "google/protobuf/message.h"
#include "hardware/chip_catalog.h"
#include "sim/catalogs.h"
#include "sim/fleet.h"
#include "workloads/model_catalog.h"

namespace fleetsim::fuzz {

// The repository's data/ folder (catalogs, clusters, SLO presets, traces).
const std::string& DataDir();

// The shipped catalogs, loaded once per process.
const std::shared_ptr<const sim::Catalogs>& Catalogs();
const hardware::ChipCatalog& Chips();
const workloads::ModelCatalog& Models();

// Writes `data` to this process's scratch file ending in `suffix` and
// returns its path; the next call overwrites it. Aborts when the file
// cannot be written (a broken harness, not a finding).
std::string WriteScratchFile(const uint8_t* data, size_t size,
                             const std::string& suffix);

// Parses `data` as a text-format message, or failing that as the binary
// wire format (what a gRPC client sends). False when neither parses.
bool ParseTextOrWire(const uint8_t* data, size_t size,
                     google::protobuf::Message* message);

// A config error must name the file it is about (issue 16: some named
// neither file nor field): aborts, a finding, when an InvalidArgument
// `status` does not contain `path`.
void RequireNamesFile(const absl::Status& status, const std::string& path);

// Prices a few batch shapes with every pool's latency model (and their
// per-operator breakdowns) and builds the fleet's SLO reference under the
// "normal" preset, the paths a simulation takes before its first event.
// Errors are fine; only crashes and sanitizer reports are findings.
void ExerciseFleet(const sim::FleetSpec& fleet);

}  // namespace fleetsim::fuzz

#endif  // FLEETSIM_TESTS_FUZZ_FUZZ_UTIL_H_
