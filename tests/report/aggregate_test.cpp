#include "report/aggregate.h"

#include <elf.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "report/format_json.h"
#include "report/format_text.h"
#include "report/trace_reader.h"
#include "tests/report/fixtures/module_map.h"
#include "tests/report/trace_builder.h"

// Code whose pcs the traces below point at: external, so that DWARF names
// them in full, and with different bodies, so that no linker folds two of
// them into one.
namespace aggregate_probe {
[[gnu::noinline]] int leaky_site_a(int x) { return x * 3 + 1; }
[[gnu::noinline]] int leaky_site_b(int x) { return x * 5 - 2; }
[[gnu::noinline]] int bad_free_site(int x) { return x ^ 0x55; }
[[gnu::noinline]] int first_free_site(int x) { return x + 77; }
}  // namespace aggregate_probe

namespace nantrack {
namespace {

using aggregate_probe::bad_free_site;
using aggregate_probe::first_free_site;
using aggregate_probe::leaky_site_a;
using aggregate_probe::leaky_site_b;
constexpr std::string_view kSiteA = "aggregate_probe::leaky_site_a(int)";
constexpr std::string_view kSiteB = "aggregate_probe::leaky_site_b(int)";
constexpr std::string_view kBadFreeSite = "aggregate_probe::bad_free_site(int)";
constexpr std::string_view kFirstFreeSite = "aggregate_probe::first_free_site(int)";

// A pc inside a function, as a trace records it.
uint64_t pc_in(int (*function)(int)) { return reinterpret_cast<uint64_t>(function) + 1; }

constexpr StackId kStackA = 1, kStackB = 2, kBadFreeStack = 3, kFirstFreeStack = 4;

// A trace of this very process: its module map, stacks into the functions
// above, and no blocks yet.
Trace self_trace(uint32_t pid = 4242) {
  Trace trace;
  trace.path = fmt::format("nantrack.{}.trace", pid);
  trace.process = {.pid = pid, .ppid = 1, .exit_status = 0, .exe = "/app", .argv = {"./app"}};
  trace.modules = fixture::current_module_map();
  trace.stacks = {{kStackA, {pc_in(leaky_site_a), pc_in(leaky_site_b)}},
                  {kStackB, {pc_in(leaky_site_b)}},
                  {kBadFreeStack, {pc_in(bad_free_site)}},
                  {kFirstFreeStack, {pc_in(first_free_site)}}};
  trace.counters = {.allocations = 100, .frees = 90, .bytes_allocated = 123456, .peak_live_bytes = 65536};
  return trace;
}

ErrorEvent double_free_event() {
  return {.kind = ErrorKind::DoubleFree,
          .alloc_kind = AllocKind::Malloc,
          .dealloc_kind = DeallocKind::Free,
          .thread = 1,
          .address = 0x9000,
          .block_address = 0x9000,
          .block_size = 24,
          .stack = kBadFreeStack,
          .alloc_stack = kStackB,
          .free_stack = kFirstFreeStack};
}

Suppressions suppressions_of(std::string_view text) {
  Suppressions suppressions;
  suppressions.add_text(text, "test.supp");
  return suppressions;
}

std::vector<std::string> functions_of(const SourceStack& stack) {
  std::vector<std::string> functions;
  for (const SourceFrame& frame : stack) functions.push_back(frame.function);
  return functions;
}

TEST(AggregateTest, GroupsLiveBlocksByStackBiggestFirst) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc},
                       {0x2000, 5000, kStackB, 1, AllocKind::New},
                       {0x3000, 200, kStackA, 2, AllocKind::NewArray},
                       {0x4000, 300, kStackA, 1, AllocKind::Malloc},
                       {0x5000, 7, trace_format::kNoStack, 1, AllocKind::Calloc}};
  const Report report = build_report({trace}, Suppressions());
  ASSERT_EQ(report.processes.size(), 1u);
  const std::vector<LeakGroup>& leaks = report.processes[0].leaks;
  ASSERT_EQ(leaks.size(), 3u);

  EXPECT_EQ(leaks[0].bytes, 5000u);
  EXPECT_EQ(leaks[0].blocks, 1u);
  EXPECT_EQ(leaks[0].stack_id, kStackB);
  EXPECT_EQ(leaks[0].kind, LeakKind::Definite);
  EXPECT_EQ(leaks[0].alloc_kinds, std::vector<AllocKind>{AllocKind::New});

  EXPECT_EQ(leaks[1].bytes, 600u);
  EXPECT_EQ(leaks[1].blocks, 3u);
  EXPECT_EQ(leaks[1].stack_id, kStackA);
  EXPECT_EQ(leaks[1].alloc_kinds, (std::vector<AllocKind>{AllocKind::Malloc, AllocKind::NewArray}));
  EXPECT_EQ(functions_of(leaks[1].stack), (std::vector<std::string>{std::string(kSiteA), std::string(kSiteB)}));

  EXPECT_EQ(leaks[2].bytes, 7u);
  EXPECT_EQ(leaks[2].stack_id, trace_format::kNoStack);
  EXPECT_TRUE(leaks[2].stack.empty()) << "a block recorded without a stack is still a leak";
}

// Several processes' summaries add up (the text report's last line):
// counts summed, the peak the larger one.
TEST(AggregateTest, SummariesAddUp) {
  Summary total{.leaked_bytes = 10, .leaked_blocks = 2, .definite_bytes = 4, .reachable_bytes = 6,
                .reachable_blocks = 1, .total_allocations = 5, .peak_bytes = 300};
  count_of(total.errors, ErrorKind::DoubleFree) = 1;
  Summary other{.leaked_bytes = 7, .leaked_blocks = 1, .possible_bytes = 7, .suppressed_bytes = 3,
                .total_allocations = 2, .total_frees = 2, .total_bytes = 64, .peak_bytes = 200};
  count_of(other.errors, ErrorKind::DoubleFree) = 2;
  count_of(other.errors, ErrorKind::HeapOverflow) = 1;
  total += other;
  EXPECT_EQ(total.leaked_bytes, 17u);
  EXPECT_EQ(total.lost_bytes(), 11u);
  EXPECT_EQ(total.lost_blocks(), 2u);
  EXPECT_EQ(total.definite_bytes, 4u);
  EXPECT_EQ(total.possible_bytes, 7u);
  EXPECT_EQ(total.suppressed_bytes, 3u);
  EXPECT_EQ(count_of(total.errors, ErrorKind::DoubleFree), 3u);
  EXPECT_EQ(count_of(total.errors, ErrorKind::HeapOverflow), 1u);
  EXPECT_EQ(total.total_allocations, 7u);
  EXPECT_EQ(total.total_frees, 2u);
  EXPECT_EQ(total.total_bytes, 64u);
  EXPECT_EQ(total.peak_bytes, 300u);
}

TEST(AggregateTest, EqualSizesAreOrderedByBlocksThenStack) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 100, kStackB, 1, AllocKind::Malloc},
                       {0x2000, 100, kStackA, 1, AllocKind::Malloc},
                       {0x3000, 50, kBadFreeStack, 1, AllocKind::Malloc},
                       {0x4000, 50, kBadFreeStack, 1, AllocKind::Malloc}};
  const std::vector<LeakGroup> leaks = build_report({trace}, Suppressions()).processes[0].leaks;
  ASSERT_EQ(leaks.size(), 3u);
  EXPECT_EQ(leaks[0].stack_id, kBadFreeStack);
  EXPECT_EQ(leaks[1].stack_id, kStackA);
  EXPECT_EQ(leaks[2].stack_id, kStackB);
}

TEST(AggregateTest, SummaryFollowsTheJsonContract) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc}, {0x2000, 5000, kStackB, 1, AllocKind::New}};
  trace.errors = {
      double_free_event(), double_free_event(), {.kind = ErrorKind::MismatchedFree, .stack = kBadFreeStack}};
  const Summary summary = build_report({trace}, Suppressions()).processes[0].summary;
  EXPECT_EQ(summary.leaked_bytes, 5100u);
  EXPECT_EQ(summary.leaked_blocks, 2u);
  EXPECT_EQ(summary.definite_bytes, 5100u) << "every leak is definite until the reachability scan exists";
  EXPECT_EQ(summary.indirect_bytes, 0u);
  EXPECT_EQ(summary.possible_bytes, 0u);
  EXPECT_EQ(summary.reachable_bytes, 0u);
  EXPECT_EQ(summary.suppressed_bytes, 0u);
  EXPECT_EQ(count_of(summary.errors, ErrorKind::DoubleFree), 2u);
  EXPECT_EQ(count_of(summary.errors, ErrorKind::MismatchedFree), 1u);
  EXPECT_EQ(count_of(summary.errors, ErrorKind::InvalidFree), 0u);
  EXPECT_EQ(summary.total_allocations, 100u);
  EXPECT_EQ(summary.total_frees, 90u);
  EXPECT_EQ(summary.total_bytes, 123456u);
  EXPECT_EQ(summary.peak_bytes, 65536u);
}

TEST(AggregateTest, ErrorsKeepTheirOrderAndGetTheirThreeStacks) {
  Trace trace = self_trace();
  ErrorEvent invalid{.kind = ErrorKind::InvalidFree, .address = 0x77, .stack = kStackA};
  trace.errors = {double_free_event(), invalid};
  const std::vector<ErrorFinding> errors = build_report({trace}, Suppressions()).processes[0].errors;
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].event.kind, ErrorKind::DoubleFree);
  EXPECT_EQ(errors[0].event.block_size, 24u);
  EXPECT_EQ(functions_of(errors[0].stack), std::vector<std::string>{std::string(kBadFreeSite)});
  EXPECT_EQ(functions_of(errors[0].alloc_stack), std::vector<std::string>{std::string(kSiteB)});
  EXPECT_EQ(functions_of(errors[0].free_stack), std::vector<std::string>{std::string(kFirstFreeSite)});
  EXPECT_EQ(errors[1].event.address, 0x77u);
  EXPECT_TRUE(errors[1].alloc_stack.empty());
  EXPECT_TRUE(errors[1].free_stack.empty());
}

TEST(AggregateTest, FramesCarryFileLineAndModule) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 1, kStackB, 1, AllocKind::Malloc}};
  const Report report = build_report({trace}, Suppressions());
  const SourceFrame& frame = report.processes[0].leaks[0].stack.at(0);
  EXPECT_EQ(frame.address, pc_in(leaky_site_b));
  EXPECT_EQ(std::filesystem::path(frame.file).filename(), "aggregate_test.cpp");
  EXPECT_GT(frame.line, 0);
  EXPECT_EQ(frame.module, std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_FALSE(frame.inlined);
}

TEST(AggregateTest, SuppressedFindingsAreCountedNotListed) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc},
                       {0x2000, 5000, kStackB, 1, AllocKind::New},
                       {0x3000, 50, kStackB, 1, AllocKind::New}};
  trace.errors = {double_free_event(), {.kind = ErrorKind::InvalidFree, .stack = kStackA}};
  const Suppressions suppressions = suppressions_of(
      "leak:never_matches\n"
      "{\n   only site b\n   Memcheck:Leak\n   fun:*leaky_site_b*\n}\n"
      "double_free:bad_free_site\n");
  const Report report = build_report({trace}, suppressions);
  const ProcessReport& process = report.processes[0];

  ASSERT_EQ(process.leaks.size(), 1u);
  EXPECT_EQ(process.leaks[0].stack_id, kStackA) << "stack A has leaky_site_b too, but not innermost";
  EXPECT_EQ(process.summary.leaked_bytes, 100u);
  EXPECT_EQ(process.summary.leaked_blocks, 1u);
  EXPECT_EQ(process.summary.suppressed_bytes, 5050u);
  ASSERT_EQ(process.errors.size(), 1u);
  EXPECT_EQ(process.errors[0].event.kind, ErrorKind::InvalidFree);
  EXPECT_EQ(count_of(process.summary.errors, ErrorKind::DoubleFree), 0u);
  EXPECT_EQ(count_of(process.summary.errors, ErrorKind::InvalidFree), 1u);

  ASSERT_EQ(report.suppressions.size(), 2u) << "only the rules that matched";
  EXPECT_EQ(report.suppressions[0].name, "only site b");
  EXPECT_EQ(report.suppressions[0].source, "test.supp");
  EXPECT_EQ(report.suppressions[0].line, 2);
  EXPECT_EQ(report.suppressions[0].bytes, 5050u);
  EXPECT_EQ(report.suppressions[0].blocks, 2u);
  EXPECT_EQ(report.suppressions[0].errors, 0u);
  EXPECT_EQ(report.suppressions[1].name, "double_free:bad_free_site");
  EXPECT_EQ(report.suppressions[1].line, 7);
  EXPECT_EQ(report.suppressions[1].errors, 1u);
  EXPECT_EQ(report.suppressions[1].bytes, 0u);
}

TEST(AggregateTest, ProcessesByPidWithSuppressionUsesSummedOverThem) {
  Trace child = self_trace(300), parent = self_trace(200);
  child.live_blocks = {{0x1000, 10, kStackB, 1, AllocKind::Malloc}};
  parent.live_blocks = {{0x1000, 20, kStackB, 1, AllocKind::Malloc}, {0x2000, 1, kBadFreeStack, 1, AllocKind::Malloc}};
  const Report report = build_report({child, parent}, suppressions_of("leak:^aggregate_probe::leaky_site_b"));
  ASSERT_EQ(report.processes.size(), 2u);
  EXPECT_EQ(report.processes[0].process.pid, 200u);
  EXPECT_EQ(report.processes[0].trace_path, "nantrack.200.trace");
  EXPECT_EQ(report.processes[1].process.pid, 300u);
  EXPECT_EQ(report.processes[0].summary.suppressed_bytes, 20u);
  EXPECT_EQ(report.processes[1].summary.suppressed_bytes, 10u);
  EXPECT_FALSE(report.processes[1].has_findings());
  ASSERT_EQ(report.suppressions.size(), 1u);
  EXPECT_EQ(report.suppressions[0].bytes, 30u);
  EXPECT_EQ(report.suppressions[0].blocks, 2u);
}

// A stack (kGoneStack) into a module gone since the run: symbolizing it
// leaves a note that names libgone.so.
constexpr StackId kGoneStack = 9;
void add_gone_module_stack(Trace& trace) {
  trace.modules.push_back(
      {.path = "/nonexistent/libgone.so", .load_bias = 0x10000000, .segments = {{0x10000000, 0x1000, 0, PF_R | PF_X}}});
  trace.stacks[kGoneStack] = {0x10000010};
}

bool mentions_gone_module(const ProcessReport& process) {
  return std::ranges::any_of(process.notes, [](const std::string& note) { return note.find("libgone.so") != std::string::npos; });
}

TEST(AggregateTest, NotesSayWhatToKnowAboutTheProcess) {
  Trace trace = self_trace();
  trace.process.crashed = true;
  trace.process.signal = 11;
  trace.process.exited_via_underscore_exit = true;
  trace.process.unchecked_late_blocks = 3;
  trace.process.unchecked_late_bytes = 1200;
  add_gone_module_stack(trace);
  trace.live_blocks = {{0x1000, 1, kGoneStack, 1, AllocKind::Malloc}};
  const std::vector<std::string> notes = build_report({trace}, Suppressions()).processes[0].notes;
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(notes[0],
            "the process was killed by signal 11 (SIGSEGV): blocks live at that moment are listed as leaked, but do not "
            "count for the CI gate");
  EXPECT_EQ(notes[1],
            "1,200 bytes in 3 blocks allocated after the leak check, by threads still running as the process ended, "
            "were not checked: they count as still reachable");
  EXPECT_EQ(notes[2],
            "the process ended with _exit(): static destructors and atexit handlers did not run, so what they would "
            "have freed counts as leaked");
  EXPECT_NE(notes[3].find("/nonexistent/libgone.so"), std::string::npos) << notes[3];
}

// A module that cannot be read leaves a note once its pcs are symbolized.
// Still-reachable blocks that the report does not list are counted without
// symbolizing their stacks (the bulk of a report's work for a program that
// exits with thousands of them), so such a module in their stacks only is
// never opened: no note. Listing them, or a rule that may hide them, needs
// their stacks.
TEST(AggregateTest, UnlistedReachableStacksAreSymbolizedOnlyWhenARuleMayHideThem) {
  Trace trace = self_trace();
  add_gone_module_stack(trace);
  constexpr uint8_t kReachable = 4;  // LiveBlock::leak_kind
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc},
                       {0x2000, 300, kGoneStack, 1, AllocKind::Malloc, kReachable},
                       {0x3000, 200, kGoneStack, 1, AllocKind::Malloc, kReachable}};
  const ProcessReport unlisted = build_report({trace}, Suppressions()).processes[0];
  ASSERT_EQ(unlisted.leaks.size(), 1u);
  EXPECT_EQ(unlisted.leaks[0].stack_id, kStackA);
  EXPECT_EQ(unlisted.summary.reachable_bytes, 500u);
  EXPECT_EQ(unlisted.summary.reachable_blocks, 2u);
  EXPECT_EQ(unlisted.summary.leaked_bytes, 600u);
  EXPECT_FALSE(mentions_gone_module(unlisted)) << "an unlisted stack was symbolized";

  const ProcessReport listed = build_report({trace}, Suppressions(), {.show_reachable = true}).processes[0];
  ASSERT_EQ(listed.leaks.size(), 2u);
  EXPECT_EQ(listed.leaks[0].kind, LeakKind::Reachable) << "biggest first";
  EXPECT_EQ(listed.leaks[0].stack.at(0).module, "/nonexistent/libgone.so");
  EXPECT_TRUE(mentions_gone_module(listed));

  // A rule for another kind cannot hide them: still not symbolized.
  const ProcessReport other_kind = build_report({trace}, suppressions_of("{\n r\n Memcheck:Leak\n "
                                                                         "match-leak-kinds: definite\n obj:*libgone*\n}\n"))
                                       .processes[0];
  EXPECT_EQ(other_kind.summary.suppressed_bytes, 0u);
  EXPECT_EQ(other_kind.summary.reachable_bytes, 500u);
  EXPECT_FALSE(mentions_gone_module(other_kind));

  const ProcessReport hidden = build_report({trace}, suppressions_of("leak:libgone.so\n")).processes[0];
  EXPECT_EQ(hidden.summary.suppressed_bytes, 500u);
  EXPECT_EQ(hidden.summary.reachable_bytes, 0u);
  EXPECT_EQ(hidden.summary.reachable_blocks, 0u);
  EXPECT_EQ(hidden.summary.leaked_bytes, 100u);
  EXPECT_TRUE(mentions_gone_module(hidden));
}

// A report that shows only its biggest leak sites (the text report alone,
// with --max-leaks) symbolizes only theirs: the others keep their stack
// ids, and are still counted, and still hidden by the rules that match
// them. The text it writes is the same as with every stack symbolized
// (but for notes on modules that only stacks not shown came from).
TEST(AggregateTest, OnlyTheLeakSitesShownAreSymbolizedWhenNoMoreAreWanted) {
  Trace trace = self_trace();
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc}, {0x2000, 5000, kStackB, 1, AllocKind::New}};
  auto text_of = [](const Report& report) {
    std::ostringstream text;
    write_text_report(report, text, {.max_leak_groups = 1});
    return text.str();
  };
  const std::string shown = text_of(build_report({trace}, Suppressions(), {.symbolized_leak_groups = 1}));
  EXPECT_EQ(shown, text_of(build_report({trace}, Suppressions())));
  EXPECT_NE(shown.find(kSiteB), std::string::npos);

  add_gone_module_stack(trace);
  trace.live_blocks = {{0x1000, 100, kStackA, 1, AllocKind::Malloc},
                       {0x2000, 5000, kStackB, 1, AllocKind::New},
                       {0x3000, 3, kGoneStack, 1, AllocKind::Malloc}};
  const Report all = build_report({trace}, Suppressions());
  const Report biggest = build_report({trace}, Suppressions(), {.symbolized_leak_groups = 1});
  const ProcessReport& process = biggest.processes[0];
  ASSERT_EQ(process.leaks.size(), 3u);
  EXPECT_EQ(process.leaks[0].stack_id, kStackB);
  EXPECT_EQ(functions_of(process.leaks[0].stack), std::vector<std::string>{std::string(kSiteB)});
  EXPECT_EQ(process.leaks[1].stack_id, kStackA);
  EXPECT_TRUE(process.leaks[1].stack.empty());
  EXPECT_TRUE(process.leaks[2].stack.empty());
  EXPECT_FALSE(mentions_gone_module(process)) << "a stack not shown was symbolized";
  EXPECT_TRUE(mentions_gone_module(all.processes[0]));
  EXPECT_EQ(process.summary.leaked_bytes, 5103u);

  // A rule still sees every stack it may hide, and the biggest left is shown.
  const Report hidden = build_report({trace}, suppressions_of("{\n   b\n   Memcheck:Leak\n   fun:*leaky_site_b*\n}\n"),
                                     {.symbolized_leak_groups = 1});
  const ProcessReport& left = hidden.processes[0];
  EXPECT_EQ(left.summary.suppressed_bytes, 5000u);
  ASSERT_EQ(left.leaks.size(), 2u);
  EXPECT_EQ(functions_of(left.leaks[0].stack), (std::vector<std::string>{std::string(kSiteA), std::string(kSiteB)}));
  EXPECT_TRUE(left.leaks[1].stack.empty());
}

TEST(AggregateTest, NoTracesNoProcesses) {
  const Report report = build_report({}, Suppressions());
  EXPECT_TRUE(report.processes.empty());
  EXPECT_TRUE(report.suppressions.empty());
}

// ---- Scale: issue 3 asks for 1,000,000 leaked blocks from 10,000 stacks ----

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 10,000 stacks of 12 pcs drawn from 20,000 distinct pcs spread over this
// executable's code, so that the symbolizer has real DWARF to read; the two
// outermost frames are shared, as main() and libc's start are.
Trace million_block_trace() {
  Trace trace = self_trace();
  trace.stacks.clear();
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  const Segment* code = nullptr;
  for (const Module& module : trace.modules) {
    for (const Segment& segment : module.segments) {
      if (module.path == exe && (segment.flags & PF_X)) code = &segment;
    }
  }
  EXPECT_NE(code, nullptr);
  if (!code) return trace;
  std::vector<uint64_t> pcs(20'000);
  for (size_t i = 0; i < pcs.size(); ++i) pcs[i] = code->start + 1 + (i * code->size) / pcs.size();

  std::mt19937_64 random(7);
  constexpr StackId kStacks = 10'000;
  for (StackId id = 1; id <= kStacks; ++id) {
    Stack& stack = trace.stacks[id];
    for (int depth = 0; depth < 10; ++depth) stack.push_back(pcs[random() % pcs.size()]);
    stack.push_back(pc_in(leaky_site_a));
    stack.push_back(pc_in(leaky_site_b));
  }
  constexpr uint64_t kBlocks = 1'000'000;
  trace.live_blocks.reserve(kBlocks);
  for (uint64_t i = 0; i < kBlocks; ++i) {
    trace.live_blocks.push_back({.address = 0x100000000 + i * 64,
                                 .size = 16 + (i % 97) * 8,
                                 .stack = static_cast<StackId>(1 + i % kStacks),
                                 .thread = 1,
                                 .kind = AllocKind::Malloc});
  }
  return trace;
}

TEST(AggregatePerformanceTest, MillionBlocksFromTenThousandStacks) {
  testing::TraceBuilder builder;
  builder.snapshot(million_block_trace());

  auto start = std::chrono::steady_clock::now();
  const Trace trace = parse_trace(builder.bytes(), "million.trace");
  const double read = seconds_since(start);
  ASSERT_EQ(trace.live_blocks.size(), 1'000'000u);

  start = std::chrono::steady_clock::now();
  Suppressions suppressions;
  const Report report = build_report({trace}, suppressions);
  const double build = seconds_since(start);

  start = std::chrono::steady_clock::now();
  std::ostringstream text;
  write_text_report(report, text);
  const double format_text = seconds_since(start);

  start = std::chrono::steady_clock::now();
  std::ostringstream json;
  write_json_report(report, json);
  const double format_json = seconds_since(start);

  const double total = build + format_text + format_json;
  std::printf(
      "1,000,000 blocks, 10,000 stacks: read %.2f s; build_report %.2f s, text %.2f s (%zu bytes), "
      "JSON %.2f s (%zu bytes): report %.2f s\n",
      read, build, format_text, text.str().size(), format_json, json.str().size(), total);
  ASSERT_EQ(report.processes.size(), 1u);
  EXPECT_EQ(report.processes[0].summary.leaked_blocks, 1'000'000u);
  EXPECT_EQ(report.processes[0].leaks.size(), 10'000u);
  EXPECT_LT(total, 20.0) << "issue 3 asks for a couple of seconds";
}

}  // namespace
}  // namespace nantrack
