#include "report/error_description.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

TEST(ErrorDescriptionTest, DescribesEachErrorKind) {
  EXPECT_EQ(describe_error({.kind = ErrorKind::DoubleFree, .thread = 1, .address = 0x5581a2c0,
                            .block_address = 0x5581a2c0, .block_size = 24}),
            "double free of 0x5581a2c0 (24 bytes) in thread 1");
  EXPECT_EQ(describe_error({.kind = ErrorKind::InvalidFree, .dealloc_kind = DeallocKind::Delete,
                            .invalid_pointer = InvalidPointer::StackAddress, .thread = 3, .address = 0x7ffd0010}),
            "invalid operator delete of 0x7ffd0010: a stack address in thread 3");
  EXPECT_EQ(describe_error({.kind = ErrorKind::InvalidFree, .invalid_pointer = InvalidPointer::Interior, .thread = 1,
                            .address = 0x1008, .block_address = 0x1000, .block_size = 64}),
            "invalid free of 0x1008: points inside a heap block, not at its start "
            "(the 64-byte block at 0x1000) in thread 1");
  EXPECT_EQ(describe_error({.kind = ErrorKind::MismatchedFree, .alloc_kind = AllocKind::NewArray,
                            .dealloc_kind = DeallocKind::Delete, .thread = 1, .address = 0x2000, .block_size = 80}),
            "mismatched free of 0x2000 (80 bytes): allocated with operator new[], released with operator delete "
            "in thread 1");
  EXPECT_EQ(describe_error({.kind = ErrorKind::HeapOverflow, .thread = 1, .block_address = 0x3000, .block_size = 16,
                            .overflow_side = OverflowSide::After, .bytes_changed = 1, .first_changed_offset = 16}),
            "heap overflow: 1 byte after the 16-byte block at 0x3000 was changed (first at offset 16) in thread 1");
  EXPECT_EQ(describe_error({.kind = ErrorKind::HeapOverflow, .thread = 1, .block_address = 0x3000, .block_size = 16,
                            .overflow_side = OverflowSide::Before, .bytes_changed = 2, .first_changed_offset = 1}),
            "heap overflow: 2 bytes before the 16-byte block at 0x3000 were changed (nearest the block: 1 before "
            "its start) in thread 1");
  EXPECT_EQ(describe_error({.kind = ErrorKind::WriteAfterFree, .thread = 1, .block_address = 0x3000, .block_size = 24,
                            .bytes_changed = 8, .first_changed_offset = 0}),
            "write after free: 8 bytes at offset 0 of the freed 24-byte block at 0x3000 in thread 1");
}

TEST(ErrorDescriptionTest, CaptionsNameWhatEachStackShows) {
  EXPECT_EQ(bad_call_caption(ErrorKind::DoubleFree), "double free here");
  EXPECT_EQ(free_stack_caption(ErrorKind::DoubleFree), "first freed here");
  EXPECT_EQ(free_stack_caption(ErrorKind::WriteAfterFree), "freed here");
  EXPECT_EQ(kAllocStackCaption, "allocated here");
}

TEST(ErrorDescriptionTest, CaptionedStacksSkipEmptyOnes) {
  const ErrorFinding error{.event = {.kind = ErrorKind::MismatchedFree},
                           .stack = {{.function = "release"}},
                           .alloc_stack = {{.function = "make"}}};
  const std::vector<CaptionedStack> stacks = captioned_stacks(error);
  ASSERT_EQ(stacks.size(), 2u);
  EXPECT_EQ(stacks[0].caption, "released here");
  EXPECT_EQ(stacks[0].stack, &error.stack);
  EXPECT_EQ(stacks[1].caption, "allocated here");
  EXPECT_EQ(stacks[1].stack, &error.alloc_stack);
}

}  // namespace
}  // namespace nantrack
