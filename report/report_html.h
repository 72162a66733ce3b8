// File: report/report_html.h
//
// report.html: one self-contained page (no network: its Content Security
// Policy forbids every load) with the study's numbers embedded as
// study.json, and the stylesheet, report script and Apache ECharts inlined.
// The script draws every table and chart from the embedded JSON.
#ifndef FLEETSIM_REPORT_REPORT_HTML_H_
#define FLEETSIM_REPORT_REPORT_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fleetsim::report {

// The page for `study_json` (a StudyResult in protobuf's JSON mapping),
// titled `title` (HTML-escaped here).
std::string RenderReportHtml(absl::string_view study_json,
                             absl::string_view title);

// `json` made safe inside <script type="application/json">: every '<'
// becomes \u003c (it can only occur inside JSON strings), so no
// "</script>" or "<!--" can end or change the element.
std::string JsonForScriptElement(absl::string_view json);

}  // namespace fleetsim::report

#endif  // FLEETSIM_REPORT_REPORT_HTML_H_
