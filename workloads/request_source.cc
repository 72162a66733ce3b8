#include "workloads/request_source.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/field_checks.h"
#include "util/run_limits.h"
#include "util/status_macros.h"
#include "workloads/random_draws.h"

namespace fleetsim::workloads {

namespace {

// Uniform integer in [0, n) without modulo bias (rejection sampling).
uint64_t UniformIndex(std::mt19937_64* rng, uint64_t n) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - max % n;  // accept draws below a multiple of n
  uint64_t x;
  do {
    x = (*rng)();
  } while (x >= limit);
  return x % n;
}

// Exponential with mean 1, by inverting its CDF.
double Exponential(std::mt19937_64* rng) { return -std::log(UniformOpen(rng)); }

// Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 via the boost
// Gamma(shape) = Gamma(shape + 1) * U^(1/shape).
double Gamma(std::mt19937_64* rng, double shape) {
  if (shape < 1.0) {
    double g = Gamma(rng, shape + 1.0);
    return g * std::pow(UniformOpen(rng), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = Normal(rng);
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = UniformOpen(rng);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

bool IsUsable(double value) { return std::isfinite(value) && value >= 0; }

}  // namespace

// Sanity bounds, not data, plus the per-run limits (util/run_limits.h).
const FieldRanges& WorkloadFieldRanges() {
  static const auto* ranges = new FieldRanges{
      {"fleetsim.v1.Workload.rate_scale", 1e-6, 1e6, "--rate-scale"},
      {"fleetsim.v1.Workload.rate_per_s", 1e-6, 1e9, "requests/s, --rate"},
      // A CV past 100 makes the gamma shape 1e-4, whose draws underflow to
      // 0: every arrival at the same instant.
      {"fleetsim.v1.Workload.gamma_cv", 1e-3, 100, "--gamma-cv"},
      {"fleetsim.v1.Workload.start_s", 0, kMaxSimulatedSeconds,
       "seconds, --start"},
      {"fleetsim.v1.Workload.duration_s", 0, kMaxSimulatedSeconds,
       "seconds, --duration"},
      {"fleetsim.v1.ImageRequests.encoder_tokens", 1,
       static_cast<double>(kMaxRequestTokens), "tokens (util/run_limits.h)"},
      {"fleetsim.v1.Workload.max_requests", 0,
       static_cast<double>(kMaxRequestsPerRun),
       "--max-requests; the per-run limit, docs/limits.md"},
  };
  return *ranges;
}

absl::Status RequestSource::Validate(const v1::Workload& w) {
  std::vector<std::string> problems;
  auto check = [&problems](bool ok, const char* field, double value,
                           const char* what) {
    if (!ok) {
      problems.push_back(
          absl::StrCat("field '", field, "' = ", value, ": ", what));
    }
  };
  if (w.has_images()) {
    // Image requests come from the generator alone (no trace to read).
    if (!w.trace_path().empty()) {
      problems.push_back("field 'trace_path': not used with images");
    }
    if (w.arrival() == v1::ARRIVAL_PROCESS_UNSPECIFIED) {
      problems.push_back(
          "field 'images': needs arrival ARRIVAL_PROCESS_POISSON or "
          "ARRIVAL_PROCESS_GAMMA and rate_per_s (images per second)");
    }
    check(w.images().encoder_tokens() > 0, "images.encoder_tokens",
          w.images().encoder_tokens(),
          "must be > 0 (the model's feature-map tokens per image)");
  } else if (w.trace_path().empty()) {
    problems.push_back("field 'trace_path': required");
  }
  check(IsUsable(w.rate_scale()), "rate_scale", w.rate_scale(),
        "must be >= 0 (0 means 1)");
  check(IsUsable(w.rate_per_s()), "rate_per_s", w.rate_per_s(), "must be >= 0");
  check(IsUsable(w.gamma_cv()), "gamma_cv", w.gamma_cv(),
        "must be >= 0 (0 means 1)");
  check(IsUsable(w.start_s()), "start_s", w.start_s(), "must be >= 0");
  check(IsUsable(w.duration_s()), "duration_s", w.duration_s(),
        "must be >= 0 (0 means whole trace)");
  check(w.max_requests() >= 0, "max_requests",
        static_cast<double>(w.max_requests()), "must be >= 0 (0 = unlimited)");
  const bool generator = w.arrival() != v1::ARRIVAL_PROCESS_UNSPECIFIED;
  if (generator) {
    if (w.arrival() != v1::ARRIVAL_PROCESS_POISSON &&
        w.arrival() != v1::ARRIVAL_PROCESS_GAMMA) {
      problems.push_back(
          absl::StrCat("field 'arrival': unknown value ", w.arrival()));
    }
    check(w.rate_per_s() > 0 || !IsUsable(w.rate_per_s()), "rate_per_s",
          w.rate_per_s(), "must be > 0 with a Poisson or Gamma arrival");
    if (w.duration_s() == 0 && w.max_requests() == 0) {
      problems.push_back(
          "fields 'duration_s' and 'max_requests' are both 0: a generated "
          "stream needs one of them to end");
    }
    check(w.rate_scale() == 0, "rate_scale", w.rate_scale(),
          "applies to replay only; set rate_per_s instead");
    check(w.start_s() == 0, "start_s", w.start_s(),
          "applies to replay only (a generated stream starts at 0)");
  } else {
    check(w.rate_per_s() == 0, "rate_per_s", w.rate_per_s(),
          "needs arrival: ARRIVAL_PROCESS_POISSON or ARRIVAL_PROCESS_GAMMA "
          "(replay uses rate_scale)");
  }
  if (w.arrival() != v1::ARRIVAL_PROCESS_GAMMA) {
    check(w.gamma_cv() == 0, "gamma_cv", w.gamma_cv(),
          "applies only to arrival: ARRIVAL_PROCESS_GAMMA");
  }
  // A generated stream's expected length, checked before it starts.
  const double expected = w.rate_per_s() * w.duration_s();
  if (generator && w.duration_s() > 0 &&
      (w.max_requests() == 0 || w.max_requests() > kMaxRequestsPerRun) &&
      expected > static_cast<double>(kMaxRequestsPerRun)) {
    problems.push_back(absl::StrCat(
        "fields 'rate_per_s' x 'duration_s' = ", expected,
        " requests exceed the per-run limit of ", kMaxRequestsPerRun,
        " (docs/limits.md); lower one or set max_requests"));
  }
  if (problems.empty()) {
    return CheckFields(w, "workload", WorkloadFieldRanges());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("workload: ", absl::StrJoin(problems, "; ")));
}

absl::StatusOr<std::unique_ptr<RequestSource>> RequestSource::Create(
    const v1::Workload& workload, const ReaderOptions& options) {
  FLEETSIM_RETURN_IF_ERROR(Validate(workload));
  std::unique_ptr<RequestSource> source(new RequestSource(workload));
  if (workload.has_images()) {
    // One image a request: its feature-map tokens in, its detections (one
    // output, produced by the prefill pass) out.
    source->pool_.push_back({workload.images().encoder_tokens(), 1});
    return source;
  }
  FLEETSIM_ASSIGN_OR_RETURN(
      std::unique_ptr<TraceReader> reader,
      TraceReader::Open(workload.trace_path(), workload.format(), options));
  if (workload.arrival() == v1::ARRIVAL_PROCESS_UNSPECIFIED) {
    if (!reader->has_timestamps()) {
      return absl::InvalidArgumentError(absl::StrCat(
          workload.trace_path(),
          ": the trace has no timestamps (lengths only); replay needs them. "
          "Set arrival (ARRIVAL_PROCESS_POISSON or ARRIVAL_PROCESS_GAMMA) "
          "and rate_per_s to generate arrivals"));
    }
    source->reader_ = std::move(reader);
    return source;
  }
  Request request;
  while (true) {
    FLEETSIM_ASSIGN_OR_RETURN(bool got, reader->Next(&request));
    if (!got) break;
    source->pool_.push_back({request.input_tokens, request.output_tokens});
  }
  source->pool_.shrink_to_fit();
  source->skipped_rows_ = reader->skipped_rows();
  if (source->pool_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        workload.trace_path(), ": no requests to resample lengths from"));
  }
  return source;
}

RequestSource::RequestSource(const v1::Workload& workload)
    : workload_(workload), rng_(workload.seed()) {
  scale_ = workload.rate_scale() > 0 ? workload.rate_scale() : 1.0;
  double cv = workload.gamma_cv() > 0 ? workload.gamma_cv() : 1.0;
  gamma_shape_ = 1.0 / (cv * cv);
}

RequestSource::~RequestSource() = default;

absl::StatusOr<bool> RequestSource::Next(Request* out) {
  if (done_) return false;
  if (workload_.max_requests() > 0 && next_id_ >= workload_.max_requests()) {
    done_ = true;
    return false;
  }
  absl::StatusOr<bool> got =
      reader_ != nullptr ? NextReplay(out) : NextResampled(out);
  if (!got.ok() || !*got) return got;
  // Emitted ids count from 0: this is request number id + 1.
  if (out->id >= kMaxRequestsPerRun) {
    done_ = true;
    return absl::InvalidArgumentError(absl::StrCat(
        workload_.trace_path(), ": the workload has more than ",
        kMaxRequestsPerRun,
        " requests, the per-run limit (docs/limits.md); set max_requests "
        "(--max-requests) or duration_s (--duration)"));
  }
  if (!(out->arrival_s <= kMaxSimulatedSeconds)) {
    done_ = true;
    return absl::InvalidArgumentError(absl::StrCat(
        workload_.trace_path(), ": request ", out->id, " arrives at ",
        out->arrival_s, " s, past the simulated-time limit of ",
        kMaxSimulatedSeconds,
        " s (docs/limits.md); check rate_scale (--rate-scale) and the "
        "trace's timestamps"));
  }
  return true;
}

absl::StatusOr<bool> RequestSource::NextReplay(Request* out) {
  const double start_s = workload_.start_s();
  const double duration_s = workload_.duration_s();
  while (true) {
    absl::StatusOr<bool> got = reader_->Next(out);
    skipped_rows_ = reader_->skipped_rows();
    if (!got.ok()) return got.status();
    if (!*got) {
      done_ = true;
      return false;
    }
    const double t = out->arrival_s;  // trace seconds after the first row
    if (t < start_s) continue;
    if (duration_s > 0 && t >= start_s + duration_s) {
      done_ = true;  // timestamps never decrease: nothing later fits
      return false;
    }
    out->arrival_s = (t - start_s) / scale_;
    out->id = next_id_++;
    return true;
  }
}

double RequestSource::NextGap_s() {
  const double mean_gap_s = 1.0 / workload_.rate_per_s();
  if (workload_.arrival() == v1::ARRIVAL_PROCESS_GAMMA) {
    // Gamma(k, theta) with k theta = mean gap: theta = mean / k.
    return Gamma(&rng_, gamma_shape_) * mean_gap_s / gamma_shape_;
  }
  return Exponential(&rng_) * mean_gap_s;
}

bool RequestSource::NextResampled(Request* out) {
  clock_s_ += NextGap_s();
  if (workload_.duration_s() > 0 && clock_s_ >= workload_.duration_s()) {
    done_ = true;
    return false;
  }
  const Lengths& lengths = pool_[UniformIndex(&rng_, pool_.size())];
  out->id = next_id_++;
  out->arrival_s = clock_s_;
  out->input_tokens = lengths.input_tokens;
  out->output_tokens = lengths.output_tokens;
  out->prefix_block_hashes.clear();
  return true;
}

}  // namespace fleetsim::workloads
