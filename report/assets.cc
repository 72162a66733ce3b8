#include "report/assets.h"

// Each file is copied into .rodata by the assembler's .incbin (GCC and
// Clang, ELF), between a begin and an end symbol; CMakeLists.txt makes this
// file depend on them. FLEETSIM_REPORT_DIR is the source folder report/.
#define FLEETSIM_EMBED(name, file)                        \
  asm(".section .rodata\n"                                \
      ".balign 16\n"                                      \
      ".global fleetsim_report_" #name                    \
      "_begin\n"                                          \
      "fleetsim_report_" #name                            \
      "_begin:\n"                                         \
      ".incbin \"" FLEETSIM_REPORT_DIR "/" file           \
      "\"\n"                                              \
      ".global fleetsim_report_" #name                    \
      "_end\n"                                            \
      "fleetsim_report_" #name                            \
      "_end:\n"                                           \
      ".byte 0\n"                                         \
      ".previous\n");                                     \
  extern "C" const char fleetsim_report_##name##_begin[]; \
  extern "C" const char fleetsim_report_##name##_end[];

FLEETSIM_EMBED(template_html, "web/report.html")
FLEETSIM_EMBED(css, "web/report.css")
FLEETSIM_EMBED(js, "web/report.js")
FLEETSIM_EMBED(echarts, "vendor/echarts/echarts.min.js")

namespace fleetsim::report {
namespace {

absl::string_view Between(const char* begin, const char* end) {
  return absl::string_view(begin, static_cast<size_t>(end - begin));
}

}  // namespace

absl::string_view ReportTemplateHtml() {
  return Between(fleetsim_report_template_html_begin,
                 fleetsim_report_template_html_end);
}
absl::string_view ReportCss() {
  return Between(fleetsim_report_css_begin, fleetsim_report_css_end);
}
absl::string_view ReportJs() {
  return Between(fleetsim_report_js_begin, fleetsim_report_js_end);
}
absl::string_view EchartsMinJs() {
  return Between(fleetsim_report_echarts_begin, fleetsim_report_echarts_end);
}

}  // namespace fleetsim::report
