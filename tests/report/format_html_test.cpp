#include "report/format_html.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tests/report/sample_report.h"
#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

size_t occurrences(const std::string& text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// The JSON inside <script type="application/json" id="nantrack-data">.
json embedded_data(const std::string& html) {
  constexpr std::string_view open = R"(<script type="application/json" id="nantrack-data">)";
  const size_t start = html.find(open);
  EXPECT_NE(start, std::string::npos);
  const size_t end = html.find("</script>", start);
  return json::parse(html.substr(start + open.size(), end - start - open.size()));
}

TEST(FormatHtmlTest, IsOneSelfContainedDocument) {
  const std::string html = render_html_report(testing::sample_report());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("{{"), std::string::npos) << "a placeholder was left unfilled";
  EXPECT_EQ(occurrences(html, "<script"), 2u);  // the data and the script, nothing injected
  EXPECT_EQ(occurrences(html, "</script>"), 2u);
  EXPECT_NE(html.find("function main()"), std::string::npos);
  EXPECT_NE(html.find(fmt::format("nantrack {}", kVersion)), std::string::npos);
}

TEST(FormatHtmlTest, EmbedsTheReportDataIntact) {
  const json data = embedded_data(render_html_report(testing::sample_report()));
  EXPECT_EQ(data["tool"], "nantrack");
  ASSERT_EQ(data["processes"].size(), 3u);
  EXPECT_EQ(data["processes"][0]["leaks"].size(), 3u);
}

TEST(FormatHtmlTest, TraceTextNeverBecomesMarkup) {
  const std::string html = render_html_report(testing::sample_report());
  EXPECT_EQ(html.find(testing::kHostileFunction), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<script>document"), std::string::npos);
  // ... yet the page's script gets the names exactly as the trace had them.
  const json data = embedded_data(html);
  bool found_function = false;
  bool found_file = false;
  for (const json& frame : data["frames"]) {
    found_function |= frame.value("fn", "") == testing::kHostileFunction;
    found_file |= frame.value("file", "") == testing::kHostileFile;
  }
  EXPECT_TRUE(found_function);
  EXPECT_TRUE(found_file);
}

TEST(FormatHtmlTest, EscapesTheTitle) {
  Report report = testing::sample_report();
  report.processes[0].process.argv[0] = "./a<b>&\"c\"";
  const std::string html = render_html_report(report);
  EXPECT_NE(html.find("<title>nantrack: ./a&lt;b&gt;&amp;&quot;c&quot; and 2 more processes</title>"),
            std::string::npos);
  EXPECT_EQ(escape_html("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(FormatHtmlTest, PlaceholderTextInTracesIsNotExpanded) {
  Report report = testing::sample_report();
  report.processes[0].leaks[0].stack[0].function = "{{script}}{{data}}";
  const json data = embedded_data(render_html_report(report));
  EXPECT_EQ(data["frames"][0]["fn"], "{{script}}{{data}}");
}

TEST(FormatHtmlTest, InvalidUtf8BecomesReplacementCharacters) {
  Report report = testing::sample_report();
  report.processes[0].leaks[0].stack[0].function = "bad\xff\xfename";
  const json data = embedded_data(render_html_report(report));
  EXPECT_EQ(data["frames"][0]["fn"], "bad\xEF\xBF\xBD\xEF\xBF\xBDname");
}

TEST(FormatHtmlTest, TenThousandLeakSitesRenderQuickly) {
  const Report report = testing::many_leak_sites_report(10'000);
  const auto start = std::chrono::steady_clock::now();
  const std::string html = render_html_report(report);
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  std::cout << "render_html_report, 10,000 leak sites: " << elapsed.count() << " ms, " << html.size() / 1024
            << " KiB\n";
  const json data = embedded_data(html);
  EXPECT_EQ(data["processes"][0]["leaks"].size(), 10'000u);
  // Shared outer frames are stored once: 10,000 innermost frames plus a few dozen.
  EXPECT_LT(data["frames"].size(), 10'100u);
}

}  // namespace
}  // namespace nantrack
