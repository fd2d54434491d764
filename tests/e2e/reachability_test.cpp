// The leak scan on real programs, each case checked against valgrind 3.19
// (`valgrind --leak-check=full --show-leak-kinds=all` on the same binary,
// run once; its numbers are written beside each expectation).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// trace_format's leak_kind values.
constexpr uint8_t kDefinite = 1, kIndirect = 2, kPossible = 3, kReachable = 4;

class ReachabilityProgram : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { result_ = new RunResult(run({program("reachability")})); }
  static void TearDownTestSuite() { delete result_; }

  static std::string kinds_of_size(uint64_t size) { return leak_kinds_of_size(result_->only_trace(), size); }

  static RunResult* result_;
};
RunResult* ReachabilityProgram::result_ = nullptr;

TEST_F(ReachabilityProgram, RanToTheEnd) {
  EXPECT_EQ(result_->exit_code, 0) << result_->err;
  EXPECT_EQ(result_->out, "reachability ready\n");
}

// valgrind: "2,002 (1,001 direct, 1,001 indirect) bytes in 1 blocks are definitely lost".
TEST_F(ReachabilityProgram, LeakedCycleIsOneDefiniteAndOneIndirect) {
  EXPECT_EQ(kinds_of_size(1001), std::to_string(kDefinite) + " " + std::to_string(kIndirect));
}

// valgrind: "11,032 (1,002 direct, 10,030 indirect) bytes in 1 blocks are definitely lost".
TEST_F(ReachabilityProgram, LeakedTreeIsADefiniteRootWithTenIndirectChildren) {
  EXPECT_EQ(kinds_of_size(1002), std::to_string(kDefinite));
  std::string ten_indirect;
  for (int i = 0; i < 10; ++i) ten_indirect += (i ? " " : "") + std::to_string(kIndirect);
  EXPECT_EQ(kinds_of_size(1003), ten_indirect);
}

// valgrind: still reachable, for each of the three.
TEST_F(ReachabilityProgram, ReachableFromAGlobalALiveThreadsStackAndTls) {
  EXPECT_EQ(kinds_of_size(1004), std::to_string(kReachable)) << "global";
  EXPECT_EQ(kinds_of_size(1005), std::to_string(kReachable)) << "stack of a thread blocked in read()";
  EXPECT_EQ(kinds_of_size(1006), std::to_string(kReachable)) << "main thread's __thread variable";
}

// valgrind: "1,007 bytes in 1 blocks are possibly lost".
TEST_F(ReachabilityProgram, OnlyAnInteriorPointerMakesItPossible) {
  EXPECT_EQ(kinds_of_size(1007), std::to_string(kPossible));
}

// valgrind: definitely lost, both.
TEST_F(ReachabilityProgram, DeadStackFrameAndSelfPointerDoNotHideALeak) {
  EXPECT_EQ(kinds_of_size(1008), std::to_string(kDefinite)) << "pointer left in a returned frame";
  EXPECT_EQ(kinds_of_size(1009), std::to_string(kDefinite)) << "block pointing to itself";
}

// Each thread's stack is scanned from its stack pointer to the end of its
// own mapping, all found in one read of the process's mappings: a block
// each thread keeps on its stack is reachable, and one it left in a dead
// frame below stays leaked (a range reaching into another thread's stack
// would take in that thread's dead frames). More threads than the 1,024
// the stop has static room for: every one of them stops.
TEST(Reachability, EveryBlockedThreadsLiveStackIsARootAndOnlyThat) {
  constexpr int kThreads = 1100;
  RunResult result = run({program("reachability"), std::to_string(kThreads)});
  ASSERT_EQ(result.out, "reachability ready\n") << result.err;
  EXPECT_EQ(result.err.find("could not be stopped"), std::string::npos) << result.err;
  auto all = [&](uint8_t kind) {
    std::string kinds;
    for (int i = 0; i < kThreads; ++i) kinds += (i ? " " : "") + std::to_string(kind);
    return kinds;
  };
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 1010), all(kReachable));
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 1011), all(kDefinite));
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 1005), std::to_string(kReachable));
}

// Every loaded module's globals are roots, however many modules: 1,100
// copies of a plugin, each keeping its block in its own global.
TEST(Reachability, TheGlobalsOfEveryLoadedModuleAreRoots) {
  constexpr int kPlugins = 1100;
  TempDir copies;
  RunResult result =
      run({program("many_plugins"), program("libleaky_plugin.so"), copies.path(), std::to_string(kPlugins)});
  ASSERT_EQ(result.out, "loaded " + std::to_string(kPlugins) + " plugins\n") << result.err;
  std::string all_reachable;
  for (int i = 0; i < kPlugins; ++i) all_reachable += (i ? " " : "") + std::to_string(kReachable);
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4242), all_reachable);
}

// Threads that block every signal cannot be stopped for the scan; waiting
// in a system call, their stacks are read where /proc says they stand. No
// wait for an answer that cannot come, no false leak.
TEST(Reachability, ThreadsBlockingEverySignalStillHaveTheirStacksRead) {
  constexpr int kThreads = 20;
  RunResult result = run({program("reachability"), std::to_string(kThreads), "masked"});
  ASSERT_EQ(result.out, "reachability ready\n") << result.err;
  EXPECT_EQ(result.err.find("did not stop"), std::string::npos) << result.err;
  std::string reachable, definite;
  for (int i = 0; i < kThreads; ++i) {
    reachable += (i ? " " : "") + std::to_string(kReachable);
    definite += (i ? " " : "") + std::to_string(kDefinite);
  }
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 1010), reachable) << "on each blocked thread's stack";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 1011), definite) << "in a dead frame below it";
}

// A thread in sigwait() for every signal has none blocked while it waits
// (the wait unblocks them), and would take the scan's stop signal as the
// program's own: its stack is read where it stands instead, and it gets
// nothing.
TEST(Reachability, TheProgramsSignalThreadIsNotSentTheStopSignal) {
  RunResult result = run({program("signal_thread")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "started\n") << result.err;
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 2024), std::to_string(kReachable));
}

// The waits a signal handler cuts short whatever SA_RESTART says (poll,
// epoll_wait, select, nanosleep, a futex wait with a timeout, pause) are
// made again after the stop, as after a stop that runs no handler: the
// program's threads go on waiting and never see an EINTR that natively
// does not come (tests/programs/interrupted_waits.c exits 3 on one). The
// one the program's own signal causes still reaches it. Their registers
// and stacks are read as any stopped thread's: each one's block is
// reachable.
TEST(Reachability, WaitsTheStopSignalCutShortAreMadeAgain) {
  auto all_reachable = [](const Trace& trace) {
    for (uint64_t size = 5001; size <= 5007; ++size)
      EXPECT_EQ(leak_kinds_of_size(trace, size), std::to_string(kReachable)) << size << "-byte block";
  };
  RunResult at_exit = run({program("interrupted_waits")});
  ASSERT_EQ(at_exit.exit_code, 0) << at_exit.err;
  EXPECT_EQ(at_exit.out, "waiting\n");
  EXPECT_EQ(at_exit.err, "");
  all_reachable(at_exit.only_trace());

  const RunResult native = run({program("interrupted_waits"), "check"}, {.traced = false});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(native.out,
            "poll: ready\npoll with a timeout: timed out\nepoll_wait: ready\nselect: ready\nnanosleep: slept\n"
            "sem_timedwait: timed out\npause: interrupted by SIGUSR1\n");
  RunResult checked = run({program("interrupted_waits"), "check"});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_EQ(checked.out, native.out);
  EXPECT_EQ(checked.err, "");
  ASSERT_EQ(checked.snapshots().size(), 1u);
  all_reachable(*checked.snapshots()[0]);
}

// valgrind: 3,001 still reachable, 3,002 definitely lost. Each thread is
// blocked in read() at exit with the block's only copy in r12 (or none).
TEST(Reachability, OnlyARegisterOfAThreadBlockedInASyscallKeepsItReachable) {
  RunResult result = run({program("register_root")});
  ASSERT_EQ(result.out, "register_root ready\n") << result.err;
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 3001), std::to_string(kReachable)) << "kept in r12";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 3002), std::to_string(kDefinite)) << "r12 cleared";
}

// A dlopen'd module's __thread variable lives in a block glibc mallocs
// lazily, found only through the thread's TLS vector. valgrind: the main
// thread's (2,001) still reachable; the other thread's (2,002) possibly
// lost, because it reaches that thread's DTV only through the interior
// pointer glibc keeps in the TCB. nantrack scans every DTV as a root, so
// both are reachable.
TEST(Reachability, DlopenedModulesTlsIsARootOnEveryThread) {
  RunResult result = run({program("dlopen_tls")});
  ASSERT_EQ(result.out, "dlopen_tls ready\n") << result.err;
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 2001), std::to_string(kReachable)) << "main thread";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 2002), std::to_string(kReachable)) << "second thread";
}

TEST(Reachability, CxxRuntimeLeavesNoDefiniteLeak) {
  RunResult result = run({program("cxx_runtime")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const LiveBlock& block : result.only_trace().live_blocks)
    EXPECT_NE(block.leak_kind, kDefinite) << block.size << " bytes at " << block.address;
}

TEST(Reachability, FatalSignalLeavesBlocksUnscanned) {
  RunResult result = run({program("exit_modes"), "segv"});
  for (const LiveBlock& block : result.only_trace().live_blocks) EXPECT_EQ(block.leak_kind, 0);
}

// leak_scan=0: no scan, so the reachable global and the leaked cycle alike
// go out unclassified (the report counts them definite).
TEST(Reachability, LeakScanOffLeavesEveryBlockUnscanned) {
  RunResult result = run({program("reachability")}, {.nantrack_options = "leak_scan=0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_FALSE(blocks_of_size(trace, 1004).empty());
  for (const LiveBlock& block : trace.live_blocks) EXPECT_EQ(block.leak_kind, 0) << block.size;
}

// Threads still allocating while main returns (busy_threads_at_exit.c)
// hold their blocks when the process ends; those they allocate after the
// trace was written come in late records. Before, those counted as
// definite leaks: 5 to 43 in every run. They are now reachable (the
// report says they were not checked); main's own leak stays definite.
TEST(Reachability, BlocksThatBusyThreadsAllocateAfterTheCheckAreNotLeaks) {
  for (int run_number = 0; run_number < 3; ++run_number) {
    SCOPED_TRACE(run_number);
    const RunResult result = run({program("busy_threads_at_exit")});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const Trace& trace = result.only_trace();
    EXPECT_EQ(leak_kinds_of_size(trace, 2101), "1");
    for (const LiveBlock& block : trace.live_blocks) {
      if (block.size >= 48 && block.size < 64) {
        EXPECT_EQ(block.leak_kind, 4) << block.size;
      }
    }
  }
}

// Two threads checking for leaks at once (tests/programs/concurrent_checks.c):
// one's check waits, on the stack nantrack maps for checks, while the
// other's scans; the scan stops it there and must read its own stack from
// where it left it. Read from where it was stopped, the block it keeps in
// a local looked leaked: 24 to 56 of 60 checks without the program's
// mappings as roots (which otherwise read that stack whole, by luck).
TEST(Reachability, AThreadWaitingInItsOwnCheckIsScannedOnItsOwnStack) {
  for (const char* options : {"scan_mappings=0", ""}) {
    SCOPED_TRACE(options);
    const RunResult result = run({program("concurrent_checks")}, {.nantrack_options = options});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "checks that found a leak: 0\n") << result.err;
  }
}

// The same when the other thread is in the snapshot handler (a timer
// sends it the snapshot signal every millisecond): it runs on the thread's
// alternate signal stack, and a scan that stops it there must still read
// the thread's own stack. Read from the handler's frames, its block looked
// leaked in 26 of 30 checks without the program's mappings as roots.
TEST(Reachability, AThreadInTheSnapshotHandlerIsScannedOnItsOwnStack) {
  for (const char* options : {"scan_mappings=0", ""}) {
    SCOPED_TRACE(options);
    const RunResult result = run({program("concurrent_checks"), "signal"}, {.nantrack_options = options});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "checks that found a leak: 0\n") << result.err;
    EXPECT_GE(result.snapshots().size(), 5u);
  }
}

// Memory the program maps for itself (tests/programs/mapped_roots.c) is
// read as valgrind reads it, LeakSanitizer not: before, a block whose only
// pointer was kept there was a definite leak (CPython's object pools made
// every run of `python3 -c 'print(1)'` leak 13,628 bytes, and the gate
// fail). valgrind: 2,001 and 2,007,000 still reachable, 2,002 definitely
// lost.
TEST(ProgramMappings, ABlockKeptOnlyInTheProgramsOwnMappingIsReachable) {
  const RunResult arena = run({program("mapped_roots"), "arena"});
  ASSERT_EQ(arena.out, "arena done\n") << arena.err;
  EXPECT_EQ(leak_kinds_of_size(arena.only_trace(), 2001), std::to_string(kReachable));
  EXPECT_EQ(leak_kinds_of_size(arena.only_trace(), 2002), std::to_string(kDefinite));

  const RunResult many = run({program("mapped_roots"), "many"});
  ASSERT_EQ(many.out, "many done\n") << many.err;
  std::string all_reachable;
  for (int i = 0; i < 1000; ++i) all_reachable += (i ? " " : "") + std::to_string(kReachable);
  EXPECT_EQ(leak_kinds_of_size(many.only_trace(), 2007), all_reachable);

  // As LeakSanitizer, with the option off.
  const RunResult off = run({program("mapped_roots"), "arena"}, {.nantrack_options = "scan_mappings=0"});
  EXPECT_EQ(leak_kinds_of_size(off.only_trace(), 2001), std::to_string(kDefinite));
}

// What the program maps for itself is read; what only looks like it is
// not: glibc keeps an exited thread's stack, stale frames and all, for the
// next thread, and a freed block's stale words lie in a mapping of glibc's
// own (a freed 1 MiB block) or in another arena's heap. Read as roots, each
// of these kept its leak reachable. valgrind: all three definitely lost.
TEST(ProgramMappings, StacksOfExitedThreadsAndFreedBlocksKeepNoLeak) {
  const RunResult exited = run({program("mapped_roots"), "exited"});
  ASSERT_EQ(exited.out, "exited done\n") << exited.err;
  EXPECT_EQ(leak_kinds_of_size(exited.only_trace(), 2003), std::to_string(kDefinite));
  // Without the free fill, freed blocks keep the pointers written there.
  const RunResult freed = run({program("mapped_roots"), "freed"}, {.nantrack_options = "free_fill=-1"});
  ASSERT_EQ(freed.out, "freed done\n") << freed.err;
  EXPECT_EQ(leak_kinds_of_size(freed.only_trace(), 2004), std::to_string(kDefinite)) << "in a freed 1 MiB block";
  EXPECT_EQ(leak_kinds_of_size(freed.only_trace(), 2005), std::to_string(kDefinite)) << "in another arena's heap";
}

// A forked child has one thread; the stacks of the parent's others stay
// mapped in it, with what they held at the fork. That is not the child's
// leak: a multithreaded program whose children end with _exit() (Python's
// multiprocessing) had every block another thread held counted definite
// in every child. valgrind calls it definitely lost.
TEST(ProgramMappings, AForkChildDoesNotLeakWhatTheParentsOtherThreadsHeld) {
  const RunResult result = run({program("mapped_roots"), "fork"});
  ASSERT_EQ(result.out, "fork done\n") << result.err;
  ASSERT_EQ(result.traces.size(), 2u);
  const Trace& child = result.traces[1].process.ppid == result.traces[0].process.pid ? result.traces[1] : result.traces[0];
  EXPECT_EQ(leak_kinds_of_size(child, 2006), std::to_string(kReachable));
}

}  // namespace
// The scan stops threads with a signal of its own. A program that took
// that signal for itself (tests/programs/stop_signal_taken.c) neither gets
// it nor keeps its threads from stopping: the scan moves to a signal the
// program leaves alone, and finds the block one thread keeps on its stack.
TEST(StopSignal, AProgramsOwnHandlerForItNeitherSeesTheScanNorHidesAThread) {
  const RunResult native = run({program("stop_signal_taken")}, {.traced = false});
  const RunResult traced = run({program("stop_signal_taken")});
  EXPECT_EQ(native.out, "handler saw 0 signals\n");
  EXPECT_EQ(traced.out, native.out);
  EXPECT_EQ(traced.err.find("did not stop"), std::string::npos) << traced.err;
  EXPECT_EQ(leak_kinds_of_size(traced.only_trace(), 4444), std::to_string(kReachable));
  EXPECT_EQ(leak_kinds_of_size(traced.only_trace(), 5555), std::to_string(kDefinite));
}

}  // namespace nantrack::testing
