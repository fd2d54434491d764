#include "report/format_json.h"

#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/aggregate.h"
#include "report/trace_reader.h"
#include "tests/report/trace_builder.h"
#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

std::set<std::string> keys_of(const json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

// The sample trace of trace_builder.h, written as a file's bytes and read
// back, through build_report and the JSON writer, parsed again.
json sample_json(Trace trace = testing::sample_trace(), const ReportOptions& options = {}) {
  testing::TraceBuilder builder;
  builder.snapshot(trace);
  const Report report = build_report({parse_trace(builder.bytes(), "nantrack.4242.trace")}, Suppressions(), options);
  std::ostringstream out;
  write_json_report(report, out);
  return json::parse(out.str());
}

json frame(const std::string& address, const std::string& module) {
  return {{"address", address}, {"function", ""}, {"file", ""}, {"line", 0}, {"module", module}, {"inlined", false}};
}

TEST(FormatJsonTest, TopLevel) {
  const json report = sample_json();
  EXPECT_EQ(keys_of(report), (std::set<std::string>{"tool", "version", "format_version", "processes"}));
  EXPECT_EQ(report["tool"], "nantrack");
  EXPECT_EQ(report["version"], kVersion);
  EXPECT_EQ(report["format_version"], 1);
  ASSERT_EQ(report["processes"].size(), 1u);
}

TEST(FormatJsonTest, ProcessFields) {
  const json process = sample_json()["processes"][0];
  EXPECT_EQ(keys_of(process),
            (std::set<std::string>{"pid", "ppid", "argv", "exit_status", "signal", "snapshot", "leaks_gate", "summary",
                                   "leaks", "errors"}));
  EXPECT_EQ(process["pid"], 4242);
  EXPECT_TRUE(process["snapshot"].is_null());
  EXPECT_EQ(process["leaks_gate"], false) << "the sample process crashed (signal 6): its leaks do not gate";
  EXPECT_EQ(process["ppid"], 17);
  EXPECT_EQ(process["argv"], json({"./app", "--name", "two words", ""}));
  EXPECT_EQ(process["exit_status"], 3);
  EXPECT_EQ(process["signal"], 6);
}

// Additive fields: a snapshot names itself, and only the leak check made by
// __lsan_do_leak_check gates.
TEST(FormatJsonTest, SnapshotsSayWhichTheyAreAndWhetherTheyGate) {
  Trace trace = testing::sample_trace();
  trace.process.crashed = false;  // a snapshot is taken while the process runs
  trace.process.signal = 0;
  trace.process.snapshot = SnapshotInfo{.sequence = 2, .trigger = SnapshotTrigger::Signal};
  json process = sample_json(trace)["processes"][0];
  EXPECT_EQ(process["snapshot"], json({{"sequence", 2}, {"trigger", "signal"}}));
  EXPECT_EQ(process["leaks_gate"], false);
  trace.process.snapshot->trigger = SnapshotTrigger::LeakCheck;
  EXPECT_EQ(sample_json(trace)["processes"][0]["leaks_gate"], true);
  trace.process.snapshot.reset();
  EXPECT_EQ(sample_json(trace)["processes"][0]["leaks_gate"], true) << "a process that ended normally";
  trace.process.leak_check_done = true;
  EXPECT_EQ(sample_json(trace)["processes"][0]["leaks_gate"], false);
}

TEST(FormatJsonTest, UnknownExitStatusAndNoSignalAreNull) {
  Trace trace = testing::sample_trace();
  trace.process.exit_status.reset();
  trace.process.signal = 0;
  trace.process.crashed = false;
  const json process = sample_json(trace)["processes"][0];
  EXPECT_TRUE(process["exit_status"].is_null());
  EXPECT_TRUE(process["signal"].is_null());
}

TEST(FormatJsonTest, SummaryHasEveryFieldAndEveryErrorKind) {
  const json summary = sample_json()["processes"][0]["summary"];
  EXPECT_EQ(keys_of(summary),
            (std::set<std::string>{"leaked_bytes", "leaked_blocks", "definite_bytes", "indirect_bytes",
                                   "possible_bytes", "reachable_bytes", "suppressed_bytes", "errors",
                                   "total_allocations", "total_frees", "total_bytes", "peak_bytes"}));
  EXPECT_EQ(summary["leaked_bytes"], 607);
  EXPECT_EQ(summary["leaked_blocks"], 4);
  EXPECT_EQ(summary["definite_bytes"], 607);
  EXPECT_EQ(summary["indirect_bytes"], 0);
  EXPECT_EQ(summary["possible_bytes"], 0);
  EXPECT_EQ(summary["reachable_bytes"], 0);
  EXPECT_EQ(summary["suppressed_bytes"], 0);
  EXPECT_EQ(summary["errors"], json({{"double_free", 1},
                                     {"invalid_free", 1},
                                     {"mismatched_free", 0},
                                     {"heap_overflow", 0},
                                     {"write_after_free", 0}}));
  EXPECT_EQ(summary["total_allocations"], 10);
  EXPECT_EQ(summary["total_frees"], 6);
  EXPECT_EQ(summary["total_bytes"], 2000);
  EXPECT_EQ(summary["peak_bytes"], 900);
}

// The leak scan's verdicts: leaked_bytes/leaked_blocks count every
// unsuppressed block live at exit, reachable ones included (DESIGN.md), and
// the four *_bytes split them by kind. Reachable blocks are listed among the
// leaks only on request.
Trace trace_with_every_leak_kind() {
  Trace trace = testing::sample_trace();
  trace.live_blocks[0].leak_kind = 1;  // 100 bytes, definite
  trace.live_blocks[1].leak_kind = 2;  // 200 bytes, indirect
  trace.live_blocks[2].leak_kind = 3;  // 300 bytes, possible
  trace.live_blocks[3].leak_kind = 4;  // 7 bytes, reachable
  return trace;
}

TEST(FormatJsonTest, SummarySplitsByLeakKindAndLeakedCountsEveryUnsuppressedBlock) {
  const json process = sample_json(trace_with_every_leak_kind())["processes"][0];
  const json& summary = process["summary"];
  EXPECT_EQ(summary["leaked_bytes"], 607);
  EXPECT_EQ(summary["leaked_blocks"], 4);
  EXPECT_EQ(summary["definite_bytes"], 100);
  EXPECT_EQ(summary["indirect_bytes"], 200);
  EXPECT_EQ(summary["possible_bytes"], 300);
  EXPECT_EQ(summary["reachable_bytes"], 7);
  std::set<std::string> kinds;
  for (const json& leak : process["leaks"]) kinds.insert(leak["kind"]);
  EXPECT_EQ(kinds, (std::set<std::string>{"definite", "indirect", "possible"}));
}

TEST(FormatJsonTest, ReachableLeaksAreListedWhenAskedFor) {
  const json process = sample_json(trace_with_every_leak_kind(), {.show_reachable = true})["processes"][0];
  EXPECT_EQ(process["summary"]["leaked_bytes"], 607);  // the same with or without the listing
  std::set<std::string> kinds;
  for (const json& leak : process["leaks"]) kinds.insert(leak["kind"]);
  EXPECT_EQ(kinds, (std::set<std::string>{"definite", "indirect", "possible", "reachable"}));
}

TEST(FormatJsonTest, ErrorKindsAreAllPresentWhenThereAreNone) {
  Trace trace = testing::sample_trace();
  trace.errors.clear();
  const json errors = sample_json(trace)["processes"][0]["summary"]["errors"];
  EXPECT_EQ(keys_of(errors), (std::set<std::string>{"double_free", "invalid_free", "mismatched_free", "heap_overflow",
                                                    "write_after_free"}));
  for (const auto& [kind, count] : errors.items()) EXPECT_EQ(count, 0) << kind;
}

TEST(FormatJsonTest, LeaksBiggestFirstWithTheirStacks) {
  const json leaks = sample_json()["processes"][0]["leaks"];
  ASSERT_EQ(leaks.size(), 3u);
  for (const json& leak : leaks) EXPECT_EQ(keys_of(leak), (std::set<std::string>{"kind", "bytes", "blocks", "stack"}));
  EXPECT_EQ(leaks[0]["kind"], "definite");
  EXPECT_EQ(leaks[0]["bytes"], 400);
  EXPECT_EQ(leaks[0]["blocks"], 2);
  // The sample's modules are not on this machine: module and address only.
  EXPECT_EQ(leaks[0]["stack"],
            json({frame("0x555555555a10", "/usr/bin/app"), frame("0x555555555b20", "/usr/bin/app")}));
  EXPECT_EQ(leaks[1]["bytes"], 200);
  EXPECT_EQ(leaks[1]["stack"], json({frame("0x7f0000001234", "/usr/lib/libplugin.so")}));
  EXPECT_EQ(leaks[2]["bytes"], 7);
  EXPECT_EQ(leaks[2]["stack"], json::array()) << "a block without a stack";
}

TEST(FormatJsonTest, ErrorsWithTheirThreeStacks) {
  const json errors = sample_json()["processes"][0]["errors"];
  ASSERT_EQ(errors.size(), 2u);
  for (const json& error : errors) {
    EXPECT_EQ(keys_of(error),
              (std::set<std::string>{"kind", "address", "size", "count", "stack", "alloc_stack", "free_stack",
                                     "message"}));
    EXPECT_EQ(error["count"], 1);
  }
  EXPECT_EQ(errors[0]["kind"], "double_free");
  EXPECT_EQ(errors[0]["address"], "0x50000");
  EXPECT_EQ(errors[0]["size"], 24);
  EXPECT_EQ(errors[0]["stack"],
            json({frame("0x555555555c30", "/usr/bin/app"), frame("0x7f0000001300", "/usr/lib/libplugin.so"),
                  frame("0x555555555d40", "/usr/bin/app")}));
  EXPECT_EQ(errors[0]["alloc_stack"],
            json({frame("0x555555555a10", "/usr/bin/app"), frame("0x555555555b20", "/usr/bin/app")}));
  EXPECT_EQ(errors[0]["free_stack"], json({frame("0x7f0000001234", "/usr/lib/libplugin.so")}));
  EXPECT_EQ(errors[1]["kind"], "invalid_free");
  EXPECT_EQ(errors[1]["address"], "0x20010");
  EXPECT_EQ(errors[1]["size"], 200);
  EXPECT_EQ(errors[1]["stack"], json({frame("0x1234", "")})) << "a pc outside every module";
  EXPECT_EQ(errors[1]["alloc_stack"], json::array());
  EXPECT_EQ(errors[1]["free_stack"], json::array());
  EXPECT_EQ(errors[0]["message"], "double free of 0x50000 (24 bytes) in thread 1");
}

// An error that came again and again is one entry with its count, and the
// summary counts every time.
TEST(FormatJsonTest, ARepeatedErrorIsOneEntryWithItsCount) {
  Trace trace = testing::sample_trace();
  trace.errors[0].occurrences = 70'000;
  const json process = sample_json(trace)["processes"][0];
  ASSERT_EQ(process["errors"].size(), 2u);
  EXPECT_EQ(process["errors"][0]["count"], 70000);
  EXPECT_EQ(process["errors"][1]["count"], 1);
  EXPECT_EQ(process["summary"]["errors"]["double_free"], 70000);
  EXPECT_EQ(process["summary"]["errors"]["invalid_free"], 1);
}

// Guard-byte and free-fill damage: which side, how many bytes, where.
TEST(FormatJsonTest, HeapOverflowAndWriteAfterFreeSayWhatChanged) {
  Trace trace = testing::sample_trace();
  trace.errors = {{.kind = ErrorKind::HeapOverflow,
                   .dealloc_kind = DeallocKind::Free,
                   .address = 0x60000,
                   .block_address = 0x60000,
                   .block_size = 24,
                   .overflow_side = OverflowSide::Before,
                   .bytes_changed = 2,
                   .first_changed_offset = 1},
                  {.kind = ErrorKind::HeapOverflow,
                   .address = 0x61000,
                   .block_address = 0x61000,
                   .block_size = 8,
                   .overflow_side = OverflowSide::After,
                   .bytes_changed = 1,
                   .first_changed_offset = 8},
                  {.kind = ErrorKind::WriteAfterFree,
                   .address = 0x62000,
                   .block_address = 0x62000,
                   .block_size = 32,
                   .bytes_changed = 8,
                   .first_changed_offset = 16}};
  const json errors = sample_json(trace)["processes"][0]["errors"];
  ASSERT_EQ(errors.size(), 3u);
  std::map<std::string, json> by_address;
  for (const json& error : errors) by_address[error["address"]] = error;
  const json& before = by_address["0x60000"];
  EXPECT_EQ(before["kind"], "heap_overflow");
  EXPECT_EQ(before["side"], "before");
  EXPECT_EQ(before["bytes_changed"], 2);
  EXPECT_EQ(before["first_changed_offset"], 1);
  EXPECT_EQ(before["message"],
            "heap overflow: 2 bytes before the 24-byte block at 0x60000 were changed (nearest the block: 1 before its "
            "start) in thread 0");
  const json& after = by_address["0x61000"];
  EXPECT_EQ(after["side"], "after");
  EXPECT_EQ(after["bytes_changed"], 1);
  EXPECT_EQ(after["first_changed_offset"], 8);
  const json& freed = by_address["0x62000"];
  EXPECT_EQ(freed["kind"], "write_after_free");
  EXPECT_FALSE(freed.contains("side"));
  EXPECT_EQ(freed["bytes_changed"], 8);
  EXPECT_EQ(freed["first_changed_offset"], 16);
}

TEST(FormatJsonTest, SymbolizedFramesKeepEveryField) {
  ProcessReport process{.process = {.pid = 1}};
  process.leaks.push_back({.bytes = 1,
                           .blocks = 1,
                           .stack = {{.address = 0x401a11,
                                      .function = "load",
                                      .file = "src/load.cpp",
                                      .line = 7,
                                      .module = "/app",
                                      .module_offset = 0x1a11,
                                      .inlined = true}}});
  const json leak = report_to_json({.processes = {process}})["processes"][0]["leaks"][0];
  EXPECT_EQ(leak["stack"][0], json({{"address", "0x401a11"},
                                    {"function", "load"},
                                    {"file", "src/load.cpp"},
                                    {"line", 7},
                                    {"module", "/app"},
                                    {"inlined", true}}));
}

TEST(FormatJsonTest, AnyBytesInNamesStayValidJson) {
  ProcessReport process{.process = {.pid = 1, .argv = {"quote\"back\\slash", "new\nline", "bad\xff utf8"}}};
  process.leaks.push_back({.bytes = 1, .blocks = 1, .stack = {{.function = "operator\x01<\"x\">"}}});
  const json parsed = report_to_json({.processes = {process}});
  EXPECT_EQ(parsed["processes"][0]["argv"], json({"quote\"back\\slash", "new\nline", "bad\xef\xbf\xbd utf8"}));
  EXPECT_EQ(parsed["processes"][0]["leaks"][0]["stack"][0]["function"], "operator\x01<\"x\">");
}

TEST(FormatJsonTest, NoProcesses) {
  std::ostringstream out;
  write_json_report({}, out);
  EXPECT_EQ(out.str(), "{\n  \"tool\": \"nantrack\",\n  \"version\": \"" + std::string(kVersion) +
                           "\",\n  \"format_version\": 1,\n  \"processes\": []\n}\n");
}

}  // namespace
}  // namespace nantrack
