#include "report/html_data.h"

#include <gtest/gtest.h>

#include "tests/report/sample_report.h"

namespace nantrack {
namespace {

using nlohmann::json;
using testing::sample_report;

const json& frame_of(const json& data, const json& stack, size_t position) {
  return data["frames"].at(stack.at(position).get<size_t>());
}

TEST(HtmlDataTest, InternsFramesAndModules) {
  const json data = report_to_html_data(sample_report());
  // main and __libc_start_call_main end every stack but are stored once.
  size_t mains = 0;
  for (const json& frame : data["frames"]) mains += frame.value("fn", "") == "main";
  EXPECT_EQ(mains, 1u);
  EXPECT_EQ(data["modules"], json::array({testing::kSampleExe, testing::kLibc}));
}

TEST(HtmlDataTest, FramesCarryWhatThePageShows) {
  const json data = report_to_html_data(sample_report());
  const json& stack = data["processes"][0]["leaks"][0]["stack"];
  ASSERT_EQ(stack.size(), 4u);
  const json& innermost = frame_of(data, stack, 0);
  EXPECT_EQ(innermost["fn"], "make_buffer(unsigned long)");
  EXPECT_EQ(innermost["file"], "/home/dev/app/src/buf.cpp");
  EXPECT_EQ(innermost["line"], 12);
  EXPECT_EQ(innermost["off"], "0xc0");
  EXPECT_EQ(innermost["addr"], "0x555500c0");
  EXPECT_EQ(data["modules"][innermost["mod"].get<size_t>()], testing::kSampleExe);
  EXPECT_FALSE(innermost.contains("inl"));
  EXPECT_FALSE(innermost.contains("sys"));
  EXPECT_EQ(frame_of(data, stack, 1)["inl"], true);
  const json& libc = frame_of(data, stack, 3);
  EXPECT_EQ(libc["sys"], true);
  EXPECT_FALSE(libc.contains("file"));
  EXPECT_FALSE(libc.contains("line"));
}

TEST(HtmlDataTest, ProcessesCarryTheirFacts) {
  const json data = report_to_html_data(sample_report());
  ASSERT_EQ(data["processes"].size(), 3u);
  const json& main_process = data["processes"][0];
  EXPECT_EQ(main_process["pid"], 4242);
  EXPECT_EQ(main_process["argv"], json::array({"./app", "--input", "data file.txt"}));
  EXPECT_EQ(main_process["exit_status"], 0);
  EXPECT_DOUBLE_EQ(main_process["duration_ms"].get<double>(), 250.0);
  EXPECT_EQ(main_process["summary"]["leaked_bytes"], 3072 + 1000 + 24);
  EXPECT_EQ(main_process["summary"]["errors"]["double_free"], 1);
  EXPECT_EQ(main_process["summary"]["errors"]["write_after_free"], 0);
  EXPECT_EQ(main_process["leaks"][1]["alloc"], json::array({"operator new", "operator new[]"}));
  EXPECT_EQ(main_process["leaks"][1]["kind"], "possible");
  EXPECT_EQ(main_process["leaks"][0]["top"], 0);
  EXPECT_EQ(main_process["leaks"][1]["top"], 1);  // Cache::put, under the inlined std::vector code
  EXPECT_EQ(main_process["notes"].size(), 1u);
  EXPECT_EQ(main_process["flame"]["bytes"], 3072 + 1000 + 24);
  const json& child = data["processes"][1];
  EXPECT_EQ(child["exit_status"], nullptr);
  EXPECT_EQ(child["signal"], 11);
  EXPECT_EQ(child["crashed"], true);
  EXPECT_FALSE(child.contains("duration_ms"));
  EXPECT_EQ(data["suppressions"][0]["name"], "leak:libfoo.so");
  EXPECT_EQ(data["suppressions"][0]["bytes"], 4096);
}

TEST(HtmlDataTest, SnapshotsSayWhichAndWhetherTheyGate) {
  Report report = sample_report();
  report.processes[1].process.snapshot = SnapshotInfo{.sequence = 2, .trigger = SnapshotTrigger::Signal};
  report.processes[1].leaks_gate = false;
  const json data = report_to_html_data(report);
  EXPECT_EQ(data["processes"][0]["snapshot"], nullptr);
  EXPECT_EQ(data["processes"][0]["leaks_gate"], true);
  EXPECT_EQ(data["processes"][1]["snapshot"], json({{"sequence", 2}, {"trigger", "signal"}}));
  EXPECT_EQ(data["processes"][1]["leaks_gate"], false);
}

TEST(HtmlDataTest, ErrorsListTheirStacksInReadingOrder) {
  const json data = report_to_html_data(sample_report());
  const json& double_free = data["processes"][0]["errors"][0];
  EXPECT_EQ(double_free["kind"], "double_free");
  EXPECT_EQ(double_free["message"], "double free of 0x5581a2c0 (24 bytes) in thread 1");
  ASSERT_EQ(double_free["stacks"].size(), 3u);
  EXPECT_EQ(double_free["stacks"][0]["caption"], "double free here");
  EXPECT_EQ(frame_of(data, double_free["stacks"][0]["stack"], 0)["fn"], "Cache::drop()");
  EXPECT_EQ(double_free["stacks"][1]["caption"], "first freed here");
  EXPECT_EQ(frame_of(data, double_free["stacks"][1]["stack"], 0)["fn"], "Cache::evict()");
  EXPECT_EQ(double_free["stacks"][2]["caption"], "allocated here");
  // Without a free stack, the mismatched free shows two.
  const json& mismatched = data["processes"][0]["errors"][1];
  ASSERT_EQ(mismatched["stacks"].size(), 2u);
  EXPECT_EQ(mismatched["stacks"][1]["caption"], "allocated here");
}

}  // namespace
}  // namespace nantrack
