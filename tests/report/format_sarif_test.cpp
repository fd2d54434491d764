#include "report/format_sarif.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "report/sarif_location.h"
#include "tests/report/sample_report.h"
#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

json sample_sarif() { return report_to_sarif(testing::sample_report(), {.source_root = testing::kSampleSourceRoot}); }

const json& results_of(const json& sarif) { return sarif["runs"][0]["results"]; }

const json& result_with_message(const json& sarif, std::string_view text) {
  const json& results = results_of(sarif);
  const auto found = std::ranges::find_if(results, [&](const json& r) { return r["message"]["text"] == text; });
  EXPECT_NE(found, results.end()) << "no result says: " << text;
  return *found;
}

TEST(FormatSarifTest, HasTheRequiredSarifProperties) {
  const json sarif = sample_sarif();
  EXPECT_TRUE(sarif["$schema"].get<std::string>().ends_with("sarif-schema-2.1.0.json"));
  EXPECT_EQ(sarif["version"], "2.1.0");
  ASSERT_EQ(sarif["runs"].size(), 1u);
  const json& driver = sarif["runs"][0]["tool"]["driver"];
  EXPECT_EQ(driver["name"], "nantrack");
  EXPECT_EQ(driver["version"], kVersion);
  for (const json& result : results_of(sarif)) {
    EXPECT_TRUE(result["message"]["text"].is_string());
    EXPECT_TRUE(result["ruleId"].is_string());
    EXPECT_EQ(driver["rules"][result["ruleIndex"].get<size_t>()]["id"], result["ruleId"]);
    EXPECT_TRUE(result["level"] == "error" || result["level"] == "warning");
  }
}

TEST(FormatSarifTest, DeclaresARulePerFindingKind) {
  const json sarif = sample_sarif();
  const json& rules = sarif["runs"][0]["tool"]["driver"]["rules"];
  std::set<std::string> ids;
  for (const json& rule : rules) {
    ids.insert(rule["id"]);
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
  }
  EXPECT_EQ(ids, (std::set<std::string>{"leak", "double_free", "invalid_free", "mismatched_free", "heap_overflow",
                                        "write_after_free"}));
}

TEST(FormatSarifTest, OneResultPerLeakGroupAndPerError) {
  const json sarif = sample_sarif();
  EXPECT_EQ(results_of(sarif).size(), 3u + 2u + 1u);  // main's leaks and errors, the child's leak
  const json& definite = result_with_message(sarif, "3,072 bytes in 3 blocks leaked (definite)");
  EXPECT_EQ(definite["ruleId"], "leak");
  EXPECT_EQ(definite["level"], "error");
  EXPECT_EQ(definite["properties"]["pid"], 4242);
  const json& possible = result_with_message(sarif, "1,000 bytes in 10 blocks leaked (possible)");
  EXPECT_EQ(possible["level"], "warning");
  result_with_message(sarif, "100 bytes in 1 block leaked (definite)");
  const json& double_free = result_with_message(sarif, "double free of 0x5581a2c0 (24 bytes) in thread 1");
  EXPECT_EQ(double_free["ruleId"], "double_free");
  EXPECT_EQ(double_free["level"], "error");
}

TEST(FormatSarifTest, SnapshotLeaksSayWhenAndNoteWhatDoesNotGate) {
  Report report = testing::sample_report();
  ProcessReport& snapshot = report.processes[1];
  snapshot.process.snapshot = SnapshotInfo{.sequence = 3, .trigger = SnapshotTrigger::Signal};
  snapshot.leaks_gate = false;
  const json sarif = report_to_sarif(report, {.source_root = testing::kSampleSourceRoot});
  const json& noted = result_with_message(
      sarif, "100 bytes in 1 block leaked (definite), found by snapshot 3 (signal) while the process ran");
  EXPECT_EQ(noted["level"], "note");
  EXPECT_EQ(noted["properties"]["gates"], false);
  EXPECT_EQ(noted["properties"]["snapshot"], json({{"sequence", 3}, {"trigger", "signal"}}));

  snapshot.process.snapshot->trigger = SnapshotTrigger::LeakCheck;  // __lsan_do_leak_check's gates
  snapshot.leaks_gate = true;
  const json gating = report_to_sarif(report, {.source_root = testing::kSampleSourceRoot});
  const json& leak = result_with_message(
      gating, "100 bytes in 1 block leaked (definite), found by snapshot 3 (leak_check) while the process ran");
  EXPECT_EQ(leak["level"], "error");
  EXPECT_FALSE(result_with_message(gating, "3,072 bytes in 3 blocks leaked (definite)")["properties"].contains("snapshot"));
}

TEST(FormatSarifTest, LocatesAResultAtItsInnermostProjectFrame) {
  const json sarif = sample_sarif();
  const json& location = result_with_message(sarif, "3,072 bytes in 3 blocks leaked (definite)")["locations"][0];
  EXPECT_EQ(location["physicalLocation"]["artifactLocation"],
            (json{{"uri", "src/buf.cpp"}, {"uriBaseId", "%SRCROOT%"}}));
  EXPECT_EQ(location["physicalLocation"]["region"]["startLine"], 12);
  EXPECT_EQ(location["logicalLocations"][0]["fullyQualifiedName"], "make_buffer(unsigned long)");
  // The innermost frame is in a system header: the result points at the caller.
  const json& possible = result_with_message(sarif, "1,000 bytes in 10 blocks leaked (possible)")["locations"][0];
  EXPECT_EQ(possible["physicalLocation"]["artifactLocation"]["uri"], "src/cache.cpp");
  EXPECT_EQ(possible["physicalLocation"]["region"]["startLine"], 40);
  EXPECT_EQ(sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///home/dev/app/");
}

TEST(FormatSarifTest, CarriesEveryStackInFull) {
  const json sarif = sample_sarif();
  const json& leak = result_with_message(sarif, "3,072 bytes in 3 blocks leaked (definite)");
  ASSERT_EQ(leak["stacks"].size(), 1u);
  const json& frames = leak["stacks"][0]["frames"];
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[1]["location"]["logicalLocations"][0]["fullyQualifiedName"], "load()");
  EXPECT_EQ(frames[1]["location"]["message"]["text"],
            "#1 0x55550070 in load() /home/dev/app/src/load.cpp:7 (app+0x70) [inlined]");
  EXPECT_EQ(frames[1]["module"], "app");
  // libc without debug info: no physical location, module and function only.
  EXPECT_FALSE(frames[3]["location"].contains("physicalLocation"));
  EXPECT_EQ(frames[3]["module"], "libc.so.6");

  const json& double_free = result_with_message(sarif, "double free of 0x5581a2c0 (24 bytes) in thread 1");
  ASSERT_EQ(double_free["stacks"].size(), 3u);
  EXPECT_EQ(double_free["stacks"][0]["message"]["text"], "double free here");
  EXPECT_EQ(double_free["stacks"][1]["message"]["text"], "first freed here");
  EXPECT_EQ(double_free["stacks"][2]["message"]["text"], "allocated here");
  EXPECT_EQ(double_free["locations"][0]["physicalLocation"]["region"]["startLine"], 88);
  ASSERT_EQ(double_free["relatedLocations"].size(), 2u);
  EXPECT_EQ(double_free["relatedLocations"][0]["id"], 1);
  EXPECT_EQ(double_free["relatedLocations"][0]["message"]["text"], "first freed here");
  EXPECT_EQ(double_free["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 61);
}

TEST(FormatSarifTest, FingerprintsIgnoreAddressesButNotFunctions) {
  Report report = testing::sample_report();
  const json before = report_to_sarif(report);
  for (SourceFrame& frame : report.processes[0].leaks[0].stack) frame.address += 0x1000;
  const json moved = report_to_sarif(report);
  report.processes[0].leaks[0].stack[0].function = "other_function()";
  const json renamed = report_to_sarif(report);
  const auto fingerprint = [](const json& sarif) {
    return results_of(sarif)[2]["partialFingerprints"]["nantrackStack/v1"];  // the first leak, after 2 errors
  };
  EXPECT_EQ(fingerprint(before), fingerprint(moved));
  EXPECT_NE(fingerprint(before), fingerprint(renamed));
}

TEST(FormatSarifTest, FilesOutsideTheSourceRootGetAbsoluteUris) {
  const SarifLocations locations("/home/dev/app");
  EXPECT_EQ(locations.artifact_location("/home/dev/app/src/../lib/x.c"),
            (json{{"uri", "lib/x.c"}, {"uriBaseId", "%SRCROOT%"}}));
  EXPECT_EQ(locations.artifact_location("/home/dev/other/y.c"), (json{{"uri", "file:///home/dev/other/y.c"}}));
  EXPECT_EQ(locations.artifact_location("/home/dev/application/z.c"),
            (json{{"uri", "file:///home/dev/application/z.c"}}));
  EXPECT_EQ(locations.artifact_location("rel/w.c"), (json{{"uri", "rel/w.c"}, {"uriBaseId", "%SRCROOT%"}}));
  EXPECT_EQ(percent_encode_path("/a b/#c%d/\xff.c"), "/a%20b/%23c%25d/%FF.c");
}

TEST(FormatSarifTest, ResultsWithoutAnySourceFileHaveNoLocation) {
  Report report;
  report.processes.push_back({.leaks = {{.bytes = 8, .blocks = 1, .stack = {{.address = 0x10, .function = "strdup"}}}}});
  const json sarif = report_to_sarif(report);
  EXPECT_EQ(results_of(sarif)[0]["locations"], json::array());
  EXPECT_EQ(results_of(sarif)[0]["stacks"][0]["frames"][0]["location"]["message"]["text"], "#0 0x10 in strdup");
}

TEST(FormatSarifTest, RenderedTextSurvivesInvalidUtf8) {
  Report report = testing::sample_report();
  report.processes[0].leaks[0].stack[0].function = "bad\xffname";
  const std::string text = render_sarif_report(report);
  EXPECT_NE(text.find("bad\xEF\xBF\xBDname"), std::string::npos);
  EXPECT_EQ(json::parse(text)["version"], "2.1.0");
}

}  // namespace
}  // namespace nantrack
