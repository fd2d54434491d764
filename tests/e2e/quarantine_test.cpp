// The quarantine's limits hold for the whole process: threads free into
// their own shards (tracker/block_table.h), yet what all of them hold back
// from libc together stays within quarantine_bytes.
#include <gtest/gtest.h>

#include <climits>
#include <csignal>
#include <cstdlib>
#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// What quarantine_threads prints: KiB libc counts in use after every block
// was freed. Without that line the test fails (and no bound is met).
long kib_in_use(const RunResult& result) {
  const std::string label = "in use after the frees: ";
  size_t at = result.out.find(label);
  if (at == std::string::npos) {
    ADD_FAILURE() << "quarantine_threads printed no '" << label << "' line: " << result.out << result.err;
    return LONG_MAX;
  }
  return std::strtol(result.out.c_str() + at + label.size(), nullptr, 10);
}

TEST(Quarantine, ItsByteLimitHoldsForAllThreadsTogether) {
  RunResult native = run({program("quarantine_threads")}, {.traced = false});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  EXPECT_LT(kib_in_use(native), 64) << native.out;

  // 4 threads free 8 MiB in 1 KiB blocks; 1 MiB may stay in quarantine,
  // plus what the 32 shards the 4 threads use have not yet counted (a batch
  // of 1 MiB / 256 each: 128 KiB) and the guard bytes and libc's headers
  // around each block (5%). A finished thread's shards left holding their
  // share (no evict_elsewhere) gave 1,275-1,437 KiB.
  RunResult traced = run({program("quarantine_threads")}, {.nantrack_options = "quarantine_bytes=1m"});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  long held = kib_in_use(traced);
  EXPECT_LE(held, (1024 + 128) * 105 / 100) << traced.out;
  EXPECT_GE(held, 1024 / 2) << "the quarantine holds freed blocks back: " << traced.out;
}

// The free fill writes every byte of a quarantined block. A block libc
// mapped for itself may have pages the program protected (a coroutine
// stack's guard page), which free() itself never touches: the fill
// faulted there, and killed a program that runs fine without us.
TEST(Quarantine, AFreedBlockWithProtectedPagesIsFilledWithoutAFault) {
  const RunResult result = run({program("guard_page")});
  EXPECT_EQ(result.signal, 0) << result.err;
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "survived\n");
  EXPECT_TRUE(result.only_trace().errors.empty()) << "no write after free is invented";
}

// A smaller block, from libc's heap, with a page still protected faults in
// the free fill, inside nantrack's block tables, where the crash-time trace
// cannot list the blocks live. The report said "no leaks, no errors" with
// a block still live; it now says it cannot know. (Natively the program
// goes on: that fault is a limit the README states.)
TEST(Quarantine, ACrashInsideTheBlockTablesLeavesTheLeaksUnknownNotNone) {
  const RunResult native = run({program("protected_heap_page")}, {.traced = false});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(native.out, "freed\n");

  const RunResult traced = run({program("protected_heap_page")});
  EXPECT_EQ(traced.signal, SIGSEGV) << traced.err;
  const Trace& trace = traced.only_trace();
  EXPECT_TRUE(trace.process.crashed);
  EXPECT_TRUE(trace.process.live_blocks_unknown);
  EXPECT_TRUE(trace.live_blocks.empty());

  const RunResult report = nantrack({"run", "--", program("protected_heap_page")});
  EXPECT_EQ(report.signal, SIGSEGV) << report.err;
  EXPECT_NE(report.err.find("note: the process was killed by signal 11 (SIGSEGV) while inside nantrack's block "
                            "tables: the blocks live at that moment could not be listed, so what it leaked is unknown"),
            std::string::npos)
      << report.err;
  EXPECT_NE(report.err.find("SUMMARY: nantrack: leaks unknown; no errors."), std::string::npos) << report.err;
  EXPECT_EQ(report.err.find("no leaks"), std::string::npos) << report.err;
}

// A freed block stays in quarantine for about quarantine_blocks frees
// whichever shard its address falls in. Each shard gave up its own oldest
// blocks, and with the heap across two 64 MiB groups of shards one shard
// came to be freed into most and held a twelfth of the limit: some of 64
// blocks freed 20,000 frees before (of 65,536 held by default) had left
// quarantine, and freeing them again went unseen as a double free.
//
// The program makes sure its heap spans two groups (not around a 2 GiB
// boundary, where both units fall in one). Within one group each shard
// holds at most an eighth of the limit, and gives up its own oldest when
// full: a block freed into a shard taking more than its share of the
// frees goes earlier. With the units sharing a group (one run in 32) the
// test failed 3 times in about 1,100 runs. 20,000 frees stay well within
// what a shard holds at up to 40% of the frees (the most seen was 18%).
TEST(Quarantine, AFreedBlockStaysForTheLimitWhicheverShardHoldsIt) {
  const RunResult native = run({program("quarantine_window"), "100000", "20000"}, {.traced = false});
  ASSERT_EQ(native.exit_code, 0) << native.err;
  ASSERT_EQ(native.out, "done\n");

  const RunResult traced = run({program("quarantine_window"), "1000000", "20000", "again"});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(traced.out, "done\n");
  uint64_t caught = 0;
  for (const ErrorEvent& error : traced.only_trace().errors) {
    EXPECT_EQ(error.kind, ErrorKind::DoubleFree) << "every marker is still in quarantine";
    EXPECT_TRUE(stack_has(traced.only_trace(), error.stack, "free_markers_again"));
    EXPECT_TRUE(stack_has(traced.only_trace(), error.free_stack, "free_markers"));
    caught += error.occurrences;
  }
  EXPECT_EQ(caught, 64u);
}

// A block leaves quarantine into the libc cache (tcache) of the thread
// that releases it, and that thread's next malloc of its size hands it
// out, whichever thread's arena it belongs to. A thread freeing into
// another's shards (a consumer freeing a producer's blocks) released that
// thread's oldest blocks as it went, took them into its own mallocs, and
// freed them into the other's shards again: a fifth of the consumer's
// blocks came to be the producer's, and both threads' locks and lines were
// shared. Now a shard another thread frees into under the shared limits'
// pressure is left to that thread to empty. `arena_locality` takes turns
// so that neither thread runs ahead (asked blocks wait for their thread's
// next turn at most): 33,000-47,000 of 200,000 blocks came from the other
// thread's heap before, 300-1,300 now, with the machine idle or busy.
TEST(Quarantine, AThreadFreeingIntoAnothersShardsLeavesTheirBlocksToIt) {
  const RunResult traced = run({program("arena_locality")});
  ASSERT_EQ(traced.exit_code, 0) << traced.out << traced.err;
  const std::string label = "blocks from the other thread's heap: ";
  const size_t at = traced.out.find(label);
  ASSERT_NE(at, std::string::npos) << traced.out;
  EXPECT_LT(std::strtol(traced.out.c_str() + at + label.size(), nullptr, 10), 10000) << traced.out;
}

TEST(Quarantine, OffItHoldsNothing) {
  RunResult traced = run({program("quarantine_threads")}, {.nantrack_options = "quarantine_bytes=0"});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_LT(kib_in_use(traced), 64) << traced.out;
}

}  // namespace
}  // namespace nantrack::testing
