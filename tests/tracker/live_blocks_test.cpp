#include "tracker/live_blocks.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace nantrack {
namespace {

BlockRecord record(uintptr_t address, uint64_t size) {
  BlockRecord r;
  r.address = address;
  r.size = size;
  r.kind = static_cast<uint8_t>(AllocKind::NewArray);
  r.alignment_log2 = 4;
  r.alloc_stack = 12345;
  r.thread_or_free_stack = 7;
  return r;
}

void expect_same(const BlockRecord& found, const BlockRecord& expected) {
  EXPECT_EQ(found.address, expected.address);
  EXPECT_EQ(found.size, expected.size);
  EXPECT_EQ(found.kind, expected.kind);
  EXPECT_EQ(found.freed, expected.freed);
  EXPECT_EQ(found.ignored, expected.ignored);
  EXPECT_EQ(found.alignment_log2, expected.alignment_log2);
  EXPECT_EQ(found.alloc_stack, expected.alloc_stack);
  EXPECT_EQ(found.thread_or_free_stack, expected.thread_or_free_stack);
}

TEST(CompactRecordTest, KeepsEveryFieldOfARecordThatFits) {
  BlockRecord r = record(0xfffffffffff8, (uint64_t{1} << 27) - 1);
  r.kind = static_cast<uint8_t>(AllocKind::NewArrayAligned);
  r.ignored = 1;
  r.alignment_log2 = 11;
  r.alloc_stack = (1u << 29) - 1;
  r.thread_or_free_stack = (1u << 16) - 1;
  CompactRecord compact;
  ASSERT_TRUE(CompactRecord::make(r, compact));
  expect_same(compact.decode(), r);
  EXPECT_EQ(compact.address(), r.address);
}

TEST(CompactRecordTest, RecordsPastItsLimitsDoNotFit) {
  const BlockRecord base = record(0x7f0000001000, 64);
  ASSERT_TRUE(CompactRecord::fits(base));
  auto without_fit = [&](auto change) {
    BlockRecord r = base;
    change(r);
    return !CompactRecord::fits(r);
  };
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.size = uint64_t{1} << 27; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.alignment_log2 = 12; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.thread_or_free_stack = 1u << 16; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.alloc_stack = 1u << 29; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.address = uintptr_t{1} << 48; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.alignment_log2 = 3; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.freed = 1; }));
  EXPECT_TRUE(without_fit([](BlockRecord& r) { r.kind = 16; }));  // a kind yet to come
}

TEST(LiveBlocksTest, FindsBlocksOfBothKindsWithTheirRecords) {
  LiveBlocks blocks;
  const BlockRecord small = record(0x5555555a0010, 48);
  BlockRecord huge = record(0x7f0010000010, uint64_t{200} << 20);
  BlockRecord aligned = record(0x5555555b0000, 4096);
  aligned.alignment_log2 = 12;
  for (const BlockRecord& r : {small, huge, aligned}) ASSERT_TRUE(blocks.insert(r));
  EXPECT_EQ(blocks.size(), 3u);
  for (const BlockRecord& r : {small, huge, aligned}) {
    LiveBlocks::Found found;
    ASSERT_TRUE(blocks.find(r.address, found));
    expect_same(found.record, r);
    EXPECT_EQ(found.compact != nullptr, CompactRecord::fits(r));
  }
  LiveBlocks::Found found;
  EXPECT_FALSE(blocks.find(small.address + 16, found));

  BlockRecord containing;
  ASSERT_TRUE(blocks.find_containing(huge.address + (uint64_t{100} << 20), containing));
  EXPECT_EQ(containing.address, huge.address);
  ASSERT_TRUE(blocks.find_containing(small.address + 47, containing));
  EXPECT_EQ(containing.address, small.address);
  EXPECT_FALSE(blocks.find_containing(small.address + 48, containing));

  size_t visited = 0;
  blocks.for_each([&](const BlockRecord& r) {
    ++visited;
    EXPECT_TRUE(r.address == small.address || r.address == huge.address || r.address == aligned.address);
  });
  EXPECT_EQ(visited, 3u);

  for (const BlockRecord& r : {huge, small, aligned}) {
    ASSERT_TRUE(blocks.find(r.address, found));
    blocks.remove(found);
    EXPECT_FALSE(blocks.find(r.address, found));
  }
  EXPECT_EQ(blocks.size(), 0u);
  blocks.release();
}

// An address libc hands out again is one block, whichever table its
// previous record was in.
TEST(LiveBlocksTest, AnAddressHasOneRecordAcrossBothTables) {
  LiveBlocks blocks;
  const uintptr_t address = 0x5555555c0040;
  ASSERT_TRUE(blocks.insert(record(address, uint64_t{300} << 20)));
  ASSERT_TRUE(blocks.insert(record(address, 100)));
  EXPECT_EQ(blocks.size(), 1u);
  LiveBlocks::Found found;
  ASSERT_TRUE(blocks.find(address, found));
  EXPECT_EQ(found.record.size, 100u);
  ASSERT_TRUE(blocks.insert(record(address, uint64_t{300} << 20)));
  EXPECT_EQ(blocks.size(), 1u);
  ASSERT_TRUE(blocks.find(address, found));
  EXPECT_EQ(found.record.size, uint64_t{300} << 20);
  blocks.release();
}

TEST(LiveBlocksTest, UpdateRewritesARecordInItsSlot) {
  LiveBlocks blocks;
  BlockRecord small = record(0x5555555d0020, 64);
  ASSERT_TRUE(blocks.insert(small));
  LiveBlocks::Found found;
  ASSERT_TRUE(blocks.find(small.address, found));
  BlockRecord changed = found.record;
  changed.ignored = 1;
  changed.kind = static_cast<uint8_t>(AllocKind::Realloc);
  changed.size = 100;
  ASSERT_TRUE(LiveBlocks::can_update(found, changed));
  blocks.update(found, changed);
  ASSERT_TRUE(blocks.find(small.address, found));
  expect_same(found.record, changed);
  changed.size = uint64_t{128} << 20;  // would belong in the other table
  EXPECT_FALSE(LiveBlocks::can_update(found, changed));
  blocks.release();
}

// Random inserts and removals, one block in 16 too large for a compact
// record, checked against a map: every block is found with its record.
TEST(LiveBlocksTest, AgreesWithAMapUnderChurn) {
  LiveBlocks blocks;
  std::map<uintptr_t, BlockRecord> expected;
  std::mt19937_64 random(5);
  for (int step = 0; step < 200000; ++step) {
    const uintptr_t address = 0x555555000000 + (random() % 50000) * 48;
    LiveBlocks::Found found;
    if (auto it = expected.find(address); it != expected.end()) {
      ASSERT_TRUE(blocks.find(address, found)) << step;
      expect_same(found.record, it->second);
      blocks.remove(found);
      expected.erase(it);
    } else {
      BlockRecord r = record(address, random() % 16 ? random() % 4096 : (uint64_t{1} << 27) + random() % 4096);
      r.thread_or_free_stack = static_cast<uint32_t>(random() % 100);
      ASSERT_TRUE(blocks.insert(r));
      expected[address] = r;
    }
  }
  EXPECT_EQ(blocks.size(), expected.size());
  size_t visited = 0;
  blocks.for_each([&](const BlockRecord& r) {
    ++visited;
    auto it = expected.find(r.address);
    ASSERT_NE(it, expected.end());
    expect_same(r, it->second);
  });
  EXPECT_EQ(visited, expected.size());
  blocks.release();
}

}  // namespace
}  // namespace nantrack
