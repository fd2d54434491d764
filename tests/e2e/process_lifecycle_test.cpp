// How processes end and multiply: exit statuses and signals are preserved
// and recorded, fork children write their own traces, exec'd programs are
// traced, and the program's own signal handlers keep working.
#include <gtest/gtest.h>

#include <algorithm>

#include <csignal>
#include <set>
#include <sstream>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

struct Ending {
  const char* mode;
  int exit_code;  // -1 when a signal ends it
  int signal;
  bool crashed;
  bool underscore_exit;
  const char* extra_output;
};

void PrintTo(const Ending& ending, std::ostream* out) { *out << ending.mode; }

class Endings : public ::testing::TestWithParam<Ending> {};

TEST_P(Endings, ExitStatusIsPreservedAndRecorded) {
  const Ending& expected = GetParam();
  RunResult untraced = run({program("exit_modes"), expected.mode}, {.traced = false});
  RunResult traced = run({program("exit_modes"), expected.mode});
  EXPECT_EQ(traced.exit_code, untraced.exit_code);
  EXPECT_EQ(traced.signal, untraced.signal);
  EXPECT_EQ(traced.out, untraced.out);
  EXPECT_EQ(traced.exit_code, expected.exit_code);
  EXPECT_EQ(traced.signal, expected.signal);
  EXPECT_NE(traced.out.find(expected.extra_output), std::string::npos) << traced.out;
  // Nothing of ours on stderr but what the program wrote (no trace or scan trouble).
  EXPECT_EQ(traced.err, untraced.err);
  const Trace& trace = traced.only_trace();
  EXPECT_EQ(trace.process.crashed, expected.crashed);
  EXPECT_EQ(trace.process.exited_via_underscore_exit, expected.underscore_exit);
  if (expected.signal) {
    EXPECT_EQ(trace.process.signal, expected.signal);
  } else {
    ASSERT_TRUE(trace.process.exit_status.has_value());
    EXPECT_EQ(*trace.process.exit_status, expected.exit_code);
  }
  EXPECT_EQ(blocks_of_size(trace, 500).size(), 1u);  // the leak is there however it ended
  // It is kept in a global: reachable whenever the scan ran (not after a
  // crash), whichever thread ended the process.
  EXPECT_EQ(leak_kinds_of_size(trace, 500), expected.crashed ? "0" : "4");
}

INSTANTIATE_TEST_SUITE_P(
    AllWays, Endings,
    ::testing::Values(Ending{"return5", 5, 0, false, false, "mode return5"},
                      Ending{"exit3", 3, 0, false, false, "mode exit3"},
                      Ending{"_exit4", 4, 0, false, true, "mode _exit4"},
                      Ending{"_Exit6", 6, 0, false, true, "mode _Exit6"},
                      Ending{"thread_exit", 8, 0, false, false, "mode thread_exit"},
                      Ending{"quick_exit", 10, 0, false, true, "quick exit handler ran"},
                      Ending{"exit_group", 11, 0, false, true, "mode exit_group"},
                      Ending{"error_exit", 12, 0, false, false, "mode error_exit"},
                      Ending{"main_thread_exit", 0, 0, false, false, "mode main_thread_exit"},
                      // Before, the trace overflowed such a thread's 16 KiB stack: SIGSEGV.
                      Ending{"small_stack_exit", 13, 0, false, false, "mode small_stack_exit"},
                      Ending{"small_stack__exit", 14, 0, false, true, "mode small_stack__exit"},
                      Ending{"small_stack_abort", -1, SIGABRT, true, false, "mode small_stack_abort"},
                      Ending{"abort", -1, SIGABRT, true, false, "mode abort"},
                      Ending{"segv", -1, SIGSEGV, true, false, "mode segv"},
                      Ending{"stack_overflow", -1, SIGSEGV, true, false, "mode stack_overflow"},
                      // Before, a thread had no alternate stack: killed at once, no trace;
                      // then only one that had allocated had one.
                      Ending{"thread_stack_overflow", -1, SIGSEGV, true, false, "mode thread_stack_overflow"},
                      Ending{"thread_stack_overflow_at_once", -1, SIGSEGV, true, false,
                             "mode thread_stack_overflow_at_once"},
                      Ending{"own_handler", 9, 0, false, true, "own handler ran"},
                      Ending{"handler_reraise", -1, SIGABRT, true, false, "reraise handler ran"}),
    [](const ::testing::TestParamInfo<Ending>& info) {
      std::string name = info.param.mode;
      for (char& c : name)
        if (c == '_') c = 'x';
      return name;
    });

// A thread's alternate signal stack comes with its unwind state, which it
// takes with the unwind cache off too (before, it then had none: a stack
// overflow in any thread but the main one left no trace).
TEST(SignalStack, AThreadOverflowingItsStackLeavesATraceWithTheUnwindCacheOff) {
  const RunResult result =
      run({program("exit_modes"), "thread_stack_overflow_at_once"}, {.nantrack_options = "unwind_cache=0"});
  EXPECT_EQ(result.signal, SIGSEGV) << result.err;
  ASSERT_EQ(result.traces.size(), 1u) << result.err;
  EXPECT_TRUE(result.only_trace().process.crashed);
  EXPECT_EQ(blocks_of_size(result.only_trace(), 500).size(), 1u);
}

// What nantrack adds to a C program's process: itself and the libunwind it
// loads privately, nothing else. One string_view::substr in proc_maps.cpp
// (it may throw) made libnantrack.so need libstdc++, which then came with
// libm and libgcc_s into every traced process, C programs included: its
// start-up cost, and its symbols in their lookup scope.
TEST(PreloadLibrary, BringsNothingButItselfAndLibunwindIntoAProcess) {
  auto names = [](const std::string& out) {
    std::set<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.insert(line);
    return lines;
  };
  const RunResult native = run({program("loaded_objects")}, {.traced = false});
  const RunResult traced = run({program("loaded_objects")});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  const std::set<std::string> before = names(native.out);
  std::set<std::string> added;
  for (const std::string& name : names(traced.out))
    if (!before.count(name)) added.insert(name);
  EXPECT_TRUE(added.count("libnantrack.so")) << traced.out;
  for (const std::string& name : added)
    EXPECT_TRUE(name == "libnantrack.so" || name.starts_with("libunwind") || name.starts_with("liblzma"))
        << name << " came with nantrack";
}

// A program ended from outside or by a limit, by a signal it does not
// handle (tests/programs/ending_signal.c): it dies of that signal as it
// would have, and its trace is written first, scanned as at exit. Before,
// it died with no trace at all: `kill` of a service, timeout(1), ^C, alarm()
// or a closed pipe lost every block, and `nantrack run` said "left no
// trace (was it killed with SIGKILL ...)".
class EndingSignals : public ::testing::TestWithParam<int> {};

TEST_P(EndingSignals, TheProgramDiesOfItAfterWritingItsTrace) {
  const int signal = GetParam();
  const RunResult native = run({program("ending_signal"), std::to_string(signal)}, {.traced = false});
  ASSERT_EQ(native.signal, signal) << native.err;
  const RunResult traced = run({program("ending_signal"), std::to_string(signal)});
  EXPECT_EQ(traced.signal, signal) << traced.err;
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(traced.err, native.err);
  const Trace& trace = traced.only_trace();
  EXPECT_EQ(trace.process.signal, signal);
  EXPECT_FALSE(trace.process.crashed);
  EXPECT_EQ(leak_kinds_of_size(trace, 2101), "1") << "leaked: definite";
  EXPECT_EQ(leak_kinds_of_size(trace, 2102), "4") << "kept in a global: reachable";
}

// Two threads that get it at once (each writing to a pipe nobody reads,
// or both crashing) both end the process: the one whose trace the other
// is writing waits for it. Before, it ended the process at once, and the
// trace was empty.
TEST(EndingSignals, TwoThreadsEndingTheProcessAtOnceLeaveAWholeTrace) {
  for (int signal : {SIGPIPE, SIGSEGV}) {
    for (int run_number = 0; run_number < 3; ++run_number) {
      SCOPED_TRACE(std::string(sigabbrev_np(signal)) + " run " + std::to_string(run_number));
      const RunResult traced = run({program("ending_signal"), std::to_string(signal), "twice"});
      EXPECT_EQ(traced.signal, signal) << traced.err;
      const Trace& trace = traced.only_trace();
      EXPECT_EQ(trace.process.signal, signal);
      EXPECT_EQ(blocks_of_size(trace, 2101).size(), 1u);
      EXPECT_EQ(blocks_of_size(trace, 16).size(), 200000u);
    }
  }
}

// A thread with the smallest stack glibc allows (16 KiB) gets the snapshot
// signal, then one that ends the process: the check and the trace run on
// a stack of nantrack's own, and the thread's own stack is still scanned.
// Before, each overflowed that stack: the process died of SIGSEGV.
TEST(EndingSignals, AThreadWithTheSmallestStackEndsTheProcessAsItWould) {
  const RunResult traced = run({program("ending_signal"), std::to_string(SIGTERM), "small_stack"});
  EXPECT_EQ(traced.signal, SIGTERM) << traced.err;
  EXPECT_EQ(traced.out, "ready\n");
  const Trace& trace = traced.final_trace();
  EXPECT_EQ(trace.process.signal, SIGTERM);
  EXPECT_EQ(leak_kinds_of_size(trace, 2101), "1") << "leaked: definite";
  EXPECT_EQ(leak_kinds_of_size(trace, 2103), "4") << "held on the small stack: reachable";
  const std::vector<const Trace*> snapshots = traced.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 2103), "4");
}

// A handler of the program's installed with SA_RESETHAND (node's for
// SIGTERM and SIGINT) runs, finds the default action back, and raises the
// signal again: the process then dies of it with its trace written.
// Before, the kernel's reset bypassed our handler: no trace.
TEST(EndingSignals, AHandlerThatResetsItselfAndRaisesAgainLeavesATrace) {
  for (int signal : {SIGTERM, SIGINT, SIGSEGV}) {
    SCOPED_TRACE(sigabbrev_np(signal));
    const std::vector<std::string> argv = {program("ending_signal"), std::to_string(signal), "reset_handler"};
    const RunResult native = run(argv, {.traced = false});
    ASSERT_EQ(native.signal, signal) << native.err;
    ASSERT_EQ(native.out, "ready\nhandler ran, default action back\n");
    const RunResult traced = run(argv);
    EXPECT_EQ(traced.signal, signal) << traced.err;
    EXPECT_EQ(traced.out, native.out);
    const Trace& trace = traced.only_trace();
    EXPECT_EQ(trace.process.signal, signal);
    EXPECT_EQ(blocks_of_size(trace, 2101).size(), 1u);
  }
}

// Runs `argv`, which leaks 2101 bytes and ends by SIGTERM, natively and
// traced: the same stdout and signal, and a trace with the leak. Returns
// the native stdout.
std::string expect_sigterm_as_natively_with_its_leak(const std::vector<std::string>& argv) {
  const RunResult native = run(argv, {.traced = false});
  EXPECT_EQ(native.signal, SIGTERM) << native.err;
  const RunResult traced = run(argv);
  EXPECT_EQ(traced.signal, SIGTERM) << traced.err;
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(traced.traces.size(), 1u) << traced.err;
  if (traced.traces.size() == 1) {
    const Trace& trace = traced.only_trace();
    EXPECT_EQ(trace.process.signal, SIGTERM);
    EXPECT_EQ(leak_kinds_of_size(trace, 2101), "1");
  }
  return native.out;
}

// signal() under strict ISO C is glibc's __sysv_signal, which calls
// glibc's internal sigaction (tests/programs/strict_iso_signal.c): a
// handler installed with it, and SIG_DFL put back with it, bypassed our
// handler before, and the process ended with no trace.
TEST(EndingSignals, SignalOfStrictIsoCLeavesATrace) {
  for (const char* mode : {"handler", "default"}) {
    SCOPED_TRACE(mode);
    expect_sigterm_as_natively_with_its_leak({program("strict_iso_signal"), mode});
  }
}

// bsd_signal and ssignal are glibc's signal() under other names, and its
// sigset() installs through its internal sigaction: SIG_DFL put back by
// any of them replaced our handler for real (no trace), and the previous
// disposition they returned was our handler, not the default.
TEST(EndingSignals, OlderSignalFunctionsLeaveATraceAndAnswerAsNatively) {
  for (const char* mode : {"bsd_signal", "ssignal", "sigset", "sigset_hold"}) {
    SCOPED_TRACE(mode);
    const std::string native_out = expect_sigterm_as_natively_with_its_leak({program("old_signal_functions"), mode});
    EXPECT_NE(native_out.find(": default\n"), std::string::npos) << native_out;
  }
}

// What a user of `nantrack run` sees: the leak, a note that says how the
// process ended, and nantrack run dying of the same signal.
TEST(EndingSignals, NantrackRunReportsTheLeaksAndEndsTheSameWay) {
  const RunResult result = nantrack({"run", "--", program("ending_signal"), std::to_string(SIGTERM)});
  EXPECT_EQ(result.signal, SIGTERM) << result.err;
  EXPECT_EQ(result.out, "ready\n");
  EXPECT_NE(result.err.find("2,101 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("note: the process was ended by signal 15 (SIGTERM) before it could free its memory: its "
                            "leaks were checked at that moment, and do not count for the CI gate"),
            std::string::npos)
      << result.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, EndingSignals, ::testing::Values(SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGALRM, SIGPIPE),
                         [](const ::testing::TestParamInfo<int>& info) { return std::string(sigabbrev_np(info.param)); });

// Sent to a thread that allocates without a pause, the signal often comes
// while that thread is inside nantrack, maybe holding a lock the trace
// needs: the trace is then written when it leaves, microseconds later.
// Either way the process dies of it, with its trace.
TEST(EndingSignals, ASignalThatComesInsideNantrackEndsTheProcessToo) {
  for (int run_number = 0; run_number < 10; ++run_number) {
    SCOPED_TRACE(run_number);
    const RunResult traced = run({program("ending_signal"), std::to_string(SIGTERM), "churn"});
    EXPECT_EQ(traced.signal, SIGTERM) << traced.err;
    EXPECT_EQ(traced.out, "ready\n");
    const Trace& trace = traced.only_trace();
    EXPECT_EQ(trace.process.signal, SIGTERM);
    EXPECT_EQ(leak_kinds_of_size(trace, 2102), "4");
  }
}

// Under a file-size limit (ulimit -f) smaller than its trace, the program
// still ends as it would have (our write gets EFBIG, not the SIGXFSZ that
// kills), and the cut is said.
TEST(FileSizeLimit, TheProgramEndsAsItWouldHaveAndTheCutIsSaid) {
  RunResult untraced = run({program("exit_modes"), "file_size_limit"}, {.traced = false});
  RunResult traced = run({program("exit_modes"), "file_size_limit"}, {.read_traces = false});
  EXPECT_EQ(untraced.exit_code, 5);
  EXPECT_EQ(traced.exit_code, 5) << traced.err;
  EXPECT_EQ(traced.signal, 0);
  EXPECT_NE(traced.err.find("' is cut short: File too large"), std::string::npos) << traced.err;
}

// A report written to a stderr whose reader has gone (`prog 2>&1 | head`)
// fails with EPIPE instead of killing the program with SIGPIPE.
TEST(BrokenPipe, AReportOnAStderrNobodyReadsDoesNotEndTheProgram) {
  const std::vector<std::string> argv = {
      "/bin/bash", "-c", "(exec " + program("quiet_overflow") + ") 2>&1 | true; echo \"status ${PIPESTATUS[0]}\""};
  const RunResult native = run(argv, {.traced = false});
  const RunResult traced = run(argv, {.read_traces = false});  // cut short by the same limit
  EXPECT_EQ(native.out, "status 3\n");
  EXPECT_EQ(traced.out, native.out) << traced.err;
}

// The same limit on stderr: a report appended to a file already at the
// limit fails with EFBIG instead of killing the program with SIGXFSZ.
TEST(FileSizeLimit, AReportOnAStderrPastTheLimitDoesNotEndTheProgram) {
  TempDir dir;
  const std::string file = dir / "stderr";
  const std::vector<std::string> argv = {"/bin/bash", "-c",
                                         "head -c 1024 /dev/zero > " + file + "; ulimit -f 1; " +
                                             program("quiet_overflow") + " 2>> " + file + "; echo \"status $?\""};
  const RunResult native = run(argv, {.traced = false});
  const RunResult traced = run(argv, {.read_traces = false});  // cut short by the same limit
  EXPECT_EQ(native.out, "status 3\n");
  EXPECT_EQ(traced.out, native.out) << traced.err;
}

// A crash is recorded (Endings above) and then happens as it would have: a
// fault the kernel raised is let happen again at the same instruction, so
// the process dies of the kernel's signal there (and a core dump shows the
// program's registers, not nantrack's handler); abort() is raised again.
// tests/programs/last_signal watches the deliveries with ptrace.
TEST(Crashes, TheLastSignalIsTheOneTheProgramWouldHaveDiedOf) {
  for (const char* mode : {"segv", "stack_overflow", "abort"}) {
    SCOPED_TRACE(mode);
    const std::vector<std::string> argv = {program("last_signal"), program("exit_modes"), mode};
    const RunResult native = run(argv, {.traced = false});
    const RunResult traced = run(argv);
    EXPECT_NE(native.out.find("killed by signal"), std::string::npos) << native.out << native.err;
    EXPECT_EQ(traced.out, native.out) << traced.err;
  }
}

// Handlers for the signals we handle ourselves, installed in each of
// glibc's ways (sigset, bsd_signal and sysv_signal do not call sigaction),
// are what sigaction() and signal() report back, as without us; and one
// that signal() installs after siginterrupt() interrupts system calls.
TEST(SignalHandlers, WhatTheProgramInstalledIsWhatItFinds) {
  expect_same_output_as_without_us({program("signal_handlers")},
                                   "sigset: 1\n"
                                   "bsd_signal: 1\n"
                                   "sysv_signal: 1\n"
                                   "signal, before: default 1\n"
                                   "signal, after: 1\n"
                                   "back to default, was the handler: 1\n"
                                   "now default: 1\n"
                                   "SIGUSR2 was default 1, now ignored 1\n"
                                   "read interrupted: 1\n");
}

// Our alternate signal stack (for a crash from stack exhaustion, the
// stack_overflow ending above) is not the program's: it finds none, and
// the one it installs is the one its handlers run on.
// A signal handler that ends the process while it interrupted malloc or
// free: under us that may be inside nantrack, holding a shard's lock,
// which the trace at exit then waited for, for ever (a third of the runs
// hung). Each run ends at its first such signal; ten runs of each way.
class EndingInAHandler : public ::testing::TestWithParam<const char*> {};

TEST_P(EndingInAHandler, DoesNotHangAndLeavesItsTrace) {
  for (int run_number = 0; run_number < 10; ++run_number) {
    const RunResult result = run({"/usr/bin/timeout", "20", program("signal_exit"), GetParam()});
    ASSERT_EQ(result.exit_code, 3) << "run " << run_number << " (124: it hung)\n" << result.err;
    // timeout's trace, and the program's, whose kept blocks are there: read
    // while the interrupted call held its shard.
    const auto program_trace = std::find_if(result.traces.begin(), result.traces.end(), [](const Trace& trace) {
      return trace.process.exe.find("signal_exit") != std::string::npos;
    });
    ASSERT_NE(program_trace, result.traces.end()) << result.err;
    EXPECT_GE(program_trace->live_blocks.size(), 60u);  // 63 or 64, give or take the record in flight
  }
}

INSTANTIATE_TEST_SUITE_P(ExitAndUnderscoreExit, EndingInAHandler, ::testing::Values("exit", "_exit"));

// fork() from such a handler: our fork handlers took every lock, the
// interrupted call's too, and waited for it for ever (2 runs in 10 hung).
TEST(ForkInAHandler, DoesNotHangAndEachChildHasItsTrace) {
  for (int run_number = 0; run_number < 5; ++run_number) {
    const RunResult result = run({"/usr/bin/timeout", "20", program("signal_exit"), "fork"});
    ASSERT_EQ(result.exit_code, 0) << "run " << run_number << " (124: it hung)\n" << result.err;
    // timeout, the program and its 20 children.
    EXPECT_EQ(result.traces.size(), 22u) << result.err;
  }
}

TEST(SignalStack, TheProgramSeesOnlyTheAlternateStackItInstalls) {
  // The same in the main thread and in another, which has one of ours too.
  std::string expected;
  for (const std::string who : {"main, ", "thread, "}) {
    expected += who + "at start: disabled 1, mine 0, size 0\n" +  //
                who + "at start, by syscall(): disabled 1, mine 0, size 0\n" +
                who + "disabling none: 0\n" +  //
                who + "before that: disabled 1, mine 0, size 0\n" +
                who + "installing mine: 0\n" +  //
                who + "it replaced: disabled 1, mine 0, size 0\n" +
                who + "now: disabled 0, mine 1, size 65536\n" +  //
                who + "handler ran on mine: 1\n" +               //
                who + "disabling mine: 0\n" +                    //
                who + "it replaced: disabled 0, mine 1, size 65536\n" +
                who + "at end: disabled 1, mine 0, size 0\n";
  }
  // A stack installed past our hooks replaces the one we lent; the thread's
  // exit puts it back after taking ours away.
  expected +=
      "raw thread, installing mine by the instruction: 0\n"
      "raw thread, in its key destructor: disabled 0, mine 1, size 65536\n";
  expect_same_output_as_without_us({program("alt_stack")}, expected);
}

// Threads start through a routine of ours, which gives them their unwind
// state and alternate signal stack before the program's routine runs.
TEST(ThreadStart, TheProgramSeesItsThreadsAsWithoutUs) {
  expect_same_output_as_without_us({program("thread_start")},
                                   "returned 42\n"
                                   "pthread_exit gave 7\n"
                                   "alternate stack at start: disabled 1\n"
                                   "pthread_self inside was the id created: 1\n"
                                   "a thread with a 1 PiB stack: error 11\n");
}

TEST(Fork, ParentAndChildEachWriteTheirOwnTrace) {
  RunResult result = run({program("fork_exec")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(result.traces.size(), 2u) << result.err;
  const Trace* parent = nullptr;
  const Trace* child = nullptr;
  for (const Trace& trace : result.traces) (trace.process.forked_child ? child : parent) = &trace;
  ASSERT_TRUE(parent && child);
  EXPECT_EQ(child->process.ppid, parent->process.pid);
  EXPECT_EQ(blocks_of_size(*parent, 111).size(), 1u);
  EXPECT_EQ(blocks_of_size(*parent, 222).size(), 1u);
  EXPECT_TRUE(blocks_of_size(*parent, 333).empty());
  // The child inherited the parent's block from before the fork.
  EXPECT_EQ(blocks_of_size(*child, 111).size(), 1u);
  EXPECT_EQ(blocks_of_size(*child, 333).size(), 1u);
  EXPECT_TRUE(blocks_of_size(*child, 222).empty());
}

TEST(Exec, TheExecutedProgramIsTracedWithItsOwnArgv) {
  RunResult result = run({program("fork_exec"), "exec", program("leak_stack"), "clean"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("leak_stack clean"), std::string::npos);
  ASSERT_EQ(result.traces.size(), 2u) << result.err;
  const Trace& exec_trace = result.traces[0].process.argv.size() == 2 ? result.traces[0] : result.traces[1];
  ASSERT_EQ(exec_trace.process.argv.size(), 2u);
  EXPECT_EQ(exec_trace.process.argv[1], "clean");
  EXPECT_NE(exec_trace.process.exe.find("leak_stack"), std::string::npos);
}

// argv is kept up to 64 KiB; past that, the last entry says how many
// more there were (before, the list was cut without a word).
TEST(Exec, AnArgvTooLongToKeepSaysHowMuchIsMissing) {
  std::vector<std::string> argv = {program("leak_stack"), "clean"};
  for (int i = 0; i < 20000; ++i) argv.push_back("argument-" + std::to_string(i));  // ~300 KiB
  const RunResult result = run(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string>& kept = result.only_trace().process.argv;
  ASSERT_GT(kept.size(), 2u);
  EXPECT_EQ(kept[1], "clean");
  EXPECT_EQ(kept[kept.size() - 2], "argument-" + std::to_string(kept.size() - 4));
  EXPECT_EQ(kept.back(), "[" + std::to_string(argv.size() - (kept.size() - 1)) + " more arguments not kept]");
  // A short one is kept whole, with no such entry.
  const RunResult whole = run({program("leak_stack"), "clean"});
  EXPECT_EQ(whole.only_trace().process.argv.size(), 2u);
}

TEST(Exec, FollowChildrenOffTracesOnlyTheFirstProcess) {
  RunResult result = run({program("fork_exec"), "exec", program("leak_stack"), "clean"},
                         {.nantrack_options = "follow_children=0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("leak_stack clean"), std::string::npos);
  ASSERT_EQ(result.traces.size(), 1u);
  EXPECT_FALSE(result.traces[0].process.forked_child);
  EXPECT_NE(result.traces[0].process.exe.find("fork_exec"), std::string::npos);
}

// A child started with an environment of the program's own making, with
// neither LD_PRELOAD nor NANTRACK_OPTIONS (as `env -i` and harnesses that
// start each test clean do), is traced too: both are put back, and nothing
// else changes (the child sees its FOO=bar). Each way of starting it:
// tests/programs/exec_env.c.
TEST(Exec, AChildStartedWithAnEnvironmentOfItsOwnIsTracedToo) {
  for (const char* mode : {"execle", "execvp", "spawn", "vfork", "preload"}) {
    SCOPED_TRACE(mode);
    const RunResult native = run({program("exec_env"), mode}, {.traced = false});
    const RunResult result = run({program("exec_env"), mode});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, native.out);
    EXPECT_NE(result.out.find("child FOO=bar\n"), std::string::npos);
    int children = 0;
    for (const Trace& trace : result.traces) {
      if (trace.process.argv != std::vector<std::string>{"exec_env", "child"}) continue;
      ++children;
      EXPECT_EQ(blocks_of_size(trace, 10).size(), 1u);
    }
    EXPECT_EQ(children, 1) << result.err;
  }
}

TEST(Exec, FollowChildrenOffLeavesAChildWithItsOwnEnvironmentUntraced) {
  const RunResult result = run({program("exec_env"), "spawn"}, {.nantrack_options = "follow_children=0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "child FOO=bar\nchild exited 0\n");
  ASSERT_EQ(result.traces.size(), 1u);
  EXPECT_EQ(result.traces[0].process.argv[1], "spawn");
}

TEST(Threads, EightThreadsGiveExactCounts) {
  RunResult result = run({program("threads")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  int from_worker = 0;
  for (const LiveBlock* block : blocks_of_size(trace, 100))
    if (stack_has(trace, block->stack, "worker")) ++from_worker;
  EXPECT_EQ(from_worker, 40);
  std::set<uint32_t> threads;
  for (const LiveBlock& block : trace.live_blocks)
    if (stack_has(trace, block.stack, "worker")) threads.insert(block.thread);
  EXPECT_EQ(threads.size(), 8u);
}

// The JVM's threads ask pthread_getattr_np for their stack before they
// allocate anything else, and glibc allocates in there with the thread's
// own lock held. Setting up the thread's unwind state at that first
// allocation asked pthread_getattr_np again, and the thread waited for
// itself for good (`java -version` hung). Its blocks are tracked as any.
TEST(Threads, AFirstAllocationInsidePthreadGetattrNpDoesNotHang) {
  RunResult result = run({program("stack_query")});
  ASSERT_EQ(result.signal, 0) << "SIGALRM: it hung";
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "4 threads know their stacks\n");
  const Trace& trace = result.only_trace();
  int from_threads = 0;
  for (const LiveBlock* block : blocks_of_size(trace, 100))
    if (stack_has(trace, block->stack, "thread_main")) ++from_threads;
  EXPECT_EQ(from_threads, 4);
}

// libunwind takes about 6 KiB of the stack it runs on. A thread with less
// than 8 KiB left is unwound on its unwind stack instead, rather than
// overflow where natively it does not (tests/programs/tight_stack.c: 5 KiB
// left of the 16 KiB minimum, then code without unwind tables, which only
// libunwind unwinds).
TEST(Threads, AThreadShortOfStackIsNotPushedOverTheEdge) {
  const RunResult native = run({program("tight_stack")}, {.traced = false});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  const RunResult traced = run({program("tight_stack")});
  ASSERT_EQ(traced.signal, 0) << traced.err;
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, native.out);
}

// A call made on a stack the program set up itself (a coroutine's, a
// signal handler's alternate stack) is unwound by libunwind, which takes
// about 6 KiB of the stack it runs on. It ran on the program's stack: a
// 16 KiB coroutine stack used to 12,000 bytes, or an 8 KiB alternate stack
// used to 2 KiB, had bytes written below it, in the program's memory (and
// the heap overflows that caused were reported as the program's). It runs
// on the thread's own unwind stack now (tests/programs/own_stacks.c checks
// the bytes below each stack).
TEST(Threads, StacksTheProgramSetsUpAreNotOverrun) {
  const RunResult native = run({program("own_stacks")}, {.traced = false});
  ASSERT_EQ(native.out, "the coroutine stayed on its stack\nthe signal handler stayed on its stack\n") << native.err;
  const RunResult traced = run({program("own_stacks")});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(traced.only_trace().errors.size(), 0u) << traced.err;
}

// A thread stopped for a leak check while its call is unwound on its
// unwind stack has its own stack scanned from where it switched: from its
// stack pointer there, the scan read the unwind stack and missed the
// thread's frames, and a block kept in one of them was reported definite
// (3 snapshots in 20). `tight_stack check` runs 50 checks while a
// short-of-stack thread allocates non-stop; the block it drops stays a
// leak in each. Mostly without the program's mappings as roots: with
// them the thread's whole stack mapping is read anyway, and the test could
// not fail. Without them and without where the thread switched, 1 or 2
// snapshots of 50 went wrong in about one run of three: eight runs.
TEST(Threads, AThreadStoppedWhileUnwoundOnItsUnwindStackIsScannedWhole) {
  constexpr uint8_t kDefinite = 1, kReachable = 4;  // trace_format's leak_kind values
  constexpr int kRunsWithoutMappings = 8;
  for (int run_number = 0; run_number <= kRunsWithoutMappings; ++run_number) {
    const std::string options = run_number < kRunsWithoutMappings ? "scan_mappings=0" : "";
    SCOPED_TRACE(options + " run " + std::to_string(run_number));
    RunResult result = run({program("tight_stack"), "check"}, {.nantrack_options = options});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "50 checks\n");
    const std::vector<const Trace*> snapshots = result.snapshots();
    ASSERT_EQ(snapshots.size(), 50u);
    for (size_t i = 0; i < snapshots.size(); ++i) {
      EXPECT_EQ(leak_kinds_of_size(*snapshots[i], 7777), std::to_string(kReachable)) << "snapshot " << i + 1;
      EXPECT_EQ(leak_kinds_of_size(*snapshots[i], 5555), std::to_string(kDefinite)) << "snapshot " << i + 1;
    }
  }
}

// A thread is stopped for a leak check on its alternate stack: on its own
// stack the kernel's signal frame (3.5 KiB with AVX-512 state) went past
// the end of a thread stopped with little left, and the process died of a
// SIGSEGV. On an AVX-512 machine `tight_stack check` above died so in
// every run; this one dies on any x86-64 without SA_ONSTACK.
TEST(Threads, AThreadStoppedWithNoStackLeftIsStoppedOnItsAlternateStack) {
  const RunResult traced =
      expect_same_output_as_without_us({program("no_stack_left")}, "stopped with 256 bytes of stack left\n");
  EXPECT_EQ(traced.signal, 0) << traced.err;
  EXPECT_EQ(traced.snapshots().size(), 20u);
}

// Our other handlers run on the alternate stack too, for the same frame,
// and the trace they take reads the thread from where the signal
// interrupted it (the handler's own frame is on the alternate stack). A
// thread with 1 KiB of stack left that sent itself the snapshot signal made
// no snapshot: the frame did not fit, the kernel turned the signal into a
// SIGSEGV, our handler took that for a crash and wrote the process's trace,
// and the program went on.
TEST(Threads, ASnapshotSignalToAThreadWithLittleStackLeftIsTaken) {
  constexpr uint8_t kReachable = 4;  // trace_format's leak_kind value
  const RunResult traced = run({program("no_stack_left"), "snapshot"});
  ASSERT_EQ(traced.signal, 0) << traced.err;
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, "signal taken with 1024 bytes of stack left\n");
  const std::vector<const Trace*> snapshots = traced.snapshots();
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 7777), std::to_string(kReachable)) << "kept in the thread's frame";
  EXPECT_NE(leak_kinds_of_size(*snapshots[0], 5555), std::to_string(kReachable)) << "no pointer left to it";
}

// The same with SIGTERM: the process survived it (the SIGSEGV's handler
// returned), where natively it dies of it.
TEST(Threads, AnEndingSignalToAThreadWithLittleStackLeftEndsTheProcessAsNatively) {
  constexpr uint8_t kReachable = 4;  // trace_format's leak_kind value
  const RunResult native = run({program("no_stack_left"), "term"}, {.traced = false});
  ASSERT_EQ(native.signal, SIGTERM) << native.err;
  const RunResult traced = run({program("no_stack_left"), "term"});
  ASSERT_EQ(traced.signal, SIGTERM) << traced.out << traced.err;
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(leak_kinds_of_size(traced.only_trace(), 7777), std::to_string(kReachable)) << "kept in the thread's frame";
}

// A thread's unwind state maps its tables but touches only what it uses: a
// new state used to be cleared, touching 176 KiB of table pages a thread.
TEST(Threads, EachThreadCostsLittleMemory) {
  RunResult native = run({program("many_threads")}, {.traced = false});
  RunResult traced = run({program("many_threads")});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  long native_kb = std::stol(native.out), traced_kb = std::stol(traced.out);
  // About 5 MB for the tracker itself (see /bin/true in the README), then
  // at most 64 KiB for each of the 200 threads.
  EXPECT_LT(traced_kb - native_kb, 5 * 1024 + 200 * 64) << native_kb << " kB natively, " << traced_kb << " kB traced";
}

}  // namespace
}  // namespace nantrack::testing
