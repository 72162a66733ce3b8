// `fleetsim study`: a what-if study file planned variant by variant over
// arrival seeds, written as study.json, CSV tables, report.html and
// report.pdf (docs/economics.md, "Studies").
#include <cmath>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "cli/distributed.h"
#include "cli/run_inputs.h"
#include "study/study_output.h"
#include "study/study_runner.h"
#include "study/study_spec.h"

ABSL_FLAG(std::string, spec, "",
          "Study file (text proto, proto/fleetsim/v1/study.proto)");
ABSL_FLAG(int32_t, seeds, 1,
          "Arrival seeds per variant: a fleet is recommended only if it meets "
          "the SLOs on every seed");
ABSL_FLAG(bool, pdf, true,
          "Print report.pdf with headless Chromium (--pdf=false: skip it)");
ABSL_DECLARE_FLAG(int32_t, jobs);  // cli/plan_command.cc

namespace fleetsim::cli {
namespace {

int RunStudyCommand(const std::vector<std::string>& args) {
  const std::string spec_path = absl::GetFlag(FLAGS_spec);
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  if (spec_path.empty() || out_dir.empty()) {
    return UsageError(
        "study needs --spec FILE --out DIR [--seeds N] [--jobs J] "
        "[--pdf=false]");
  }
  absl::StatusOr<v1::StudySpec> spec = study::LoadStudySpec(spec_path);
  if (!spec.ok()) return Fail(spec.status());
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  study::StudyOptions options;
  options.data_dir = DataDir();
  options.catalogs = *std::move(catalogs);
  options.seeds = absl::GetFlag(FLAGS_seeds);
  options.jobs = absl::GetFlag(FLAGS_jobs);
  options.pool = DistributedPool();  // null: the local pool of --jobs
  options.spec_path = spec_path;
  options.command_line = ProcessCommandLine();
  options.progress = [](const v1::StudyProgress& p) {
    std::cerr << absl::StrFormat(
                     "\r[study] plan %d/%d %s, seed %d: %d simulations, "
                     "%.0f s   ",
                     p.variant_index() + 1, p.variants(), p.variant(), p.seed(),
                     p.plan().evaluated(), p.elapsed_s())
              << std::flush;
  };
  absl::StatusOr<v1::StudyResult> result = study::RunStudy(*spec, options);
  std::cerr << "\n";
  if (!result.ok()) return Fail(result.status());
  study::OutputOptions output;
  output.pdf = absl::GetFlag(FLAGS_pdf);
  absl::StatusOr<std::vector<std::string>> written =
      study::WriteStudyOutputs(*result, out_dir, output);
  for (const v1::StudyVariantResult& v : result->variants()) {
    if (!v.feasible()) {
      std::cout << absl::StrFormat(
          "%-24s no fleet meets the SLOs on every "
          "seed: %s\n",
          v.name(), v.explanation());
      continue;
    }
    const v1::StudyFleet& r = v.recommended();
    std::cout << absl::StrFormat(
        "%-24s %s: TCO $%.0f over %g years, %.1f kW, $%.3f/Mtok", v.name(),
        study::FleetText(r), r.tco_usd().median(), r.tco().amortization_years(),
        r.facility_power_kw().median(),
        r.usd_per_million_output_tokens().median());
    if (v.baseline()) {
      std::cout << "  (baseline)";
    } else if (v.saving().comparable()) {
      const double saved_usd = v.saving().tco_usd();
      std::cout << absl::StrFormat(
          "  %s $%.0f (%.1f%%)", saved_usd < 0 ? "costs more by" : "saves",
          std::abs(saved_usd), 100 * std::abs(v.saving().fraction()));
    }
    std::cout << "\n";
  }
  std::cout << absl::StrFormat("%d simulations run, %d reused, %.1f s\n",
                               result->simulations_run(),
                               result->simulations_reused(), result->wall_s());
  if (!written.ok()) return Fail(written.status());
  std::cout << "wrote " << absl::StrJoin(*written, ", ") << " to " << out_dir
            << "\n";
  return 0;
}

}  // namespace
}  // namespace fleetsim::cli

FLEETSIM_REGISTER_COMMAND(
    "study",
    {"study --spec FILE --out DIR [flags]",
     "Plans every variant of a what-if study and writes study.json, CSV "
     "tables, report.html and report.pdf.",
     {"spec", "out", "seeds", "jobs", "pdf", "data_dir"},
     fleetsim::cli::RunStudyCommand});
