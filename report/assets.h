// File: report/assets.h
//
// The files every report.html inlines, embedded in the binary at build
// time (assets.cc) so that `fleetsim study` and the Study rpc need nothing
// beside the executable: the page template, its stylesheet and script
// (report/web/), and Apache ECharts (report/vendor/echarts/, see its
// README for version and provenance).
#ifndef FLEETSIM_REPORT_ASSETS_H_
#define FLEETSIM_REPORT_ASSETS_H_

#include "absl/strings/string_view.h"

namespace fleetsim::report {

absl::string_view ReportTemplateHtml();
absl::string_view ReportCss();
absl::string_view ReportJs();
absl::string_view EchartsMinJs();

}  // namespace fleetsim::report

#endif  // FLEETSIM_REPORT_ASSETS_H_
