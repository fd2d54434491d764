#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/suppressions.h"

namespace nantrack {
namespace {

constexpr const char* kApp = "/home/dev/app/build/app";

SourceFrame frame(std::string function, std::string file, int line, std::string module = kApp) {
  return {.address = 0x55550000u + static_cast<uint64_t>(line),
          .function = std::move(function),
          .file = std::move(file),
          .line = line,
          .module = std::move(module)};
}

SourceFrame system_frame(std::string function, std::string module) {
  return {.address = 0x7f0000001000, .function = std::move(function), .module = std::move(module)};
}

// One process: a leak from make_buffer() through a system frame, a leak with
// no names at all, a double free, and a leak without a stack.
Report sample_report() {
  ProcessReport process{.process = {.pid = 4242, .argv = {"./app"}}};
  process.leaks.push_back({.kind = LeakKind::Definite,
                           .bytes = 3072,
                           .blocks = 3,
                           .stack = {system_frame("__strdup", "/lib/x86_64-linux-gnu/libc.so.6"),
                                     frame("make_buffer(unsigned long)", "/home/dev/app/src/buf.cpp", 12),
                                     frame("main", "/home/dev/app/src/main.cpp", 20)}});
  process.leaks.push_back({.kind = LeakKind::Definite,
                           .bytes = 10,
                           .blocks = 1,
                           .stack = {system_frame("", "/opt/lib/libblob.so"),
                                     {.address = 0x1234},
                                     {.address = 0x1235},
                                     system_frame("", "/opt/lib/libblob.so")}});
  process.leaks.push_back({.kind = LeakKind::Definite, .bytes = 7, .blocks = 1});
  process.errors.push_back({.event = {.kind = ErrorKind::DoubleFree,
                                      .dealloc_kind = DeallocKind::Free,
                                      .thread = 1,
                                      .address = 0x5000,
                                      .block_address = 0x5000,
                                      .block_size = 24},
                            .stack = {frame("Cache::drop()", "/home/dev/app/src/cache.cpp", 88),
                                      frame("main", "/home/dev/app/src/main.cpp", 31)}});
  return {.processes = {process}};
}

std::string generated(const Report& report) {
  std::ostringstream out;
  write_generated_suppressions(report, out);
  return out.str();
}

TEST(GenSuppressionsTest, OneBlockPerFindingUpToTheProjectFrame) {
  EXPECT_EQ(generated(sample_report()),
            "# pid 4242: double free of 0x5000 (24 bytes) in thread 1\n"
            "{\n"
            "   double_free in Cache::drop()\n"
            "   nantrack:double_free\n"
            "   fun:Cache::drop()\n"
            "}\n"
            "# pid 4242: 3,072 bytes in 3 blocks leaked (definite)\n"
            "{\n"
            "   leak from make_buffer(unsigned long)\n"
            "   nantrack:leak\n"
            "   match-leak-kinds: definite\n"
            "   fun:__strdup\n"
            "   fun:make_buffer(unsigned long)\n"
            "}\n"
            "# pid 4242: 10 bytes in 1 block leaked (definite)\n"
            "{\n"
            "   leak from /opt/lib/libblob.so\n"
            "   nantrack:leak\n"
            "   match-leak-kinds: definite\n"
            "   obj:/opt/lib/libblob.so\n"
            "   ...\n"
            "   obj:/opt/lib/libblob.so\n"
            "}\n"
            "# pid 4242: 7 bytes in 1 block leaked (definite): no stack was recorded, so no suppression can "
            "single it out\n");
}

TEST(GenSuppressionsTest, GeneratedSuppressionsHideExactlyTheirFindings) {
  const Report report = sample_report();
  Suppressions suppressions;
  suppressions.add_text(generated(report), "generated.supp");
  ASSERT_EQ(suppressions.rules().size(), 3u);
  const ProcessReport& process = report.processes[0];
  EXPECT_EQ(suppressions.match_error(process.errors[0]), &suppressions.rules()[0]);
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, process.leaks[0].stack), &suppressions.rules()[1]);
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, process.leaks[1].stack), &suppressions.rules()[2]);
  EXPECT_EQ(suppressions.match_leak(LeakKind::Reachable, process.leaks[0].stack), nullptr);

  ErrorFinding other_kind = process.errors[0];
  other_kind.event.kind = ErrorKind::InvalidFree;
  EXPECT_EQ(suppressions.match_error(other_kind), nullptr);
  const SourceStack elsewhere = {frame("make_name()", "/home/dev/app/src/name.cpp", 3)};
  EXPECT_EQ(suppressions.match_leak(LeakKind::Definite, elsewhere), nullptr);
}

TEST(GenSuppressionsTest, RepeatedBlocksAreWrittenOnce) {
  Report report = sample_report();
  ProcessReport& process = report.processes[0];
  process.errors.clear();
  process.leaks.resize(1);
  process.leaks.push_back(process.leaks[0]);
  process.leaks[1].stack[1].address += 8;  // the same site, reached from an unrolled loop
  process.leaks[1].bytes = 1;
  const std::string text = generated(report);
  EXPECT_EQ(text.find("{", text.find("{") + 1), std::string::npos) << text;
}

TEST(GenSuppressionsTest, NoFindingsNoOutput) {
  EXPECT_EQ(generated({.processes = {ProcessReport{}}}), "");
  EXPECT_EQ(generated({}), "");
}

}  // namespace
}  // namespace nantrack
