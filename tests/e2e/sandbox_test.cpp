// A program that confines itself with seccomp (tests/programs/sandboxed.c)
// runs under nantrack as it does without: nantrack makes none of the system
// calls its filter forbids (tracker/sandbox.h), yet its trace, its leak
// scan, its stacks and its errors at the bad call are all there.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// LeakClass values, as leak_kinds_of_size() spells them.
const std::string kDefinite = "1", kReachable = "4";

void expect_blocks_classified_and_unwound(const Trace& trace) {
  EXPECT_EQ(leak_kinds_of_size(trace, 333), kDefinite);
  EXPECT_EQ(leak_kinds_of_size(trace, 444), kReachable) << "the leak scan ran";
  const auto lost = blocks_of_size(trace, 333);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_TRUE(stack_has(trace, lost[0]->stack, "allocate_at"));
  EXPECT_TRUE(stack_has(trace, lost[0]->stack, "lose_a_block"));
  EXPECT_TRUE(stack_has(trace, lost[0]->stack, "main"));
}

class Sandbox : public ::testing::TestWithParam<const char*> {};

TEST_P(Sandbox, AProgramThatConfinesItselfRunsAsWithoutUs) {
  const RunResult traced = expect_same_output_as_without_us({program("sandboxed"), GetParam()}, "done\n");
  EXPECT_EQ(traced.signal, 0) << traced.err;
  ASSERT_EQ(traced.traces.size(), 1u) << traced.err;
  expect_blocks_classified_and_unwound(traced.only_trace());
  // The report at exit would take fork and execve: the trace is named
  // instead.
  const RunResult reported = run({program("sandboxed"), GetParam()}, {.nantrack_options = "report=1"});
  EXPECT_EQ(reported.exit_code, 0) << reported.err;
  // The command named works pasted into a shell, whatever the directory
  // is called (before: "it's here" came back as "its" "here").
  TempDir dir;
  const std::string output_dir = dir / "it's here";
  std::filesystem::create_directory(output_dir);
  const RunResult named = run({program("sandboxed"), GetParam()},
                              {.nantrack_options = "report=1:output_dir=" + output_dir, .read_traces = false});
  const RunResult pasted =
      nantrack_as_printed(named.err, "so its report is not printed here: nantrack ", "--format json");
  EXPECT_EQ(pasted.exit_code, 0) << named.err << pasted.err;
  EXPECT_NE(pasted.out.find("\"lose_a_block\""), std::string::npos) << pasted.out;
}

INSTANTIATE_TEST_SUITE_P(ThroughPrctlAndTheSystemCall, Sandbox, ::testing::Values("prctl", "syscall"));

TEST(SandboxErrors, ADoubleFreeInsideTheSandboxIsReportedAtTheCall) {
  const RunResult traced = run({program("sandboxed"), "prctl", "double-free"});
  EXPECT_EQ(traced.out, "done\n");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_NE(traced.err.find("nantrack: double free of"), std::string::npos) << traced.err;
  const Trace& trace = traced.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_EQ(trace.errors[0].kind, ErrorKind::DoubleFree);
  expect_blocks_classified_and_unwound(trace);
}

// Telling a stack address from a global one takes no call the sandbox
// forbids (pthread_getattr_np reads /proc/self/maps for the main thread).
TEST(SandboxErrors, BadFreesInsideTheSandboxAreToldApart) {
  const RunResult traced = run({program("sandboxed"), "prctl", "bad-free"});
  EXPECT_EQ(traced.out, "done\n");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  const Trace& trace = traced.only_trace();
  ASSERT_EQ(trace.errors.size(), 2u) << traced.err;
  EXPECT_EQ(trace.errors[0].invalid_pointer, InvalidPointer::StackAddress);
  EXPECT_EQ(trace.errors[1].invalid_pointer, InvalidPointer::GlobalAddress);
}

// A child forked inside the sandbox cannot open a trace of its own: it
// says so and ends as it would; its parent's trace is whole.
TEST(SandboxErrors, AChildForkedInsideTheSandboxSaysItHasNoTrace) {
  const RunResult traced = expect_same_output_as_without_us({program("sandboxed"), "prctl", "fork"}, "done\n");
  EXPECT_NE(traced.err.find("started inside a seccomp sandbox: it has no trace"), std::string::npos) << traced.err;
  ASSERT_EQ(traced.traces.size(), 1u);
  expect_blocks_classified_and_unwound(traced.only_trace());
  EXPECT_TRUE(blocks_of_size(traced.only_trace(), 222).empty());
}

// Threads started inside the sandbox: no stack bounds for them (asking
// pthread_getattr_np for them makes a call the sandbox kills for), yet
// their blocks and full stacks are there. A process that had a second
// thread is not scanned in a sandbox: its blocks are not classified.
TEST(SandboxErrors, ThreadsStartedInsideTheSandboxAreTracked) {
  const RunResult traced = expect_same_output_as_without_us({program("sandboxed"), "syscall", "threads"}, "done\n");
  ASSERT_EQ(traced.traces.size(), 1u) << traced.err;
  const Trace& trace = traced.only_trace();
  const auto lost = blocks_of_size(trace, 111);
  ASSERT_EQ(lost.size(), 2u);
  for (const LiveBlock* block : lost) {
    EXPECT_TRUE(stack_has(trace, block->stack, "lose_a_block"));
    EXPECT_TRUE(stack_has(trace, block->stack, "lose_111_bytes"));
  }
}

}  // namespace
}  // namespace nantrack::testing
