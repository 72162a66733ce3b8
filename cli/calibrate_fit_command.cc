// `fleetsim calibrate fit` and `fleetsim calibrate e2e`.
//
//   fleetsim calibrate fit --chip h100 --profile a.csv,b.csv,... [--cv]
//   fleetsim calibrate e2e --perf data/splitwise/perf_model.csv
//
// `fit` fits the per-class efficiency parameters
// (hardware/calibration/efficiency_fit.h) of the chip to the measured rows and
// prints them as `efficiency { ... }` entries ready for data/chips/<chip>.txtpb
// (ELEMENTWISE also per named operator, as `operators { ... }` entries that go
// inside the class entry);
// --cv adds leave-one-model-out cross-validation per class, refitting the
// class and operator entries without the held-out model. `e2e` predicts
// SplitwiseSim's whole measured iterations with the kernel model, fits the
// per-iteration framework overhead on Llama-2-70B TP2/TP4 and checks it on TP8
// and BLOOM-176B. docs/calibration.md §4-6 explains both.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/calibrate_subcommands.h"
#include "cli/command_registry.h"
#include "cli/common_flags.h"
#include "google/protobuf/text_format.h"
#include "hardware/calibration/calibration_eval.h"
#include "hardware/calibration/calibration_table.h"
#include "hardware/calibration/cross_validation.h"
#include "hardware/calibration/efficiency_fit.h"
#include "hardware/calibration/overhead_fit.h"
#include "hardware/calibration/row_filter.h"
#include "hardware/chip_catalog.h"
#include "hardware/operator_model.h"
#include "util/json_writer.h"
#include "workloads/model_catalog.h"

ABSL_DECLARE_FLAG(std::string, profile);
ABSL_FLAG(bool, cv, false,
          "calibrate fit: also run leave-one-model-out cross-validation");
ABSL_FLAG(std::string, perf, "",
          "calibrate e2e: SplitwiseSim perf_model.csv (whole iterations)");

namespace fleetsim::cli {
namespace {

using hardware::ErrorStats;

std::string Pct(const ErrorStats& s) {
  return absl::StrFormat("%5.1f%% %5.1f%% %5d", 100 * s.median_ape,
                         100 * s.p90_ape, s.rows);
}

std::string ToTextProto(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetInitialIndentLevel(1);
  printer.PrintToString(m, &out);
  return out;
}

constexpr v1::OperatorClass kFitted[] = {v1::OPERATOR_CLASS_GEMM,
                                         v1::OPERATOR_CLASS_ATTENTION_PREFILL,
                                         v1::OPERATOR_CLASS_ATTENTION_DECODE,
                                         v1::OPERATOR_CLASS_NORM,
                                         v1::OPERATOR_CLASS_ELEMENTWISE,
                                         v1::OPERATOR_CLASS_COLLECTIVE,
                                         v1::OPERATOR_CLASS_MOE,
                                         v1::OPERATOR_CLASS_SSM};

int RunCalibrateFit(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("calibrate fit", args)) return code;
  const std::string chip_name = absl::GetFlag(FLAGS_chip);
  const std::string profiles = absl::GetFlag(FLAGS_profile);
  if (chip_name.empty() || profiles.empty()) {
    return UsageError(
        "calibrate fit needs --chip CHIP and --profile FILE[,...]");
  }
  absl::StatusOr<v1::Chip> chip = ChipFromCatalog(chip_name);
  if (!chip.ok()) return Fail(chip.status());
  std::vector<v1::CalibrationRow> rows;
  for (absl::string_view path :
       absl::StrSplit(profiles, ',', absl::SkipWhitespace())) {
    absl::StatusOr<v1::CalibrationTable> table =
        LoadProfile(std::string(path), absl::GetFlag(FLAGS_format), chip_name);
    if (!table.ok()) return Fail(table.status());
    rows.insert(rows.end(), table->rows().begin(), table->rows().end());
  }
  {
    hardware::PriceableSplit split = hardware::SplitPriceable(rows);
    for (const hardware::SkippedRows& s : split.skipped) {
      std::fprintf(stderr, "fleetsim: %lld rows not priced: %s\n",
                   static_cast<long long>(s.rows), s.reason.c_str());
    }
    rows = std::move(split.rows);
  }
  const bool json_out = absl::GetFlag(FLAGS_json);
  JsonWriter json;
  if (json_out) {
    json.BeginObject();
    json.Field("chip", chip_name);
    json.Key("classes");
    json.BeginArray();
  }
  // --framework: the entries are that framework's kernel set (fitted and
  // printed with `framework:` set); empty = framework-free entries.
  hardware::OperatorModelOptions base;
  base.framework = absl::GetFlag(FLAGS_framework);
  for (v1::OperatorClass c : kFitted) {
    bool present = false;
    for (const v1::CalibrationRow& r : rows) present |= r.op_class() == c;
    if (!present) continue;
    absl::StatusOr<std::vector<hardware::ClassFit>> fits =
        hardware::FitClassAndOperators(*chip, c, rows, base);
    if (!fits.ok()) return Fail(fits.status());
    // The class entry's fit, when there is one, comes first; the named
    // operators' entries follow.
    const hardware::ClassFit* fit =
        fits->front().op_name.empty() ? &fits->front() : nullptr;
    const size_t first_op = fit != nullptr ? 1 : 0;
    absl::StatusOr<hardware::CvResult> cv;
    const bool do_cv = absl::GetFlag(FLAGS_cv);
    if (do_cv) {
      cv = hardware::CrossValidateClass(*chip, c, rows, base);
      if (!cv.ok()) return Fail(cv.status());
    }
    const std::string name = hardware::OperatorClassShortName(c);
    if (json_out) {
      json.BeginObject();
      json.Field("class", name);
      if (fit != nullptr) {
        json.Field("rows", fit->rows);
        json.Field("efficiency", ToTextProto(fit->efficiency));
        json.Field("in_sample_median_ape_pct", 100 * fit->in_sample.median_ape);
        json.Field("in_sample_p90_ape_pct", 100 * fit->in_sample.p90_ape);
      }
      json.Key("operators");
      json.BeginArray();
      for (size_t i = first_op; i < fits->size(); ++i) {
        const hardware::ClassFit& op = (*fits)[i];
        json.BeginObject();
        json.Field("op_name", op.op_name);
        json.Field("rows", op.rows);
        json.Field("efficiency", ToTextProto(op.efficiency));
        json.Field("in_sample_median_ape_pct", 100 * op.in_sample.median_ape);
        json.Field("in_sample_p90_ape_pct", 100 * op.in_sample.p90_ape);
        json.EndObject();
      }
      json.EndArray();
      if (do_cv) {
        json.Field("cv_grouping", cv->grouping);
        json.Field("cv_median_ape_pct", 100 * cv->pooled.median_ape);
        json.Field("cv_p90_ape_pct", 100 * cv->pooled.p90_ape);
        json.Field("cv_rows", cv->pooled.rows);
        json.Field("cv_slow_median_ape_pct", 100 * cv->pooled_slow.median_ape);
        json.Field("cv_slow_p90_ape_pct", 100 * cv->pooled_slow.p90_ape);
        json.Field("cv_slow_rows", cv->pooled_slow.rows);
      }
      json.EndObject();
      continue;
    }
    if (fit != nullptr) {
      std::printf("# %s: %lld rows, in-sample median/p90 APE %s\n",
                  name.c_str(), static_cast<long long>(fit->rows),
                  Pct(fit->in_sample).c_str());
      std::printf("efficiency {\n%s}\n", ToTextProto(fit->efficiency).c_str());
    }
    for (size_t i = first_op; i < fits->size(); ++i) {
      const hardware::ClassFit& op = (*fits)[i];
      std::printf(
          "# %s: %lld rows, in-sample median/p90 APE %s (goes inside the %s "
          "entry as operators { ... })\n",
          op.op_name.c_str(), static_cast<long long>(op.rows),
          Pct(op.in_sample).c_str(), name.c_str());
      std::printf("operators {\n%s}\n", ToTextProto(op.efficiency).c_str());
    }
    if (do_cv) {
      std::printf("#   leave-one-%s-out: all %s | >=10us %s\n",
                  cv->grouping.c_str(), Pct(cv->pooled).c_str(),
                  Pct(cv->pooled_slow).c_str());
      for (const hardware::CvGroup& g : cv->groups) {
        std::printf("#     %-44s %s | %s\n", g.group.c_str(),
                    Pct(g.held_out).c_str(), Pct(g.held_out_slow).c_str());
      }
    }
    std::fflush(stdout);
  }
  if (json_out) {
    json.EndArray();
    json.EndObject();
    std::cout << json.str() << "\n";
  }
  return 0;
}

struct E2eSetup {
  std::map<std::string, const v1::Model*> models;  // by perf_model name
  std::map<std::string, const v1::Chip*> chips;    // by perf_model hardware
};

// Kernel-only predictions for every point (prefill and decode samples).
absl::StatusOr<std::vector<hardware::IterationSample>> Predict(
    const std::vector<hardware::IterationPoint>& points, const E2eSetup& s) {
  hardware::OperatorModelOptions kernel_only;
  kernel_only.iteration_overhead_s = 0;
  kernel_only.layer_overhead_s = 0;
  std::map<std::string, std::unique_ptr<hardware::OperatorModel>> cache;
  std::vector<hardware::IterationSample> out;
  for (const hardware::IterationPoint& p : points) {
    auto m = s.models.find(p.model);
    auto c = s.chips.find(p.hardware);
    if (m == s.models.end() || c == s.chips.end()) continue;
    const std::string key = absl::StrCat(p.model, p.hardware, p.tp);
    if (!cache.count(key)) {
      absl::StatusOr<std::unique_ptr<hardware::OperatorModel>> model =
          hardware::OperatorModel::Create(*m->second, *c->second, p.tp, 1,
                                          kernel_only);
      if (!model.ok()) return model.status();
      cache[key] = *std::move(model);
    }
    if (p.inconsistent) continue;
    const hardware::OperatorModel& model = *cache[key];
    hardware::BatchShape prefill;
    hardware::BatchShape decode;
    for (int i = 0; i < p.batch; ++i) {
      prefill.AddPrefillChunk(p.prompt_tokens, 0);
      // Mean context over the generation.
      decode.AddDecode(p.prompt_tokens + p.output_tokens / 2);
    }
    const int layers = m->second->num_layers();
    double attention_s = 0;
    for (const hardware::OperatorTime& op : model.Explain(decode).ops) {
      if (op.op_class == v1::OPERATOR_CLASS_ATTENTION_DECODE)
        attention_s += op.seconds;
    }
    out.push_back({p, true, p.prompt_s, model.IterationSeconds(prefill), layers,
                   p.batch, 0});
    out.push_back({p, false, p.token_s, model.IterationSeconds(decode), layers,
                   p.batch, attention_s});
  }
  return out;
}

// want_prefill: 1 prefill samples, 0 decode samples; min_batch: only
// points with at least this batch.
ErrorStats Errors(const std::vector<hardware::IterationSample>& samples,
                  const hardware::OverheadFit& fit, int want_prefill,
                  int min_batch = 1) {
  std::vector<double> e;
  for (const hardware::IterationSample& s : samples) {
    if (want_prefill >= 0 && s.prefill != (want_prefill == 1)) continue;
    if (s.point.batch < min_batch) continue;
    const double predicted = s.kernel_s + fit.Overhead(s);
    e.push_back(predicted / s.measured_s - 1);
  }
  return hardware::SummariseErrors(e);
}

int RunCalibrateE2e(const std::vector<std::string>& args) {
  if (int code = NoPositionalArgs("calibrate e2e", args)) return code;
  const std::string perf = absl::GetFlag(FLAGS_perf);
  if (perf.empty()) return UsageError("calibrate e2e needs --perf FILE");
  absl::StatusOr<std::vector<hardware::IterationPoint>> points =
      hardware::ReadSplitwisePerfModel(perf);
  if (!points.ok()) return Fail(points.status());
  absl::StatusOr<std::shared_ptr<const sim::Catalogs>> catalogs = CliCatalogs();
  if (!catalogs.ok()) return Fail(catalogs.status());
  const workloads::ModelCatalog* models = &(*catalogs)->models();
  const hardware::ChipCatalog* chips = &(*catalogs)->chips();
  E2eSetup setup;
  for (const auto& [file_name, catalog_name] :
       std::vector<std::pair<std::string, std::string>>{
           {"llama2-70b", "llama-2-70b"}, {"bloom-176b", "bloom-176b"}}) {
    absl::StatusOr<const v1::Model*> m = models->Find(catalog_name);
    if (!m.ok()) return Fail(m.status());
    setup.models[file_name] = *m;
  }
  for (const auto& [file_name, catalog_name] :
       std::vector<std::pair<std::string, std::string>>{
           {"h100-80gb", "h100"}, {"a100-80gb", "a100"}}) {
    absl::StatusOr<const v1::Chip*> c = chips->Find(catalog_name);
    if (!c.ok()) return Fail(c.status());
    setup.chips[file_name] = *c;
  }
  absl::StatusOr<std::vector<hardware::IterationSample>> samples =
      Predict(*points, setup);
  if (!samples.ok()) return Fail(samples.status());
  // Fit on Llama-2-70B at TP2 and TP4, check on TP8 and BLOOM-176B.
  std::vector<hardware::IterationSample> train, test;
  for (const hardware::IterationSample& s : *samples) {
    (s.point.model == "llama2-70b" && s.point.tp < 8 ? train : test)
        .push_back(s);
  }
  int skipped = 0;
  for (const hardware::IterationPoint& p : *points) skipped += p.inconsistent;
  const hardware::OverheadFit none;
  hardware::OverheadFit previous;  // the per-layer-only profile before it
  previous.layer_overhead_s = 156e-6;
  const hardware::OperatorModelOptions profile =
      hardware::OperatorModelOptions::WithSplitwiseOverhead();
  hardware::OverheadFit shipped;
  shipped.iteration_overhead_s = profile.iteration_overhead_s;
  shipped.layer_overhead_s = profile.layer_overhead_s;
  shipped.request_layer_overhead_s = profile.request_layer_overhead_s;
  struct Variant {
    std::string name;
    hardware::OverheadFit fit;
  };
  std::vector<Variant> variants = {
      {"kernel only", none},
      {"before: 156 us per layer", previous},
      {"WithSplitwiseOverhead()", shipped},
      {"fit: per iteration", hardware::FitFrameworkOverhead(train, false)},
      {"fit: per layer", hardware::FitFrameworkOverhead(train, true)},
      {"fit: per layer + per request", hardware::FitServingStackProfile(train)},
      {"alt: per layer + decode attn eta",
       hardware::FitDecodeAttentionScale(train)}};
  for (const std::string& hw :
       {std::string("h100-80gb"), std::string("a100-80gb")}) {
    std::vector<hardware::IterationSample> chip_train;
    for (const hardware::IterationSample& s : train)
      if (s.point.hardware == hw) chip_train.push_back(s);
    variants.push_back({"profile fit, " + hw + " only",
                        hardware::FitServingStackProfile(chip_train)});
  }
  const bool json_out = absl::GetFlag(FLAGS_json);
  JsonWriter json;
  if (json_out) {
    json.BeginObject();
    json.Field("perf", perf);
    json.Field("train_samples", static_cast<int64_t>(train.size()));
    json.Field("test_samples", static_cast<int64_t>(test.size()));
    json.Field("inconsistent_points_skipped", static_cast<int64_t>(skipped));
    json.Key("variants");
    json.BeginArray();
  } else {
    std::printf(
        "calibrate e2e: %zu points (%d inconsistent skipped); train = "
        "Llama-2-70B TP2/TP4 (%zu samples), test = Llama-2-70B TP8 + "
        "BLOOM-176B TP8 (%zu samples)\n",
        points->size(), skipped, train.size(), test.size());
    std::printf(
        "%-33s %6s %6s %6s %5s | %-20s | %-20s | %-20s | %-20s | %-20s | "
        "%-20s\n",
        "variant", "iter", "layer", "req.l", "attn", "train prefill",
        "train decode", "train decode b>1", "test prefill", "test decode",
        "test decode b>1");
  }
  for (const Variant& v : variants) {
    const ErrorStats tp = Errors(train, v.fit, 1), td = Errors(train, v.fit, 0),
                     tdb = Errors(train, v.fit, 0, 2),
                     xp = Errors(test, v.fit, 1), xd = Errors(test, v.fit, 0),
                     xdb = Errors(test, v.fit, 0, 2);
    if (json_out) {
      json.BeginObject();
      json.Field("name", v.name);
      json.Field("iteration_overhead_s", v.fit.iteration_overhead_s);
      json.Field("layer_overhead_s", v.fit.layer_overhead_s);
      json.Field("request_layer_overhead_s", v.fit.request_layer_overhead_s);
      json.Field("attention_scale", v.fit.attention_scale);
      for (const auto& [key, s] :
           std::vector<std::pair<std::string, ErrorStats>>{
               {"train_prefill", tp},
               {"train_decode", td},
               {"train_decode_batched", tdb},
               {"test_prefill", xp},
               {"test_decode", xd},
               {"test_decode_batched", xdb}}) {
        json.Key(key);
        json.BeginObject();
        json.Field("median_ape_pct", 100 * s.median_ape);
        json.Field("p90_ape_pct", 100 * s.p90_ape);
        json.Field("median_signed_pct", 100 * s.median_signed);
        json.Field("rows", s.rows);
        json.EndObject();
      }
      json.EndObject();
      continue;
    }
    auto cell = [](const ErrorStats& s) {
      return absl::StrFormat("%4.1f/%4.1f (%+5.1f)", 100 * s.median_ape,
                             100 * s.p90_ape, 100 * s.median_signed);
    };
    std::printf(
        "%-33s %6.2f %6.1f %6.2f %5.2f | %-20s | %-20s | %-20s | %-20s | "
        "%-20s | %-20s\n",
        v.name.c_str(), 1e3 * v.fit.iteration_overhead_s,
        1e6 * v.fit.layer_overhead_s, 1e6 * v.fit.request_layer_overhead_s,
        v.fit.attention_scale, cell(tp).c_str(), cell(td).c_str(),
        cell(tdb).c_str(), cell(xp).c_str(), cell(xd).c_str(),
        cell(xdb).c_str());
  }
  if (json_out) {
    json.EndArray();
    json.EndObject();
    std::cout << json.str() << "\n";
  } else {
    std::printf(
        "columns: iter = ms per iteration, layer = us per layer, req.l = us "
        "per request per layer, attn = decode attention slowdown - 1; cells: "
        "median / p90 APE %% (median signed error %%); b>1 = batched decode "
        "points only\n");
  }
  return 0;
}

}  // namespace

FLEETSIM_REGISTER_COMMAND(
    "calibrate fit",
    {"calibrate fit --chip CHIP --profile FILE[,FILE...] [flags]",
     "Fits per-class efficiencies to measured kernel tables, with "
     "leave-one-model-out cross-validation under --cv "
     "(docs/calibration.md).",
     {"chip", "profile", "format", "where", "framework", "cv", "json",
      "data_dir"},
     RunCalibrateFit});
FLEETSIM_REGISTER_COMMAND(
    "calibrate e2e",
    {"calibrate e2e --perf perf_model.csv [--json]",
     "Whole-iteration check of the cost model and the serving-overhead fit "
     "against SplitwiseSim's measured perf_model.csv "
     "(docs/calibration.md §6).",
     {"perf", "json", "data_dir"},
     RunCalibrateE2e});

}  // namespace fleetsim::cli
