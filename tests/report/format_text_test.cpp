#include "report/format_text.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/suppressions.h"

namespace nantrack {
namespace {

constexpr const char* kApp = "/home/dev/app/build/app";
constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";

SourceFrame app_frame(uint64_t offset, std::string function, std::string file, int line, bool inlined = false) {
  return {.address = 0x55810000 + offset,
          .function = std::move(function),
          .file = std::move(file),
          .line = line,
          .module = kApp,
          .module_offset = offset,
          .inlined = inlined};
}

SourceFrame libc_frame(uint64_t offset, std::string function = {}) {
  return {
      .address = 0x7f0c2a600000 + offset, .function = std::move(function), .module = kLibc, .module_offset = offset};
}

ProcessReport process(uint32_t pid, std::vector<std::string> argv = {"./app"}) {
  return {.process = {.pid = pid, .ppid = 1, .exit_status = 0, .exe = kApp, .argv = std::move(argv)}};
}

// Adds a leak and counts it in the summary, as build_report would.
void add_leak(ProcessReport& report, uint64_t bytes, uint64_t blocks, SourceStack stack) {
  report.leaks.push_back({.kind = LeakKind::Definite, .bytes = bytes, .blocks = blocks, .stack = std::move(stack)});
  report.summary.leaked_bytes += bytes;
  report.summary.leaked_blocks += blocks;
  report.summary.definite_bytes += bytes;
}

void add_error(ProcessReport& report, ErrorFinding error) {
  ++count_of(report.summary.errors, error.event.kind);
  report.errors.push_back(std::move(error));
}

ErrorFinding double_free() {
  return {
      .event = {.kind = ErrorKind::DoubleFree,
                .alloc_kind = AllocKind::New,
                .dealloc_kind = DeallocKind::Delete,
                .thread = 1,
                .address = 0x5581a2c0,
                .block_address = 0x5581a2c0,
                .block_size = 24},
      .stack = {app_frame(0x1f10, "Cache::drop()", "src/cache.cpp", 88), app_frame(0x1e7c, "main", "src/main.cpp", 31)},
      .alloc_stack = {app_frame(0x1d30, "Cache::put(std::string const&)", "src/cache.cpp", 40)},
      .free_stack = {app_frame(0x1ef2, "Cache::evict()", "src/cache.cpp", 61)}};
}

SourceStack make_buffer_stack() {
  return {app_frame(0x1a11, "make_buffer(unsigned long)", "src/buf.cpp", 12),
          app_frame(0x1a11, "load", "src/load.cpp", 7, true), app_frame(0x1b02, "main", "src/main.cpp", 20),
          libc_frame(0x27249)};
}

std::string text_of(const Report& report, const TextOptions& options = {}) {
  std::ostringstream out;
  write_text_report(report, out, options);
  return out.str();
}

TEST(FormatTextTest, CleanProcessIsOneSummaryLine) {
  EXPECT_EQ(text_of({.processes = {process(4242)}}), "SUMMARY: nantrack: no leaks, no errors.\n");
}

TEST(FormatTextTest, NoProcess) { EXPECT_EQ(text_of({}), "SUMMARY: nantrack: no process was traced.\n"); }

TEST(FormatTextTest, ErrorsFirstThenLeaksThenSummaryAsInTheDesign) {
  ProcessReport report = process(4242);
  add_error(report, double_free());
  add_leak(report, 3072, 3, make_buffer_stack());
  EXPECT_EQ(text_of({.processes = {report}}),
            "==4242== nantrack: double free of 0x5581a2c0 (24 bytes) in thread 1\n"
            "    #0 0x55811f10 in Cache::drop() src/cache.cpp:88 (app+0x1f10)\n"
            "    #1 0x55811e7c in main src/main.cpp:31 (app+0x1e7c)\n"
            "  first freed here:\n"
            "    #0 0x55811ef2 in Cache::evict() src/cache.cpp:61 (app+0x1ef2)\n"
            "  allocated here:\n"
            "    #0 0x55811d30 in Cache::put(std::string const&) src/cache.cpp:40 (app+0x1d30)\n"
            "\n"
            "==4242== nantrack: 3,072 bytes in 3 blocks leaked (definite), allocated from:\n"
            "    #0 0x55811a11 in make_buffer(unsigned long) src/buf.cpp:12 (app+0x1a11)\n"
            "    #1 0x55811a11 in load src/load.cpp:7 (app+0x1a11) [inlined]\n"
            "    #2 0x55811b02 in main src/main.cpp:20 (app+0x1b02)\n"
            "    #3 0x7f0c2a627249 (libc.so.6+0x27249)\n"
            "\n"
            "LEAK SUMMARY:\n"
            "   definitely lost: 3,072 bytes\n"
            "   indirectly lost: 0 bytes\n"
            "     possibly lost: 0 bytes\n"
            "   still reachable: 0 bytes\n"
            "        suppressed: 0 bytes\n"
            "SUMMARY: nantrack: 3,072 bytes leaked in 3 blocks; 1 error (1 double free).\n");
}

TEST(FormatTextTest, FramesLeaveOutWhatIsUnknown) {
  ProcessReport report = process(7);
  add_leak(report, 1, 1,
           {libc_frame(0x9e9a9, "__strdup"),
            {.address = 0x55810100, .file = "src/x.c", .module = kApp, .module_offset = 0x100},
            {.address = 0x1234, .module_offset = 0x1234}});
  EXPECT_EQ(text_of({.processes = {report}}),
            "==7== nantrack: 1 byte in 1 block leaked (definite), allocated from:\n"
            "    #0 0x7f0c2a69e9a9 in __strdup (libc.so.6+0x9e9a9)\n"
            "    #1 0x55810100 src/x.c (app+0x100)\n"
            "    #2 0x1234\n"
            "\n"
            "LEAK SUMMARY:\n"
            "   definitely lost: 1 byte\n"
            "   indirectly lost: 0 bytes\n"
            "     possibly lost: 0 bytes\n"
            "   still reachable: 0 bytes\n"
            "        suppressed: 0 bytes\n"
            "SUMMARY: nantrack: 1 byte leaked in 1 block; no errors.\n");
}

TEST(FormatTextTest, EveryErrorKindAndItsStacks) {
  ProcessReport report = process(9);
  add_error(report, double_free());
  ErrorFinding mismatched = double_free();
  mismatched.event.kind = ErrorKind::MismatchedFree;
  mismatched.event.dealloc_kind = DeallocKind::Free;
  mismatched.free_stack.clear();
  add_error(report, mismatched);
  add_error(report, mismatched);
  add_error(report, {.event = {.kind = ErrorKind::InvalidFree, .address = 0x10}});
  ErrorFinding overflow{.event = {.kind = ErrorKind::HeapOverflow,
                                  .dealloc_kind = DeallocKind::None,
                                  .block_address = 0x40,
                                  .block_size = 8,
                                  .overflow_side = OverflowSide::After,
                                  .bytes_changed = 1,
                                  .first_changed_offset = 8},
                        .alloc_stack = make_buffer_stack()};
  add_error(report, overflow);
  overflow.event.kind = ErrorKind::WriteAfterFree;
  overflow.free_stack = {app_frame(0x1ef2, "Cache::evict()", "src/cache.cpp", 61)};
  add_error(report, overflow);

  const std::string text = text_of({.processes = {report}});
  EXPECT_NE(text.find("  first freed here:\n"), std::string::npos);
  EXPECT_NE(text.find("==9== nantrack: invalid free of 0x10 in thread 0\n    (no stack recorded)\n\n"),
            std::string::npos)
      << text;
  // Found at exit: no call went wrong, so there is no first stack to show.
  EXPECT_NE(text.find("heap overflow: 1 byte after the 8-byte block at 0x40 was changed (first at offset 8) in "
                      "thread 0\n"
                      "  allocated here:\n"
                      "    #0 0x55811a11 in make_buffer(unsigned long)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  freed here:\n    #0 0x55811ef2 in Cache::evict()"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with(
      "SUMMARY: nantrack: no leaks; 6 errors (1 double free, 1 invalid free, 2 mismatched frees, 1 heap overflow, "
      "1 write after free).\n"))
      << text;
}

TEST(FormatTextTest, LongStacksAreCut) {
  ProcessReport report = process(5);
  SourceStack deep;
  for (int i = 0; i < 25; ++i) deep.push_back(libc_frame(static_cast<uint64_t>(i), "f"));
  add_leak(report, 8, 1, deep);
  const std::string text = text_of({.processes = {report}}, {.max_frames = 3});
  EXPECT_NE(text.find("    #2 0x7f0c2a600002 in f (libc.so.6+0x2)\n    ... 22 more frames\n\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("#3 "), std::string::npos);
  EXPECT_NE(text_of({.processes = {report}}, {.max_frames = 0}).find("#24 "), std::string::npos);
}

TEST(FormatTextTest, LeakSitesBeyondTheLimitAreSummedUp) {
  ProcessReport report = process(5);
  for (uint64_t i = 0; i < 5; ++i) add_leak(report, 1000 - i, 2, {libc_frame(i, "f")});
  const std::string text = text_of({.processes = {report}}, {.max_leak_groups = 2});
  EXPECT_NE(text.find("1,000 bytes in 2 blocks"), std::string::npos);
  EXPECT_NE(text.find("999 bytes in 2 blocks"), std::string::npos);
  EXPECT_EQ(text.find("998 bytes"), std::string::npos);
  EXPECT_NE(text.find("==5== nantrack: 3 more leak sites not shown: 2,991 bytes in 6 blocks.\n\n"), std::string::npos)
      << text;
  EXPECT_TRUE(text.ends_with("SUMMARY: nantrack: 4,990 bytes leaked in 10 blocks; no errors.\n"));
  EXPECT_EQ(text_of({.processes = {report}}, {.max_leak_groups = 0}).find("not shown"), std::string::npos);
}

TEST(FormatTextTest, SeveralProcessesAreNamedAndCleanOnesGetOneLine) {
  ProcessReport parent = process(100, {"make", "check"});
  ProcessReport leaky = process(101, {"./test runner", "--name=it's", "", "two\nlines"});
  leaky.process.ppid = 100;
  add_leak(leaky, 16, 1, {libc_frame(0x10, "g")});
  // Clean, though it keeps stdout's buffer reachable, as nearly every
  // process does: one line too.
  ProcessReport clean = process(102, {"sort", "-n"});
  clean.summary.leaked_bytes = clean.summary.reachable_bytes = 4096;
  clean.summary.leaked_blocks = clean.summary.reachable_blocks = 1;
  EXPECT_EQ(
      text_of({.processes = {parent, leaky, clean}}),
      "==101== nantrack: process 101 (parent 100): './test runner' '--name=it'\\''s' '' 'two?lines'\n"
      "\n"
      "==101== nantrack: 16 bytes in 1 block leaked (definite), allocated from:\n"
      "    #0 0x7f0c2a600010 in g (libc.so.6+0x10)\n"
      "\n"
      "SUMMARY: nantrack: pid 100 (make check): no leaks, no errors.\n"
      "LEAK SUMMARY (pid 101):\n"
      "   definitely lost: 16 bytes\n"
      "   indirectly lost: 0 bytes\n"
      "     possibly lost: 0 bytes\n"
      "   still reachable: 0 bytes\n"
      "        suppressed: 0 bytes\n"
      "SUMMARY: nantrack: pid 101 ('./test runner' '--name=it'\\''s' '' 'two?lines'): 16 bytes leaked in 1 block; "
      "no errors.\n"
      "SUMMARY: nantrack: pid 102 (sort -n): no leaks, no errors.\n"
      "SUMMARY: nantrack: 3 processes in all: 16 bytes leaked in 1 block; no errors.\n");
}

TEST(FormatTextTest, SnapshotsAreNamedAfterTheirProcess) {
  ProcessReport at_exit = process(7, {"daemon"});
  ProcessReport snapshot = process(7, {"daemon"});
  snapshot.process.snapshot = SnapshotInfo{.sequence = 2, .trigger = SnapshotTrigger::Signal};
  add_leak(snapshot, 8, 1, {libc_frame(0x10, "g")});
  const std::string text = text_of({.processes = {snapshot, at_exit}});
  EXPECT_NE(text.find("==7== nantrack: process 7 (parent 1), snapshot 2 (signal): daemon\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("LEAK SUMMARY (pid 7), snapshot 2 (signal):\n"), std::string::npos) << text;
  EXPECT_NE(text.find("SUMMARY: nantrack: pid 7 (daemon), snapshot 2 (signal): 8 bytes leaked in 1 block; no errors.\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("SUMMARY: nantrack: pid 7 (daemon): no leaks, no errors.\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("SUMMARY: nantrack: 1 process in all: no leaks, no errors.\n"))
      << "a snapshot is not counted with its process" << text;
}

TEST(FormatTextTest, LongCommandLinesAreCut) {
  std::vector<std::string> argv = {"cc"};
  for (int i = 0; i < 100; ++i) argv.push_back("-Isome/include/dir");
  const std::string text = text_of({.processes = {process(1, argv), process(2)}});
  const std::string first_line = text.substr(0, text.find('\n'));
  EXPECT_TRUE(first_line.ends_with(" ...): no leaks, no errors.")) << first_line;
  EXPECT_LT(first_line.size(), 220u);
}

TEST(FormatTextTest, NotesComeBeforeTheFindings) {
  ProcessReport report = process(3);
  report.notes = {"build-id mismatch: /usr/lib/libx.so changed since the run"};
  add_leak(report, 4, 1, {libc_frame(1, "h")});
  EXPECT_TRUE(text_of({.processes = {report}})
                  .starts_with("==3== nantrack: note: build-id mismatch: /usr/lib/libx.so changed since the run\n"
                               "\n"
                               "==3== nantrack: 4 bytes in 1 block leaked (definite), allocated from:\n"));
  ProcessReport clean = process(3);
  clean.notes = report.notes;
  EXPECT_EQ(text_of({.processes = {clean}}), "SUMMARY: nantrack: no leaks, no errors.\n")
      << "notes are about stacks; a clean process shows none";
}

TEST(FormatTextTest, SuppressionsUsedListEachRuleWithWhatItHid) {
  Report report{.processes = {process(8)}};
  report.suppressions = {
      {.name = "leak:libfoo", .source = "ci.supp", .bytes = 72, .blocks = 2, .line = 3},
      {.name = "legacy frees", .source = "ci.supp", .bytes = 1, .blocks = 1, .errors = 2, .line = 5},
  };
  EXPECT_EQ(text_of(report),
            "nantrack: suppressions used:\n"
            "    72 bytes in 2 blocks: 'leak:libfoo' (ci.supp line 3)\n"
            "    1 byte in 1 block and 2 errors: 'legacy frees' (ci.supp line 5)\n"
            "\n"
            "SUMMARY: nantrack: no leaks, no errors.\n");
  report.suppressions.clear();
  EXPECT_EQ(text_of(report), "SUMMARY: nantrack: no leaks, no errors.\n");
}

}  // namespace
}  // namespace nantrack
