#include "study/study_output.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "economics/pricing.h"
#include "report/chromium.h"
#include "report/report_html.h"
#include "study/study_runner.h"
#include "util/csv.h"
#include "util/output_file.h"
#include "util/proto_json.h"
#include "util/status_macros.h"

namespace fleetsim::study {
namespace {

std::string SpreadCells(const v1::Spread& s,
                        const absl::FormatSpec<double>& format) {
  return absl::StrCat(absl::StrFormat(format, s.median()), ",",
                      absl::StrFormat(format, s.min()), ",",
                      absl::StrFormat(format, s.max()));
}

}  // namespace

absl::StatusOr<std::string> StudyJson(const v1::StudyResult& result) {
  v1::StudyResult file = result;
  file.set_schema(v1::StudyResult::descriptor()->full_name());
  return ProtoJson(file);
}

std::string SummaryCsv(const v1::StudyResult& result) {
  std::string csv =
      "variant,baseline,description,feasible,recommended,machines,system,"
      "cost_basis,amortization_years,tco_usd,tco_usd_min,tco_usd_max,"
      "capex_usd,opex_usd_per_year,facility_power_kw,"
      "usd_per_million_output_tokens,saving_comparable,saving_usd,"
      "saving_fraction,saving_kw,machines_per_seed,offered_rate_per_s,"
      "simulations_run,simulations_reused,explanation\n";
  for (const v1::StudyVariantResult& v : result.variants()) {
    const v1::StudyFleet& r = v.recommended();
    absl::StrAppendFormat(
        &csv,
        "%s,%d,%s,%d,%s,%d,%s,%s,%g,%s,%.2f,%.2f,%.3f,%.6f,%d,%.2f,%.6f,"
        "%.3f,%s,%.6g,%d,%d,%s\n",
        CsvQuoted(v.name()), v.baseline() ? 1 : 0, CsvQuoted(v.description()),
        v.feasible() ? 1 : 0, CsvQuoted(FleetText(r)), r.machines(),
        CsvQuoted(r.system()),
        v.feasible() ? economics::CostBasisName(r.tco().cost_basis()) : "",
        r.tco().amortization_years(), SpreadCells(r.tco_usd(), "%.2f"),
        r.capex_usd().median(), r.opex_usd_per_year().median(),
        r.facility_power_kw().median(),
        r.usd_per_million_output_tokens().median(),
        v.saving().comparable() ? 1 : 0, v.saving().tco_usd(),
        v.saving().fraction(), v.saving().facility_power_kw(),
        CsvQuoted(absl::StrJoin(v.machines_per_seed(), " ")),
        v.offered_rate_per_s(), v.simulations_run(), v.simulations_reused(),
        CsvQuoted(v.explanation()));
  }
  return csv;
}

std::string VariantCsv(const v1::StudyVariantResult& variant) {
  std::string csv =
      "fleet,system,machines,seeds_met,seeds,robust,on_front,recommended,"
      "tco_usd,tco_usd_min,tco_usd_max,capex_usd,opex_usd_per_year,"
      "facility_power_kw,facility_power_kw_min,facility_power_kw_max,"
      "usd_per_hour,usd_per_million_output_tokens,ttft_p99_s,ttft_p99_s_min,"
      "ttft_p99_s_max,tbt_p99_s,tbt_p99_s_min,tbt_p99_s_max,miss\n";
  for (const v1::StudyFleet& f : variant.fleets()) {
    absl::StrAppendFormat(
        &csv, "%s,%s,%d,%d,%d,%d,%d,%d,%s,%.2f,%.2f,%s,%.4f,%.6f,%s,%s,%s\n",
        CsvQuoted(FleetText(f)), CsvQuoted(f.system()), f.machines(),
        f.seeds_met(), variant.seeds_size(), f.robust() ? 1 : 0,
        f.on_front() ? 1 : 0, f.key() == variant.recommended().key() ? 1 : 0,
        SpreadCells(f.tco_usd(), "%.2f"), f.capex_usd().median(),
        f.opex_usd_per_year().median(),
        SpreadCells(f.facility_power_kw(), "%.3f"), f.usd_per_hour().median(),
        f.usd_per_million_output_tokens().median(),
        SpreadCells(f.ttft_p99_s(), "%.6g"), SpreadCells(f.tbt_p99_s(), "%.6g"),
        CsvQuoted(f.miss()));
  }
  return csv;
}

absl::StatusOr<std::vector<std::string>> WriteStudyOutputs(
    v1::StudyResult result, const std::string& dir,
    const OutputOptions& options) {
  std::string chromium;
  if (options.pdf) {
    FLEETSIM_ASSIGN_OR_RETURN(chromium, report::FindChromium());
    FLEETSIM_ASSIGN_OR_RETURN(std::string version,
                              report::ChromiumVersion(chromium));
    result.mutable_provenance()->set_chromium(version);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(
        dir, ": cannot create the output folder (", ec.message(), ")"));
  }
  std::vector<std::string> written;
  auto write = [&](const std::string& name,
                   const std::string& contents) -> absl::Status {
    FLEETSIM_RETURN_IF_ERROR(WriteOutputFile(dir + "/" + name, contents));
    written.push_back(name);
    return absl::OkStatus();
  };
  FLEETSIM_ASSIGN_OR_RETURN(const std::string json, StudyJson(result));
  FLEETSIM_RETURN_IF_ERROR(write("study.json", json));
  FLEETSIM_RETURN_IF_ERROR(write("summary.csv", SummaryCsv(result)));
  for (const v1::StudyVariantResult& variant : result.variants()) {
    FLEETSIM_RETURN_IF_ERROR(write(
        absl::StrCat("variant-", variant.name(), ".csv"), VariantCsv(variant)));
  }
  const std::string title =
      result.spec().question().empty()
          ? absl::StrCat("fleetsim study ", result.spec().name())
          : result.spec().question();
  FLEETSIM_RETURN_IF_ERROR(
      write("report.html", report::RenderReportHtml(json, title)));
  if (options.pdf) {
    FLEETSIM_RETURN_IF_ERROR(report::PrintToPdf(chromium, dir + "/report.html",
                                                dir + "/report.pdf",
                                                options.chromium_timeout_s));
    written.push_back("report.pdf");
  }
  return written;
}

}  // namespace fleetsim::study
