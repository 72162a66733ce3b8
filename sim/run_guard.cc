#include "sim/run_guard.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "simgrid/s4u.hpp"

namespace sg4 = simgrid::s4u;

namespace fleetsim::sim {

void RunGuard::CheckWaitUntil(double end_s, const char* what) {
  if (end_s <= kMaxSimulatedSeconds) return;  // false for NaN
  const double now = sg4::Engine::get_clock();
  Fail(absl::FailedPreconditionError(absl::StrCat(
      "the simulation stopped at t = ", now, " s: ", what, " would end at ",
      end_s, " s, ",
      std::isfinite(end_s) ? "past the simulated-time limit of "
                           : "not a finite time; the limit is ",
      kMaxSimulatedSeconds,
      " s (docs/limits.md). Check the chip, network and iteration-table "
      "figures, and whether the fleet can serve the workload at all")));
}

void RunGuard::CheckWaitFor(double seconds, const char* what) {
  if (!(seconds >= 0)) {
    Fail(absl::FailedPreconditionError(absl::StrCat(
        "the simulation stopped at t = ", sg4::Engine::get_clock(),
        " s: ", what, " would take ", seconds,
        " s; check the chip, network and iteration-table figures")));
  }
  CheckWaitUntil(sg4::Engine::get_clock() + seconds, what);
}

void RunGuard::CheckTransfer(double bytes, double bytes_per_s,
                             double latency_s) {
  // Exactly representable in a double and far below UINT64_MAX.
  constexpr double kMaxBytes = 0x1p62;
  if (!(bytes >= 0 && bytes <= kMaxBytes)) {
    Fail(absl::FailedPreconditionError(absl::StrCat(
        "the simulation stopped at t = ", sg4::Engine::get_clock(),
        " s: a KV transfer of ", bytes,
        " bytes; check the model's KV size and the request lengths")));
  }
  CheckWaitFor(bytes / bytes_per_s + latency_s, "a KV transfer");
}

absl::Status RunGuard::EventsExhausted() const {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the simulation stopped at t = ", sg4::Engine::get_clock(), " s after ",
      kMaxEventsPerRun,
      " events, the per-run limit (docs/limits.md); simulate a shorter "
      "window (--duration, --max-requests)"));
}

void RunGuard::FailEvents() { Fail(EventsExhausted()); }

bool RunGuard::CountKernelEvent() {
  if (++events_ <= kMaxEventsPerRun) return true;
  if (status_.ok()) status_ = EventsExhausted();
  sg4::Actor::kill_all();
  return false;
}

void RunGuard::Fail(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
  sg4::Actor::kill_all();
  sg4::this_actor::exit();
}

RunGuard& ThisRunGuard() {
  static auto* guard = new RunGuard();
  return *guard;
}

}  // namespace fleetsim::sim
