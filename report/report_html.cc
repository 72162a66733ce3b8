#include "report/report_html.h"

#include "absl/strings/str_replace.h"
#include "report/assets.h"

namespace fleetsim::report {
namespace {

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(
      text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

}  // namespace

std::string JsonForScriptElement(absl::string_view json) {
  return absl::StrReplaceAll(json, {{"<", "\\u003c"}});
}

std::string RenderReportHtml(absl::string_view study_json,
                             absl::string_view title) {
  // One pass over the template: inserted text is never scanned again, so
  // a placeholder-like string inside ECharts or the data stays as it is.
  return absl::StrReplaceAll(
      ReportTemplateHtml(), {{"@TITLE@", HtmlEscape(title)},
                             {"@STYLE@", ReportCss()},
                             {"@STUDY_JSON@", JsonForScriptElement(study_json)},
                             {"@ECHARTS@", EchartsMinJs()},
                             {"@SCRIPT@", ReportJs()}});
}

}  // namespace fleetsim::report
