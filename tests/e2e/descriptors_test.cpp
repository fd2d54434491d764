// File descriptors under nantrack (preload/unwinder_pipe_hooks.cpp), on
// tests/programs/descriptors.c: the program has exactly the descriptors it
// has without us, and libunwind's memory test, which used a pipe of its own
// on the program's descriptor numbers, neither reads nor writes the files
// the program opens on those numbers, yet still answers; the program's own
// pipe(), pipe2() and syscall() calls reach libc as before.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

TEST(Descriptors, TheProgramHasOnlyTheDescriptorsItHasWithoutUs) {
  const RunResult native = run({program("descriptors"), "list"}, {.traced = false});
  const RunResult traced = run({program("descriptors"), "list"});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  EXPECT_EQ(native.out.rfind("0 1 2 ", 0), 0u) << native.out;
  EXPECT_EQ(traced.out, native.out) << traced.err;
  EXPECT_EQ(traced.exit_code, 0);
}

TEST(Descriptors, TheProgramsPipesAndSystemCallsWorkAsWithoutUs) {
  expect_same_output_as_without_us({program("descriptors"), "calls"},
                                   "pipe2 flags: cloexec 1, nonblock 1\n"
                                   "syscall write 7, read 7: through\n"
                                   "empty pipe: -1, EAGAIN 1\n"
                                   "write to -3: -1, EBADF 1\n"
                                   "mmap: a page\n"
                                   "getpid agrees: 1\n");
}

// A program that used every descriptor its soft limit allows still gets
// its trace (the limit is raised by one for its open, then put back), and
// its report at exit.
TEST(Descriptors, AProgramOutOfDescriptorsStillGetsItsTrace) {
  const RunResult native = run({program("descriptors"), "exhaust"}, {.traced = false});
  const RunResult traced = run({program("descriptors"), "exhaust"});
  EXPECT_EQ(native.out, "opened up to the limit: 1\n");
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(traced.exit_code, 0);
  EXPECT_EQ(traced.err.find("cannot write trace"), std::string::npos) << traced.err;
  ASSERT_EQ(traced.traces.size(), 1u) << traced.err;
  EXPECT_EQ(blocks_of_size(traced.only_trace(), 777).size(), 1u);
  // The report at exit: the CLI it starts gets none of the program's
  // descriptors, so it has its own to load its libraries with.
  const RunResult reported = run({program("descriptors"), "exhaust"}, {.nantrack_options = "report=1"});
  EXPECT_NE(reported.err.find("SUMMARY: nantrack:"), std::string::npos) << reported.err;
}

TEST(Descriptors, FilesOpenedAfterClosingEveryDescriptorAreLeftAlone) {
  TempDir files;
  const RunResult traced = run({program("descriptors"), "reuse", files.path()});
  EXPECT_EQ(traced.out, "files intact\n") << traced.err;
  EXPECT_EQ(traced.exit_code, 0);
  // libunwind tested the addresses it read past the frame without unwind
  // information, and its tests were answered: the stack goes on to main.
  const Trace& trace = traced.only_trace();
  const auto blocks = blocks_of_size(trace, 1234);
  ASSERT_EQ(blocks.size(), 1u);
  const std::vector<std::string> names = function_names(trace, blocks[0]->stack);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "malloc_without_unwind_info");
  EXPECT_TRUE(stack_has(trace, blocks[0]->stack, "allocate_from_unknown_code"));
  EXPECT_TRUE(stack_has(trace, blocks[0]->stack, "main"));
}

// A program that finds stderr closed and opens a file of its own on its
// number gets that file to itself: our messages (the double free at the bad
// call, the report at exit) go to the stderr it started with, or nowhere
// when that cannot be reached; the trace still holds them.
void expect_only_the_programs_line(const std::string& file) {
  EXPECT_EQ(read_file(file), "the program's own line\n");
}

void expect_error_and_block_in_trace(const RunResult& traced) {
  ASSERT_EQ(traced.traces.size(), 1u) << traced.err;
  const Trace& trace = traced.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_EQ(trace.errors[0].kind, ErrorKind::DoubleFree);
  EXPECT_EQ(blocks_of_size(trace, 555).size(), 1u);
}

TEST(Descriptors, AFileOpenedOnAStderrClosedAtStartGetsNoneOfOurText) {
  TempDir files;
  const std::string file = files / "output";
  const RunResult traced = run({"/bin/sh", "-c", "exec \"$0\" stderr-file \"$1\" 2>&-", program("descriptors"), file},
                               {.nantrack_options = "report=1"});
  EXPECT_EQ(traced.out, "file on descriptor 2\n");
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  expect_only_the_programs_line(file);
  expect_error_and_block_in_trace(traced);
}

TEST(Descriptors, AFileOpenedOnAStderrTheProgramClosedGetsNoneOfOurText) {
  TempDir files;
  const std::string file = files / "output";
  // Our stderr here is a pipe: it cannot be opened again, so our text is
  // dropped.
  const RunResult on_pipe = run({program("descriptors"), "stderr-file", file, "close"}, {.nantrack_options = "report=1"});
  EXPECT_EQ(on_pipe.out, "file on descriptor 2\n");
  EXPECT_EQ(on_pipe.exit_code, 0) << on_pipe.err;
  expect_only_the_programs_line(file);
  expect_error_and_block_in_trace(on_pipe);
  // A stderr on a file is opened again, and our text goes there.
  const std::string log = files / "stderr";
  const RunResult on_file = run({"/bin/sh", "-c", "exec \"$0\" stderr-file \"$1\" close 2>\"$2\"", program("descriptors"), file, log},
                                {.nantrack_options = "report=1"});
  EXPECT_EQ(on_file.exit_code, 0) << on_file.err;
  expect_only_the_programs_line(file);
  expect_error_and_block_in_trace(on_file);
  const std::string ours = read_file(log);
  EXPECT_NE(ours.find("nantrack: double free of"), std::string::npos) << ours;
  EXPECT_NE(ours.find("SUMMARY: nantrack: no leaks; 1 error (1 double free)."), std::string::npos) << ours;
}

}  // namespace
}  // namespace nantrack::testing
