#include "tracker/quarantine.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace nantrack {
namespace {

// The record of a freed block, as the tracker pushes it.
BlockRecord freed(uintptr_t address, uint64_t size, StackId free_stack = 7) {
  BlockRecord record;
  record.address = address;
  record.size = size;
  record.freed = 1;
  record.thread_or_free_stack = free_stack;
  return record;
}

// Pushes a block into q after asking whether it takes it, as the tracker
// does (the question maps its ring).
void hold(Quarantine& q, const BlockRecord& record) {
  ASSERT_TRUE(q.accepts(record.size));
  q.push(record);
}

TEST(QuarantineTest, EvictsOldestFirstWhenOverTheByteLimit) {
  Quarantine q;
  ASSERT_TRUE(q.configure(100, 1000));
  hold(q, freed(0x1, 40));
  hold(q, freed(0x2, 40));
  EXPECT_FALSE(q.over_limit());
  hold(q, freed(0x3, 40));
  ASSERT_TRUE(q.over_limit());
  BlockRecord oldest = q.pop_oldest();
  EXPECT_EQ(oldest.address, 0x1u);
  EXPECT_EQ(oldest.size, 40u);
  EXPECT_EQ(oldest.free_stack(), 7u);
  EXPECT_FALSE(q.over_limit());
  EXPECT_EQ(q.bytes(), 80u);
  q.release();
}

TEST(QuarantineTest, EvictsWhenOverTheBlockLimit) {
  Quarantine q;
  ASSERT_TRUE(q.configure(1 << 20, 3));
  for (uintptr_t a = 1; a <= 3; ++a) hold(q, freed(a, 1));
  EXPECT_FALSE(q.over_limit());
  hold(q, freed(4, 1));
  ASSERT_TRUE(q.over_limit());
  EXPECT_EQ(q.pop_oldest().address, 1u);
  EXPECT_EQ(q.count(), 3u);
  q.release();
}

TEST(QuarantineTest, RingWrapsAroundManyTimes) {
  Quarantine q;
  ASSERT_TRUE(q.configure(1 << 30, 5));
  uintptr_t next_out = 1;
  for (uintptr_t a = 1; a <= 10000; ++a) {
    hold(q, freed(a, 8));
    while (q.over_limit()) ASSERT_EQ(q.pop_oldest().address, next_out++);
  }
  EXPECT_EQ(q.count(), 5u);
  EXPECT_EQ(next_out, 9996u);
  q.release();
}

TEST(QuarantineTest, FindsTheRecordsItHoldsByAddressAndByInteriorAddress) {
  Quarantine q;
  ASSERT_TRUE(q.configure(1000, 4));
  hold(q, freed(0x100, 32, 1));
  hold(q, freed(0x200, 0, 2));
  hold(q, freed(0x300, 64, 3));
  ASSERT_NE(q.find(0x200), nullptr);
  EXPECT_EQ(q.find(0x200)->free_stack(), 2u);
  EXPECT_EQ(q.find(0x110), nullptr);
  EXPECT_EQ(q.find(0x400), nullptr);
  ASSERT_NE(q.find_containing(0x11f), nullptr);
  EXPECT_EQ(q.find_containing(0x11f)->address, 0x100u);
  EXPECT_EQ(q.find_containing(0x120), nullptr);
  EXPECT_EQ(q.find_containing(0x200)->address, 0x200u);  // an empty block's start
  EXPECT_EQ(q.find_containing(0x33f)->address, 0x300u);
  // Records that left are not found; the ring's wrap keeps the rest.
  hold(q, freed(0x500, 8, 5));
  hold(q, freed(0x600, 8, 6));
  while (q.over_limit()) q.pop_oldest();
  EXPECT_EQ(q.find(0x100), nullptr);
  EXPECT_NE(q.find(0x600), nullptr);
  std::vector<uintptr_t> held;
  q.for_each([&](const BlockRecord& record) { held.push_back(record.address); });
  EXPECT_EQ(held, (std::vector<uintptr_t>{0x200, 0x300, 0x500, 0x600}));
  q.release();
}

// This process's address space in KiB (VmSize).
size_t address_space_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmSize:", 0) == 0) return std::stoul(line.substr(7));
  return 0;
}

// A ring is reserved when its quarantine first takes a block, not when it
// is configured: a process frees into few of its 64 shards.
TEST(QuarantineTest, ItsRingTakesAddressSpaceOnlyOnceItHoldsABlock) {
  Quarantine q;
  const size_t before = address_space_kib();
  ASSERT_TRUE(q.configure(size_t{1} << 30, 1u << 20));  // a ring of 2^21 records: 48 MiB
  EXPECT_LT(address_space_kib() - before, 1024u);
  ASSERT_TRUE(q.accepts(8));
  EXPECT_GE(address_space_kib() - before, 48u * 1024);
  q.release();
}

TEST(QuarantineTest, ZeroLimitsTurnItOffAndHugeBlocksAreRefused) {
  Quarantine off;
  ASSERT_TRUE(off.configure(0, 100));
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.accepts(1));
  Quarantine on;
  ASSERT_TRUE(on.configure(1000, 10));
  EXPECT_TRUE(on.accepts(1000));
  EXPECT_FALSE(on.accepts(1001));
  on.release();
}

// Pushes into q, evicting what it gives up, as the tracker does.
void push_and_evict(Quarantine& q, uintptr_t address, uint64_t size) {
  hold(q, freed(address, size));
  while (q.over_limit()) q.pop_oldest();
}

// Two quarantines that could each hold 8000 blocks, sharing a limit of 4096
// blocks, with what the tracker does around a push: it evicts what one
// gives up, takes room in the other when asked (from its oldest blocks,
// if older than the asker's), and tells each the other's oldest stamp.
class SharedQuarantinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    budget.configure(1 << 30, kLimit, 2);
    ASSERT_TRUE(first.configure(1 << 30, 2 * kLimit, &budget));
    ASSERT_TRUE(second.configure(1 << 30, 2 * kLimit, &budget));
  }
  void TearDown() override {
    first.release();
    second.release();
  }

  void push(Quarantine& q, Quarantine& other) {
    hold(q, freed(next_address++, 16));
    while (q.over_limit()) q.pop_oldest();
    if (q.wants_room_elsewhere()) {
      if (other.count() && other.oldest_stamp() < q.oldest_stamp())
        other.pop_oldest();
      else if (q.count() > 1)
        q.pop_oldest();
    }
    q.note_oldest_elsewhere(other.oldest_stamp());
    other.note_oldest_elsewhere(q.oldest_stamp());
  }

  static constexpr uint32_t kLimit = 4096;
  QuarantineBudget budget;
  Quarantine first, second;
  uintptr_t next_address = 1;
};

TEST_F(SharedQuarantinesTest, TogetherTheyStayWithinTheSharedLimits) {
  // The first fills up alone, then both go on.
  for (uint32_t i = 0; i < kLimit * 2; ++i) push(first, second);
  EXPECT_LE(first.count(), kLimit + budget.publish_blocks());
  for (uint32_t i = 0; i < kLimit * 10; ++i) {
    push(first, second);
    push(second, first);
    EXPECT_LE(first.count() + second.count(), kLimit + 2 * budget.publish_blocks() + 2);
  }
  // Freed into alike, they hold alike: the first's older blocks made room.
  EXPECT_NEAR(first.count(), second.count(), kLimit / 8 + 2 * budget.publish_blocks());
  // The shared count lags the true one by less than a batch per quarantine.
  int64_t held = first.count() + second.count();
  EXPECT_LT(std::abs(budget.blocks() - held), 2 * budget.publish_blocks());
  first.release();
  second.release();
  EXPECT_EQ(budget.blocks(), 0);
  EXPECT_EQ(budget.bytes(), 0);
}

TEST_F(SharedQuarantinesTest, OneWithOnlyYoungerBlocksAsksForRoomElsewhereUnderPressure) {
  // The first holds more than the shared limit and is not pushed again
  // (its threads stopped freeing), so it cannot shrink by itself.
  for (uint32_t i = 0; i < kLimit + 100; ++i) hold(first, freed(next_address++, 16));
  ASSERT_TRUE(budget.exceeded());
  second.note_oldest_elsewhere(first.oldest_stamp());
  hold(second, freed(next_address++, 16));
  EXPECT_TRUE(second.wants_room_elsewhere());
  EXPECT_FALSE(second.over_limit()) << "its own block is the youngest";
  EXPECT_LT(first.oldest_stamp(), second.oldest_stamp());
}

// The oldest blocks go first, as from one queue, however unevenly the
// quarantines are freed into: each holds its blocks for about as many
// frees, not their share of the limit.
TEST_F(SharedQuarantinesTest, TheOldestBlocksGoFirstWhicheverQuarantineHoldsThem) {
  for (uint32_t i = 0; i < kLimit * 20; ++i) {
    if (i % 8 == 0)
      push(second, first);
    else
      push(first, second);
  }
  // The first is freed into seven times as often: it holds about 7/8.
  EXPECT_NEAR(first.count(), kLimit * 7 / 8, kLimit / 8 + 2 * budget.publish_blocks());
  const uint64_t gap = first.oldest_stamp() > second.oldest_stamp() ? first.oldest_stamp() - second.oldest_stamp()
                                                                     : second.oldest_stamp() - first.oldest_stamp();
  EXPECT_LE(gap, kLimit / 8 + 2 * budget.publish_blocks()) << "their oldest blocks are about as old";
}

TEST(QuarantineTest, WithoutPressureEachKeepsItsOwnLimits) {
  QuarantineBudget budget;
  budget.configure(1 << 30, 10000, 1);
  Quarantine q;
  ASSERT_TRUE(q.configure(1 << 30, 300, &budget));
  for (uintptr_t a = 1; a <= 1000; ++a) push_and_evict(q, a, 8);
  EXPECT_EQ(q.count(), 300u);  // its own limit
  EXPECT_FALSE(q.wants_room_elsewhere());
  q.release();
}

}  // namespace
}  // namespace nantrack
