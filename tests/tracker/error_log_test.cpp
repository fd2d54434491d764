#include "tracker/error_log.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

ErrorRecord invalid_free_at(StackId stack, uintptr_t address = 0x1000) {
  return {.kind = ErrorKind::InvalidFree, .invalid_pointer = InvalidPointer::GlobalAddress, .address = address,
          .stack = stack};
}

class ErrorLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(log.init()); }
  void TearDown() override { log.release(); }
  ErrorLog::Added add(const ErrorRecord& error) { return log.add(error, index); }

  ErrorLog log;
  size_t index = 99;
};

TEST_F(ErrorLogTest, TheSameMistakeAgainIsCountedNotKept) {
  EXPECT_EQ(add(invalid_free_at(7)), ErrorLog::Added::New);
  EXPECT_EQ(index, 0u);
  for (int i = 0; i < 9; ++i) {
    index = 99;
    EXPECT_EQ(add(invalid_free_at(7, 0x2000 + i)), ErrorLog::Added::Repeat) << "another address, the same call";
    EXPECT_EQ(index, 0u);
  }
  EXPECT_EQ(log.count(), 1u);
  EXPECT_EQ(log.occurrences(0), 10u);
  EXPECT_EQ(log[0].address, 0x1000u) << "the first is the one kept";
}

TEST_F(ErrorLogTest, AnotherCallKindOrBlockIsAnotherError) {
  const ErrorRecord first = invalid_free_at(7);
  ErrorRecord other_call = first, other_kind = first, other_block = first;
  other_call.stack = 8;
  other_kind.kind = ErrorKind::DoubleFree;
  other_block.alloc_stack = 3;
  for (const ErrorRecord& error : {first, other_call, other_kind, other_block})
    EXPECT_EQ(add(error), ErrorLog::Added::New);
  EXPECT_EQ(log.count(), 4u);
  EXPECT_EQ(add(other_block), ErrorLog::Added::Repeat);
  EXPECT_EQ(index, 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(log.occurrences(i), 1u);
  EXPECT_EQ(log.occurrences(3), 2u);
}

TEST_F(ErrorLogTest, PastItsCapacityNewErrorsAreNotKeptButRepeatsStillCount) {
  for (StackId stack = 1; stack <= ErrorLog::kCapacity; ++stack)
    ASSERT_EQ(add(invalid_free_at(stack)), ErrorLog::Added::New);
  EXPECT_EQ(add(invalid_free_at(ErrorLog::kCapacity + 1)), ErrorLog::Added::NotKept);
  EXPECT_EQ(add(invalid_free_at(ErrorLog::kCapacity)), ErrorLog::Added::Repeat);
  EXPECT_EQ(index, ErrorLog::kCapacity - 1);
  EXPECT_EQ(log.count(), ErrorLog::kCapacity);
  EXPECT_EQ(log.occurrences(ErrorLog::kCapacity - 1), 2u);
}

}  // namespace
}  // namespace nantrack
