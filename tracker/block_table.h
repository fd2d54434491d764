// The records of live heap blocks, keyed by address: open-addressing
// hash tables with linear probing and backward-shift deletion (no
// tombstones, so lookups stay short under heavy churn). Not thread-safe:
// the tracker keeps them per shard, each under its own lock
// (tracker/live_blocks.h). Storage is mmap'd.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/block_record.h"

namespace nantrack {

// Mixes an address into a well-spread hash.
constexpr uint64_t hash_address(uintptr_t address) {
  uint64_t h = address ^ (address >> 29);
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

// Where a block lives in the tables. The 1 KiB region of the address is
// hashed (spreading regions over shards and slots), the offset within it is
// kept: blocks allocated together sit in slots a fixed stride apart, which
// the hardware prefetcher follows, and that turns most table accesses from
// misses into hits (3 million live blocks: 3.7 s -> 1.6 s; 4 KiB regions
// did worse, their windows fill unevenly). Aligned blocks, which share an
// offset, still spread: one window per region.
//
// The offset counts 4-byte granules, so a region's window is 256 slots
// though a region holds at most 64 blocks (glibc's chunks are 16-byte
// aligned). Linear probing suffers when homes come in bunches: a region's
// dozen blocks all land in one window, and a window that drew a few more
// regions than average overflows into the next, which makes clusters long.
// A window wider than its region's blocks need takes the regions of four
// 64-slot windows and so evens out their load. 3 million live 32-byte
// blocks: 16 slots probed per insert and 16 scanned per removal with 16-byte
// granules, 10 and 7 with 4-byte ones; the run went 0.93 s -> 0.86 s
// (medians of 11). 1-byte granules took 1.10 s: a region's records then
// spread over 24 KiB of table and the stride no longer helps.
//
// Shards come in groups, one group per 64 MiB of address space: glibc gives
// each thread's arena its own 64 MiB-aligned heaps, so threads allocating
// and freeing their own blocks work in different groups, and their shard
// locks, quarantines and table lines stay in their own core's cache instead
// of moving between cores on every call (2 threads churning 5M pairs:
// 1.84 s -> 1.53 s). Within a group, regions spread over its shards.
//
// The main arena's heap is not aligned: it starts at the program break,
// which address-space randomisation puts anywhere. Counted from address 0,
// a heap of tens of MiB straddled two units in about one run in three, and
// such runs were the slow ones: the shards of both groups fill and the
// shared quarantine limits pick the oldest block of either on one free in
// nine (sqlite3 inserting 100k rows: 1.20-1.23 s against 0.96-1.03 s;
// churn: 2.13-2.17 s against 1.89-1.97 s). Its units are counted from its
// start instead, so a heap below 64 MiB always has one group.
struct BlockPlace {
  static constexpr unsigned kRegionBits = 10;
  static constexpr unsigned kGranuleBits = 2;
  static constexpr unsigned kOffsetBits = kRegionBits - kGranuleBits;
  static constexpr unsigned kArenaBits = 26;     // glibc's HEAP_MAX_SIZE on 64-bit
  static constexpr unsigned kGroupBits = 3;      // 8 groups of shards
  static constexpr uint64_t region_hash(uintptr_t address) { return hash_address(address >> kRegionBits); }
  // Addresses this far above the main heap's start are counted as in it:
  // past any heap brk() can grow, short of the mmap area where the other
  // arenas' heaps are (terabytes away, randomised or not).
  static constexpr uintptr_t kMainHeapSpan = uintptr_t{1} << 36;
  // Units 128 MiB apart get distinct groups (glibc maps twice the size to
  // align a heap, so neighbouring arenas' heaps often sit two units apart),
  // and so do consecutive 64 MiB units but for one pair in 32: the two
  // around a 2 GiB boundary share one. `main_heap` is where the main
  // arena's heap starts (the program break at start; 0 counts every
  // address from 0).
  static constexpr size_t group(uintptr_t address, uintptr_t main_heap) {
    const uintptr_t into_main_heap = address - main_heap;
    const uintptr_t unit = (into_main_heap < kMainHeapSpan ? into_main_heap : address) >> kArenaBits;
    return (unit ^ (unit >> kGroupBits)) & ((1u << kGroupBits) - 1);
  }
  static constexpr size_t shard(uintptr_t address, uintptr_t main_heap, size_t shard_count) {
    size_t group_size = shard_count >> kGroupBits;
    return group(address, main_heap) * group_size + (region_hash(address) & (group_size - 1));
  }
  static constexpr size_t slot(uintptr_t address, unsigned shard_bits) {
    return ((region_hash(address) >> shard_bits) << kOffsetBits) | ((address >> kGranuleBits) & ((1u << kOffsetBits) - 1));
  }
};

// The table of one record type: BlockRecord, or CompactRecord for the
// live blocks that fit one (LiveBlocks).
template <typename Record>
class SlotTable {
 public:
  static constexpr unsigned kShardBits = 6;

  constexpr SlotTable() = default;
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;

  // Inserts or replaces the record for its address. False only when the
  // table could not grow (mmap failed): the block then goes untracked.
  bool insert(const Record& record);
  Record* find(uintptr_t address);
  // Removes the record; returns false if there was none.
  bool erase(uintptr_t address);
  // Removes a record find() returned (no second lookup).
  void remove(Record& record);
  // Starts loading the cache lines where `address`'s record would be: its
  // home slot's and the next (a 24-byte record may straddle two lines, and
  // erase() walks the rest of the cluster). May run without the table's
  // lock: it reads the layout with relaxed atomic loads, and a prefetch of
  // memory a concurrent grow() just unmapped is harmless (prefetches never
  // fault).
  void prefetch(uintptr_t address) const {
    Record* slots = __atomic_load_n(&slots_, __ATOMIC_RELAXED);
    size_t mask = __atomic_load_n(&mask_, __ATOMIC_RELAXED);
    if (!slots) return;
    const char* home = reinterpret_cast<const char*>(&slots[BlockPlace::slot(address, kShardBits) & mask]);
    __builtin_prefetch(home);
    __builtin_prefetch(home + 64);
  }

  size_t size() const { return count_; }
  size_t capacity() const { return mask_ ? mask_ + 1 : 0; }
  // How many slots past its home slot a record of this table sits: what a
  // lookup of it walks beyond the first (the tests' measure of clustering).
  size_t distance_from_home(const Record& record) const {
    return (static_cast<size_t>(&record - slots_) - home(record_address(record))) & mask_;
  }

  // Visits every record, as a BlockRecord; `visit` must not modify the
  // table. An empty table is not read: tables never shrink, and a program
  // that held 3 million blocks and freed them had each pass at exit read
  // 100 MB of empty slots (3 passes: 5% of live3m's run).
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    for (size_t i = 0; count_ && i <= mask_; ++i)
      if (record_address(slots_[i])) visit(full_record(slots_[i]));
  }
  // A record containing `address` (start <= address < start + size, or the
  // start itself for empty blocks). Linear: for error reports only.
  const Record* find_containing(uintptr_t address) const;

  void release();

 private:
  size_t home(uintptr_t address) const { return BlockPlace::slot(address, kShardBits) & mask_; }
  bool grow();

  Record* slots_ = nullptr;
  size_t mask_ = 0;
  size_t count_ = 0;
};

using BlockTable = SlotTable<BlockRecord>;
using CompactTable = SlotTable<CompactRecord>;

}  // namespace nantrack
