// Every interposed allocation function, through real programs: libc's
// semantics hold inside the traced program, and each leaked block is in the
// trace with its exact size, its kind and a stack through main.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

void expect_one_block(const Trace& trace, uint64_t size, AllocKind kind) {
  auto blocks = blocks_of_size(trace, size);
  ASSERT_EQ(blocks.size(), 1u) << "blocks of " << size << " bytes";
  EXPECT_EQ(blocks[0]->kind, kind) << "block of " << size << " bytes";
  EXPECT_TRUE(stack_has(trace, blocks[0]->stack, "main")) << "block of " << size << " bytes";
}

TEST(AllocationFunctions, CFunctionsKeepLibcSemanticsAndAreTracked) {
  RunResult result = run({program("alloc_functions")});
  EXPECT_EQ(result.out, "checks: 0 failed\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  expect_one_block(trace, 1001, AllocKind::Malloc);
  expect_one_block(trace, 1002, AllocKind::Calloc);
  expect_one_block(trace, 1003, AllocKind::Realloc);
  expect_one_block(trace, 1004, AllocKind::Realloc);
  expect_one_block(trace, 1005, AllocKind::PosixMemalign);
  expect_one_block(trace, 1024, AllocKind::AlignedAlloc);
  expect_one_block(trace, 1007, AllocKind::Memalign);
  expect_one_block(trace, 1008, AllocKind::Valloc);
  // pvalloc(100) hands out a whole page (stdio's buffer is 4096 bytes too).
  auto pages = blocks_of_size(trace, 4096);
  EXPECT_EQ(std::count_if(pages.begin(), pages.end(), [](auto* block) { return block->kind == AllocKind::Pvalloc; }), 1);
  // Nothing that was freed (malloc(0) twice, realloc(p, 0), ...) is left.
  EXPECT_TRUE(blocks_of_size(trace, 0).empty());
  EXPECT_TRUE(blocks_of_size(trace, 50).empty());
  for (uint64_t size = 77; size <= 80; ++size) EXPECT_TRUE(blocks_of_size(trace, size).empty()) << size;
  EXPECT_TRUE(trace.errors.empty()) << result.err;
}

TEST(AllocationFunctions, EveryOperatorNewAndDeleteIsTracked) {
  RunResult result = run({program("new_delete")});
  EXPECT_EQ(result.out, "checks: 0 failed\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  expect_one_block(trace, 2001, AllocKind::New);
  expect_one_block(trace, 2002, AllocKind::NewArray);
  expect_one_block(trace, 2003, AllocKind::NewAligned);
  expect_one_block(trace, 2004, AllocKind::NewArrayAligned);
  expect_one_block(trace, 2005, AllocKind::New);
  expect_one_block(trace, 2006, AllocKind::NewArray);
  for (uint64_t size = 10; size <= 21; ++size) EXPECT_TRUE(blocks_of_size(trace, size).empty()) << size;
  // Every delete matched its new: no mismatch reported.
  EXPECT_TRUE(trace.errors.empty()) << result.err;
}

// A program linked with an allocator of its own in a shared library (as
// redis-server is with jemalloc) keeps using it under us, and its blocks
// are tracked. Blocks of a page or more start their own mapping there, with
// nothing readable before them: nantrack read glibc's chunk header there
// when such a block was freed, and redis-server died of SIGSEGV.
TEST(AllocationFunctions, AnAllocatorLinkedInAsALibraryIsForwardedToAndTracked) {
  RunResult result = expect_same_output_as_without_us({program("next_allocator")}, "kept across a realloc, sum 45\n");
  const Trace& trace = result.only_trace();
  EXPECT_FALSE(trace.process.own_allocator);
  auto leaked = blocks_of_size(trace, 5000);
  ASSERT_EQ(leaked.size(), 1u) << result.err;
  EXPECT_TRUE(stack_has(trace, leaked[0]->stack, "leak_large"));
  EXPECT_TRUE(trace.errors.empty()) << result.err;
}

TEST(AllocationFunctions, CountersFollowValgrindsConventionAndAddUp) {
  RunResult result = run({program("threads")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Trace& trace = result.only_trace();
  unsigned long program_allocations = 0, program_frees = 0;
  ASSERT_EQ(sscanf(result.out.c_str(), "allocations %lu frees %lu", &program_allocations, &program_frees), 2);
  // Exact: whatever libc allocates besides the program's own calls, every
  // allocation is either freed or still live at exit.
  EXPECT_EQ(trace.counters.allocations - trace.counters.frees, trace.live_blocks.size());
  EXPECT_GE(trace.counters.allocations, program_allocations);
  EXPECT_GE(trace.counters.frees, program_frees);
  EXPECT_LT(trace.counters.allocations - program_allocations, 100u);  // libc's own, a few
  EXPECT_GT(trace.counters.peak_live_bytes, 0u);
}

}  // namespace
}  // namespace nantrack::testing
