// Heap overflows and writes after free: seen through the guard bytes and
// the free fill when a block is freed, leaves quarantine, or at exit;
// reported on stderr and in the trace with the block's stacks, and the
// program goes on to exit 0.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

struct Overflow {
  const char* mode;
  OverflowSide side;
  uint32_t bytes_changed;
  uint64_t first_changed_offset;
  uint64_t block_size;
  const char* message;  // in the stderr line
};

void PrintTo(const Overflow& overflow, std::ostream* out) { *out << overflow.mode; }

class Overflows : public ::testing::TestWithParam<Overflow> {};

TEST_P(Overflows, ReportedWhenTheBlockIsFreed) {
  const Overflow& expected = GetParam();
  RunResult result = run({program("heap_corruption"), expected.mode});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "survived\n");
  EXPECT_NE(result.err.find(std::string("nantrack: ") + expected.message), std::string::npos) << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << result.err;
  const ErrorEvent& error = trace.errors[0];
  EXPECT_EQ(error.kind, ErrorKind::HeapOverflow);
  EXPECT_EQ(error.overflow_side, expected.side);
  EXPECT_EQ(error.bytes_changed, expected.bytes_changed);
  EXPECT_EQ(error.first_changed_offset, expected.first_changed_offset);
  EXPECT_EQ(error.block_size, expected.block_size);
  EXPECT_NE(error.dealloc_kind, DeallocKind::None);  // found by the free
  EXPECT_TRUE(stack_has(trace, error.stack, "main"));
  EXPECT_TRUE(stack_has(trace, error.alloc_stack, "main"));
  EXPECT_EQ(error.free_stack, 0u);  // the bad call's stack is the free
}

INSTANTIATE_TEST_SUITE_P(
    BothEnds, Overflows,
    ::testing::Values(
        Overflow{"malloc_after", OverflowSide::After, 1, 24, 24, "heap overflow: 1 byte after the 24-byte block"},
        Overflow{"malloc_before", OverflowSide::Before, 1, 1, 24, "heap overflow: 1 byte before the 24-byte block"},
        Overflow{"new_array_after", OverflowSide::After, 1, 40, 40, "heap overflow: 1 byte after the 40-byte block"},
        Overflow{"new_array_before", OverflowSide::Before, 2, 1, 40,
                 "heap overflow: 2 bytes before the 40-byte block"},
        Overflow{"aligned_after", OverflowSide::After, 1, 64, 64, "heap overflow: 1 byte after the 64-byte block"},
        Overflow{"aligned_before", OverflowSide::Before, 1, 1, 64, "heap overflow: 1 byte before the 64-byte block"}),
    [](const ::testing::TestParamInfo<Overflow>& info) { return std::string(info.param.mode); });

TEST(HeapOverflow, FreeStackIsTheBadCallAndAllocationStackIsKept) {
  RunResult result = run({program("heap_corruption"), "malloc_after"});
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_TRUE(stack_has(trace, trace.errors[0].stack, "release_here"));
  EXPECT_TRUE(stack_has(trace, trace.errors[0].alloc_stack, "allocate_here"));
  EXPECT_NE(result.err.find("allocated here:"), std::string::npos);
}

TEST(HeapOverflow, OfALiveBlockIsFoundAtExit) {
  RunResult result = run({program("heap_corruption"), "live_after"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("heap overflow: 3 bytes after the 24-byte block"), std::string::npos) << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u);
  EXPECT_EQ(trace.errors[0].dealloc_kind, DeallocKind::None);
  EXPECT_EQ(trace.errors[0].bytes_changed, 3u);
  EXPECT_TRUE(stack_has(trace, trace.errors[0].alloc_stack, "allocate_here"));
  EXPECT_EQ(blocks_of_size(trace, 24).size(), 1u);  // still a leak as well
}

TEST(HeapOverflow, FoundAtExitDoesNotAbortAndTheTraceIsComplete) {
  RunResult result = run({program("heap_corruption"), "live_after"}, {.nantrack_options = "abort_on_error=1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.only_trace().errors.size(), 1u);
}

TEST(HeapOverflow, AbortOnErrorStopsAtTheFree) {
  RunResult result = run({program("heap_corruption"), "malloc_after"}, {.nantrack_options = "abort_on_error=1"});
  EXPECT_EQ(result.signal, SIGABRT);
  EXPECT_EQ(result.out.find("survived"), std::string::npos);
  EXPECT_EQ(result.only_trace().errors.size(), 1u);
}

TEST(HeapOverflow, NotSeenWithRedzonesOff) {
  RunResult result = run({program("heap_corruption"), "live_after"}, {.nantrack_options = "redzone=0"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(result.only_trace().errors.empty()) << result.err;
}

TEST(HeapOverflow, WritingUpToUsableSizeIsFine) {
  RunResult result = run({program("heap_corruption"), "usable_size"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(result.only_trace().errors.empty()) << result.err;
}

// realloc keeps the block where libc's raw block has room, and its guard
// bytes follow the new size. Each mode reallocs in place and overflows once.
RunResult run_in_place_realloc(const char* mode) {
  RunResult result = run({program("heap_corruption"), mode});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "in place\nsurvived\n");
  const Trace& trace = result.only_trace();
  EXPECT_EQ(trace.errors.size(), 1u) << result.err;
  for (const ErrorEvent& error : trace.errors) EXPECT_EQ(error.kind, ErrorKind::HeapOverflow);
  return result;
}

// A write one byte past the end of a block main() resized to `size`.
void expect_overflow_past_resized_end(const Trace& trace, const ErrorEvent& error, uint64_t size) {
  EXPECT_EQ(error.kind, ErrorKind::HeapOverflow);
  EXPECT_EQ(error.overflow_side, OverflowSide::After);
  EXPECT_EQ(error.block_size, size);
  EXPECT_EQ(error.first_changed_offset, size);
  EXPECT_EQ(error.alloc_kind, AllocKind::Realloc);
  EXPECT_TRUE(stack_has(trace, error.alloc_stack, "main"));
}

TEST(Realloc, ShrinkingInPlaceMovesTheBackRedzone) {
  RunResult result = run_in_place_realloc("realloc_shrink_after");
  const Trace& trace = result.only_trace();
  ASSERT_FALSE(trace.errors.empty());
  expect_overflow_past_resized_end(trace, trace.errors[0], 8);
}

TEST(Realloc, GrowingInPlaceChecksTheRedzonesFirst) {
  RunResult result = run_in_place_realloc("realloc_grow_before");
  const Trace& trace = result.only_trace();
  ASSERT_FALSE(trace.errors.empty());
  const ErrorEvent& error = trace.errors[0];
  EXPECT_EQ(error.overflow_side, OverflowSide::Before);
  EXPECT_EQ(error.dealloc_kind, DeallocKind::Realloc);
  EXPECT_EQ(error.block_size, 20u);
  EXPECT_EQ(trace.counters.allocations, trace.counters.frees + trace.live_blocks.size()) << "realloc: one of each";
}

// Without libc's realloc for large blocks every step would copy the whole
// buffer, and this run would not end before the test's timeout.
TEST(Realloc, LargeBlocksGrowWithLibcAndKeepTheirGuardBytes) {
  RunResult result = run({program("heap_corruption"), "realloc_large_grow"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "survived\n");
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << result.err;
  expect_overflow_past_resized_end(trace, trace.errors[0], uint64_t{128} << 20);
  for (const LiveBlock& block : trace.live_blocks) EXPECT_NE(block.kind, AllocKind::Realloc) << block.size;
  EXPECT_EQ(trace.counters.allocations, trace.counters.frees + trace.live_blocks.size()) << "realloc: one of each";
}

// malloc_fill covers only the bytes a resize added, never the data kept.
TEST(Realloc, LargeBlocksKeepTheirContentsUnderMallocFill) {
  RunResult result = run({program("heap_corruption"), "realloc_large_grow"}, {.nantrack_options = "malloc_fill=171"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "survived\n");
}

TEST(Realloc, LargeBlockLibcCannotGrowStaysTracked) {
  RunResult result = run({program("heap_corruption"), "realloc_large_refused"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "refused\nsurvived\n");
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(trace.errors.empty()) << result.err;
  for (const LiveBlock& block : trace.live_blocks) EXPECT_FALSE(stack_has(trace, block.stack, "allocate_here"));
}

TEST(WriteAfterFree, CaughtWhenTheBlockLeavesQuarantine) {
  // 64 blocks in quarantine at most: the churn evicts the damaged block.
  RunResult result = run({program("heap_corruption"), "write_after_free_evicted"},
                         {.nantrack_options = "quarantine_blocks=64"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("write after free: 8 bytes at offset 8 of the freed 32-byte block"), std::string::npos)
      << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << result.err;
  const ErrorEvent& error = trace.errors[0];
  EXPECT_EQ(error.kind, ErrorKind::WriteAfterFree);
  EXPECT_EQ(error.dealloc_kind, DeallocKind::None);
  EXPECT_EQ(error.bytes_changed, 8u);
  EXPECT_EQ(error.first_changed_offset, 8u);
  EXPECT_TRUE(stack_has(trace, error.alloc_stack, "allocate_here"));
  EXPECT_TRUE(stack_has(trace, error.free_stack, "release_here"));
  EXPECT_NE(result.err.find("freed here:"), std::string::npos);
}

TEST(WriteAfterFree, CaughtAtExit) {
  RunResult result = run({program("heap_corruption"), "write_after_free_at_exit"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  ASSERT_EQ(trace.errors.size(), 1u) << result.err;
  EXPECT_EQ(trace.errors[0].kind, ErrorKind::WriteAfterFree);
  EXPECT_EQ(trace.errors[0].first_changed_offset, 0u);
  EXPECT_EQ(trace.errors[0].bytes_changed, 8u);
  EXPECT_TRUE(stack_has(trace, trace.errors[0].free_stack, "release_here"));
}

TEST(WriteAfterFree, NotSeenWithFreeFillOff) {
  RunResult result = run({program("heap_corruption"), "write_after_free_at_exit"}, {.nantrack_options = "free_fill=-1"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(result.only_trace().errors.empty()) << result.err;
}

// Every allocation function keeps its alignment with a redzone that is no
// multiple of it (alloc_functions.c and new_delete.cpp check alignments).
TEST(Redzones, KeepEveryAlignmentGuarantee) {
  for (const char* name : {"alloc_functions", "new_delete"}) {
    RunResult result = run({program(name)}, {.nantrack_options = "redzone=48"});
    EXPECT_EQ(result.out, "checks: 0 failed\n") << name;
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(result.only_trace().errors.empty()) << result.err;
  }
}

TEST(MallocFill, FillsNewBlocksButNotCalloc) {
  RunResult result = run({program("alloc_functions")}, {.nantrack_options = "malloc_fill=190"});
  EXPECT_EQ(result.out, "checks: 0 failed\n");  // calloc's blocks still read as zero
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

}  // namespace
}  // namespace nantrack::testing
