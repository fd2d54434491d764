#include "tracker/block_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <unordered_map>

namespace nantrack {
namespace {

BlockRecord record(uintptr_t address, uint64_t size, AllocKind kind = AllocKind::Malloc) {
  BlockRecord r;
  r.address = address;
  r.size = size;
  r.kind = static_cast<uint8_t>(kind);
  r.alloc_stack = 7;
  r.thread_or_free_stack = 1;
  return r;
}

TEST(BlockTableTest, InsertFindErase) {
  BlockTable table;
  ASSERT_TRUE(table.insert(record(0x1000, 24, AllocKind::NewArray)));
  BlockRecord* found = table.find(0x1000);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->size, 24u);
  EXPECT_EQ(found->alloc_kind(), AllocKind::NewArray);
  EXPECT_EQ(table.find(0x1010), nullptr);
  EXPECT_TRUE(table.erase(0x1000));
  EXPECT_FALSE(table.erase(0x1000));
  EXPECT_EQ(table.find(0x1000), nullptr);
  EXPECT_EQ(table.size(), 0u);
  table.release();
}

TEST(BlockTableTest, RemoveTakesOutTheRecordFindReturnedAndKeepsItsNeighbours) {
  BlockTable table;
  // Neighbouring granules: their records share a cluster.
  for (uintptr_t address = 0x3000; address < 0x3100; address += 16) table.insert(record(address, address));
  BlockRecord* found = table.find(0x3040);
  ASSERT_NE(found, nullptr);
  table.remove(*found);
  EXPECT_EQ(table.find(0x3040), nullptr);
  EXPECT_EQ(table.size(), 15u);
  for (uintptr_t address = 0x3000; address < 0x3100; address += 16) {
    if (address == 0x3040) continue;
    ASSERT_NE(table.find(address), nullptr) << std::hex << address;
    EXPECT_EQ(table.find(address)->size, address);
  }
  table.release();
}

TEST(BlockTableTest, InsertingAnExistingAddressReplacesIt) {
  BlockTable table;
  table.insert(record(0x2000, 10));
  table.insert(record(0x2000, 99));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find(0x2000)->size, 99u);
  table.release();
}

TEST(BlockTableTest, MatchesAReferenceMapUnderRandomChurn) {
  // Backward-shift deletion is easy to get subtly wrong: compare every
  // operation against std::unordered_map over a long random sequence with
  // clustered addresses (heap addresses are 16 bytes apart).
  BlockTable table;
  std::unordered_map<uintptr_t, uint64_t> reference;
  std::mt19937_64 random(42);
  for (int step = 0; step < 300000; ++step) {
    uintptr_t address = 0x10000 + (random() % 20000) * 16;
    if (random() % 3) {
      uint64_t size = random() % 5000;
      table.insert(record(address, size));
      reference[address] = size;
    } else if (step % 2) {
      EXPECT_EQ(table.erase(address), reference.erase(address) == 1);
    } else if (BlockRecord* found = table.find(address)) {
      table.remove(*found);
      EXPECT_EQ(reference.erase(address), 1u);
    } else {
      EXPECT_EQ(reference.count(address), 0u);
    }
  }
  EXPECT_EQ(table.size(), reference.size());
  for (auto [address, size] : reference) {
    BlockRecord* found = table.find(address);
    ASSERT_NE(found, nullptr) << std::hex << address;
    EXPECT_EQ(found->size, size);
  }
  size_t visited = 0;
  table.for_each([&](const BlockRecord& r) {
    ++visited;
    EXPECT_EQ(reference.count(r.address), 1u);
  });
  EXPECT_EQ(visited, reference.size());
  table.release();
}

// 200,000 blocks of 32 bytes allocated one after another, each in an
// 80-byte chunk as glibc gives them with the guard bytes: a region's dozen
// blocks share one window, the load the windows get is lumpy, and the
// clusters it makes are what every insert, lookup and removal walks.
TEST(BlockTableTest, BlocksAllocatedInARowKeepClustersShort) {
  BlockTable table;
  constexpr uintptr_t kBlocks = 200000, kChunk = 80, kFirst = 0x55555556a010;
  for (uintptr_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(table.insert(record(kFirst + i * kChunk, 32)));
  size_t total = 0;
  table.for_each([&](const BlockRecord& r) { total += table.distance_from_home(r); });
  const double mean = static_cast<double>(total) / kBlocks;
  // 2.5 slots with 4-byte granules; 16-byte ones (64-slot windows) gave 6.3.
  EXPECT_LT(mean, 4.0) << "load " << static_cast<double>(table.size()) / table.capacity();
  for (uintptr_t i = 0; i < kBlocks; ++i) ASSERT_TRUE(table.erase(kFirst + i * kChunk));
  EXPECT_EQ(table.size(), 0u);
  table.release();
}

TEST(BlockTableTest, FindContainingLocatesInteriorPointers) {
  BlockTable table;
  table.insert(record(0x5000, 64));
  table.insert(record(0x6000, 0));
  ASSERT_NE(table.find_containing(0x5008), nullptr);
  EXPECT_EQ(table.find_containing(0x5008)->address, 0x5000u);
  EXPECT_EQ(table.find_containing(0x5040), nullptr);  // one past the end
  EXPECT_EQ(table.find_containing(0x6000)->address, 0x6000u);
  table.release();
}

TEST(BlockTableTest, FreedRecordsCarryTheFreeStack) {
  BlockRecord r = record(0x7000, 8);
  EXPECT_EQ(r.thread(), 1u);
  EXPECT_EQ(r.free_stack(), kNoStack);
  r.freed = 1;
  r.thread_or_free_stack = 42;
  EXPECT_EQ(r.free_stack(), 42u);
  EXPECT_EQ(r.thread(), 0u);
}

}  // namespace
}  // namespace nantrack

namespace nantrack {
namespace {

// A main heap as a randomised break may place it: 4 MiB short of a 64 MiB
// boundary, far below the mmap area where the other arenas' heaps are.
constexpr uintptr_t kMainHeap = 0x555558000000 - (uintptr_t{4} << 20);

TEST(BlockPlaceTest, BlocksOfOneRegionGetSlotsAFixedStrideApart) {
  // 48-byte chunks allocated one after another inside one 1 KiB region.
  uintptr_t region = 0x55555556a000;
  size_t first = BlockPlace::slot(region, BlockTable::kShardBits);
  for (uintptr_t offset = 48; offset < 1024; offset += 48)
    EXPECT_EQ(BlockPlace::slot(region + offset, BlockTable::kShardBits), first + offset / 4);
  EXPECT_EQ(BlockPlace::shard(region, 0, 64), BlockPlace::shard(region + 1008, 0, 64));
}

TEST(BlockPlaceTest, AlignedBlocksStillSpreadOverShardsAndWindows) {
  // 4096 page-aligned blocks in one arena's 64 MiB heap: over all 8 shards
  // of its group.
  std::set<size_t> shards, windows;
  for (uintptr_t page = 0; page < 4096; ++page) {
    uintptr_t address = 0x7f0000000000 + page * 4096;
    shards.insert(BlockPlace::shard(address, 0, 64));
    windows.insert(BlockPlace::slot(address, BlockTable::kShardBits) >> BlockPlace::kOffsetBits & 0xffff);
  }
  EXPECT_EQ(shards.size(), 8u);
  EXPECT_GT(windows.size(), 3500u);  // nearly one window each, not a pile-up
}

// Eight arenas' heaps, 64 MiB apart (or 128 MiB, as glibc often places
// them): eight disjoint groups of shards, so threads that allocate and free
// their own blocks never share a shard.
TEST(BlockPlaceTest, EachArenasHeapGetsItsOwnGroupOfShards) {
  for (uintptr_t spacing : {uintptr_t{64} << 20, uintptr_t{128} << 20}) {
    std::set<size_t> all_shards;
    for (uintptr_t arena = 0; arena < 8; ++arena) {
      uintptr_t heap = 0x7f3600000000 + arena * spacing;
      std::set<size_t> shards;
      for (uintptr_t offset = 0; offset < (uintptr_t{64} << 20); offset += 4096 + 48)
        shards.insert(BlockPlace::shard(heap + offset, kMainHeap, 64));
      EXPECT_EQ(shards.size(), 8u) << "arena " << arena;
      all_shards.insert(shards.begin(), shards.end());
    }
    EXPECT_EQ(all_shards.size(), 64u) << "heaps " << (spacing >> 20) << " MiB apart";
  }
}

// The main arena's heap starts wherever the randomised program break is,
// here 4 MiB short of a 64 MiB boundary: its first 64 MiB are one group
// all the same, and the next 64 MiB another.
TEST(BlockPlaceTest, TheMainHeapsFirst64MiBAreOneGroupWhereverItStarts) {
  std::set<size_t> first, second;
  for (uintptr_t offset = 0; offset < (uintptr_t{64} << 20); offset += 4096 + 48) {
    first.insert(BlockPlace::shard(kMainHeap + offset, kMainHeap, 64) / 8);
    second.insert(BlockPlace::shard(kMainHeap + (uintptr_t{64} << 20) + offset, kMainHeap, 64) / 8);
  }
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(second.size(), 1u);
  EXPECT_NE(*first.begin(), *second.begin());
  // Counted from address 0, as the other arenas' aligned heaps are, the
  // same addresses straddle two groups.
  std::set<size_t> from_zero;
  for (uintptr_t offset = 0; offset < (uintptr_t{64} << 20); offset += 4096 + 48)
    from_zero.insert(BlockPlace::shard(kMainHeap + offset, 0, 64) / 8);
  EXPECT_EQ(from_zero.size(), 2u);
}

}  // namespace
}  // namespace nantrack
