// The HTML report in a real browser: headless Chromium loads pages rendered
// by render_html_report() and the test reads the DOM its script built
// (--dump-dom). Interactions (sorting, expanding a stack, filtering, "show
// more", zooming the icicle) are done by tests/browser/report_driver.js, which
// the test appends to a copy of the page. Screenshots go to
// <build>/tests/browser/*.png for a person to look at.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "report/format_html.h"
#include "tests/browser/headless_chromium.h"
#include "tests/report/sample_report.h"

namespace nantrack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HeadlessChromium;

const fs::path kOutputDir = fs::path(NANTRACK_BUILD_DIR) / "tests" / "browser";

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t occurrences(const std::string& text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// The text of the first element after `marker` whose opening tag ends with
// `tag_end` (e.g. class="tile-value">), up to the next tag.
std::string text_after(const std::string& dom, std::string_view marker, std::string_view tag_end) {
  const size_t at = dom.find(marker);
  if (at == std::string::npos) return "<" + std::string(marker) + " not found>";
  const size_t start = dom.find(tag_end, at);
  if (start == std::string::npos) return "<" + std::string(tag_end) + " not found>";
  const size_t text = start + tag_end.size();
  return dom.substr(text, dom.find('<', text) - text);
}

// The serialized DOM escapes &, < and > in text; the driver's log is JSON.
json driver_log(const std::string& dom) {
  const std::string raw = text_after(dom, "<pre id=\"driver-log\">", ">");
  std::string text;
  for (size_t i = 0; i < raw.size();) {
    bool replaced = false;
    for (const auto& [entity, plain] : {std::pair{"&amp;", '&'}, std::pair{"&lt;", '<'}, std::pair{"&gt;", '>'}}) {
      if (raw.compare(i, std::strlen(entity), entity) == 0) {
        text += plain;
        i += std::strlen(entity);
        replaced = true;
        break;
      }
    }
    if (!replaced) text += raw[i++];
  }
  return json::parse(text);
}

// The page with the driver appended, as a second script after the report's own.
std::string with_driver(const std::string& html, const json& options) {
  const std::string driver = read_file(fs::path(NANTRACK_SOURCE_DIR) / "tests" / "browser" / "report_driver.js");
  const std::string scripts = "<script>window.driverOptions = " + options.dump() + ";</script>\n<script>\n" +
                              driver + "</script>\n";
  std::string page = html;
  return page.insert(page.rfind("</body>"), scripts);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class HtmlReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::optional<fs::path> executable = HeadlessChromium::find();
    ASSERT_TRUE(executable) << "nantrack: the browser test needs Debian's chromium: apt-get install -y chromium "
                               "(`make test` installs it)";
    fs::create_directories(kOutputDir);
    chromium_.emplace(*executable, kOutputDir / "profiles");
  }

  // Writes the page and returns chromium's DOM of it.
  std::string load(const std::string& name, const std::string& html) {
    const fs::path page = kOutputDir / name;
    write_file(page, html);
    return chromium_->dump_dom(page);
  }

  std::optional<HeadlessChromium> chromium_;
};

TEST_F(HtmlReportBrowserTest, DrawsTilesProcessesLeaksErrorsAndStacks) {
  const std::string dom = load("report.html", render_html_report(testing::sample_report()));

  EXPECT_EQ(text_after(dom, "data-tile=\"leaked-bytes\"", "class=\"tile-value\">"), "4,196");
  EXPECT_EQ(text_after(dom, "data-tile=\"leaked-blocks\"", "class=\"tile-value\">"), "15");
  EXPECT_EQ(text_after(dom, "data-tile=\"errors\"", "class=\"tile-value\">"), "2");
  EXPECT_EQ(text_after(dom, "data-tile=\"errors\"", "class=\"tile-detail\">"), "1 double free · 1 mismatched free");
  EXPECT_EQ(text_after(dom, "data-tile=\"peak-bytes\"", "class=\"tile-value\">"), "1,048,576");
  EXPECT_EQ(text_after(dom, "data-tile=\"allocations\"", "class=\"tile-value\">"), "1,235");
  EXPECT_EQ(text_after(dom, "class=\"banner", ">"), "4,196 bytes leaked in 15 blocks and 2 heap errors across 3 processes.");

  // Every process has a line; those with findings a section.
  EXPECT_EQ(occurrences(dom, "<tr class=\"process-row\""), 3u);
  EXPECT_EQ(occurrences(dom, "<section class=\"card process\""), 2u);
  EXPECT_NE(dom.find("./app --input 'data file.txt'"), std::string::npos);
  EXPECT_NE(dom.find("crashed with SIGSEGV"), std::string::npos);

  EXPECT_EQ(occurrences(dom, "<tr class=\"leak-row"), 3u + 1u);
  // The biggest leak site of each process starts expanded, its frames visible.
  EXPECT_EQ(occurrences(dom, "<tr class=\"stack-row\""), 2u);
  EXPECT_NE(dom.find("<span class=\"frame-fn\">make_buffer(unsigned long)</span>"), std::string::npos);
  EXPECT_NE(dom.find(">/home/dev/app/src/buf.cpp:12</span>"), std::string::npos);
  EXPECT_NE(dom.find("<li class=\"frame inlined\">"), std::string::npos);
  EXPECT_NE(dom.find("(libc.so.6+0x271ca)"), std::string::npos);

  EXPECT_EQ(occurrences(dom, "<article class=\"error-card\""), 2u);
  EXPECT_NE(dom.find("double free of 0x5581a2c0 (24 bytes) in thread 1"), std::string::npos);
  EXPECT_NE(dom.find("first freed here (3 frames)"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"frame-fn\">Cache::drop()</span>"), std::string::npos);

  EXPECT_GT(occurrences(dom, "class=\"flame-node"), 5u);
  EXPECT_NE(dom.find("<tr class=\"suppression-row\"><td><code>leak:libfoo.so</code>"), std::string::npos);
  EXPECT_NE(dom.find("build-id mismatch: /usr/lib/libfoo.so changed since the run"), std::string::npos);

  // Hostile names are shown as text and never run.
  EXPECT_NE(dom.find("&lt;script&gt;document.body.dataset.pwned='script'&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(dom.find("data-pwned"), std::string::npos);

  chromium_->screenshot(kOutputDir / "report.html", kOutputDir / "report.png", 1280, 2000);
  EXPECT_GT(fs::file_size(kOutputDir / "report.png"), 20'000u);
}

// An error that came again and again is one card, with its count, and the
// tiles count every time.
TEST_F(HtmlReportBrowserTest, ARepeatedErrorIsOneCardWithItsCount) {
  Report report = testing::sample_report();
  ProcessReport& process = report.processes[0];
  process.errors[0].event.occurrences = 1500;
  process.summary = testing::summary_of(process, 1200, 1 << 20);
  const std::string dom = load("repeated.html", render_html_report(report));
  EXPECT_EQ(occurrences(dom, "<article class=\"error-card\""), 2u);
  EXPECT_EQ(text_after(dom, "<article class=\"error-card\"", "class=\"error-count\">"), "1,500 times in all");
  EXPECT_EQ(occurrences(dom, "class=\"error-count\""), 1u) << "a single error shows no count";
  EXPECT_EQ(text_after(dom, "data-tile=\"errors\"", "class=\"tile-value\">"), "1,501");
}

TEST_F(HtmlReportBrowserTest, SnapshotsGetABadgeSayingWhetherTheyGate) {
  Report report = testing::sample_report();
  report.processes[1].process.snapshot = SnapshotInfo{.sequence = 2, .trigger = SnapshotTrigger::Signal};
  report.processes[1].leaks_gate = false;
  const std::string dom = load("snapshot.html", render_html_report(report));
  EXPECT_NE(dom.find("<span class=\"badge\" title=\"its leaks do not count for the CI gate\">snapshot 2 (signal)</span>"),
            std::string::npos)
      << dom.substr(0, 4000);
  EXPECT_NE(dom.find("id=\"process-4243-snapshot-2\""), std::string::npos);
  EXPECT_NE(dom.find("</code> snapshot 2 (signal)</td>"), std::string::npos) << "the process table's line";
}

// A crash inside nantrack's block tables leaves a process's leaks unknown:
// no "No leaks" for it, a section with its note even without findings.
TEST_F(HtmlReportBrowserTest, AProcessWhoseLeaksAreUnknownIsNotCalledClean) {
  Report report;
  report.processes = {testing::sample_clean_process(), testing::sample_clean_process()};
  ProcessInfo& crashed = report.processes[0].process;
  crashed.pid = 4250;
  crashed.exit_status.reset();
  crashed.signal = 11;
  crashed.crashed = true;
  crashed.live_blocks_unknown = true;
  report.processes[0].notes = {"the blocks live at that moment could not be listed"};
  const std::string dom = load("unknown.html", render_html_report(report));
  EXPECT_EQ(text_after(dom, "class=\"banner", ">"),
            "No leaks seen and no heap errors across 2 processes; the leaks of 1 process are unknown (see its notes).");
  EXPECT_EQ(occurrences(dom, "<section class=\"card process\""), 1u) << "the crashed one only";
  EXPECT_NE(dom.find("No heap errors; its leaks are unknown: the blocks live at its crash could not be listed."),
            std::string::npos);
  EXPECT_NE(dom.find("<li>the blocks live at that moment could not be listed</li>"), std::string::npos);
}

TEST_F(HtmlReportBrowserTest, SortsExpandsFiltersAndZooms) {
  const std::string html = render_html_report(testing::sample_report());
  const json log = driver_log(load("report_driven.html", with_driver(html, {{"filter", "cache.cpp"}})));
  SCOPED_TRACE(log.dump(2));

  EXPECT_EQ(log["pwned"], nullptr);
  EXPECT_EQ(log["rowsInitially"], 3);
  EXPECT_EQ(log["stackRowsInitially"], 1);
  EXPECT_EQ(log["bytesAscending"], json::array({"24", "1,000", "3,072"}));
  EXPECT_EQ(log["ariaSortAfterOneClick"], "ascending");
  EXPECT_EQ(log["bytesDescending"], json::array({"3,072", "1,000", "24"}));
  EXPECT_EQ(log["ariaSortFunction"], "ascending");
  const json& functions = log["functionsAscending"];
  ASSERT_EQ(functions.size(), 3u);
  EXPECT_EQ(functions[1], "Cache::put(std::string const&)");  // its project frame, not the vector code
  EXPECT_EQ(functions[2], "make_buffer(unsigned long)");

  // The second site: inlined vector code in Cache::put, called from main.
  EXPECT_TRUE(log["expandedIsStackRow"]);
  EXPECT_EQ(log["expandedFunctions"],
            json::array({"std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>",
                         "Cache::put(std::string const&)", "main", "__libc_start_call_main"}));
  EXPECT_EQ(log["expandedLocations"][1], "/home/dev/app/src/cache.cpp:40");
  EXPECT_EQ(log["stackRowsAfterCollapse"], 1);

  EXPECT_EQ(log["showMoreText"], nullptr);  // three rows fit in a page
  EXPECT_EQ(log["rowsAfterFilter"], 1);
  EXPECT_EQ(log["rowCountText"], "Showing 1 of 1 leak site matching, of 3");
  EXPECT_EQ(log["flameAncestorsAfterZoom"], json::array({"all leaks", "__libc_start_call_main"}));
  EXPECT_EQ(log["errorCards"].size(), 2u);
}

// Not a benchmark: prints what a big report costs, and checks the page stays
// paged (100 rows drawn, not 10,000) and the icicle bounded.
TEST_F(HtmlReportBrowserTest, TenThousandLeakSitesStayResponsive) {
  const auto render_start = std::chrono::steady_clock::now();
  const std::string html = render_html_report(testing::many_leak_sites_report(10'000));
  const double render_seconds = seconds_since(render_start);

  const auto small_start = std::chrono::steady_clock::now();
  load("report_small.html", render_html_report(testing::sample_report()));
  const double small_seconds = seconds_since(small_start);
  const auto big_start = std::chrono::steady_clock::now();
  const json log = driver_log(load("report_10k.html", with_driver(html, {{"filter", "leaky_function_42("}})));
  const double big_seconds = seconds_since(big_start);
  SCOPED_TRACE(log.dump(2));

  EXPECT_EQ(log["rowsInitially"], 100);
  EXPECT_EQ(log["showMoreText"], "Show 100 more (9,900 not shown)");
  EXPECT_EQ(log["rowsAfterShowMore"], 200);
  EXPECT_EQ(log["rowsAfterFilter"], 1);
  EXPECT_LT(log["flameNodes"].get<int>(), 500);

  std::cout << "10,000 leak sites: render_html_report " << render_seconds * 1000 << " ms, " << html.size() / 1024
            << " KiB; chromium --dump-dom " << big_seconds * 1000 << " ms (sample report: " << small_seconds * 1000
            << " ms); in the page: script done at " << log["loadedMs"].get<double>() << " ms after navigation, sort "
            << log["sortMs"].get<double>() << " ms, show more " << log["showMoreMs"].get<double>() << " ms, filter "
            << log["filterMs"].get<double>() << " ms\n";
}

}  // namespace
}  // namespace nantrack
