// One shard's live blocks: a table of 16-byte CompactRecords for the
// blocks whose fields fit one (nearly all), and one of full BlockRecords
// for the rest (blocks of 128 MiB and more, alignments above 1 KiB,
// threads numbered from 2^16), which most processes never use. Lookups
// try the compact table first; the other is read only when it holds
// something. Not thread-safe: under the shard's lock, as the tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/block_table.h"

namespace nantrack {

class LiveBlocks {
 public:
  constexpr LiveBlocks() = default;
  LiveBlocks(const LiveBlocks&) = delete;
  LiveBlocks& operator=(const LiveBlocks&) = delete;

  // A block find() found: its record, and the slot it is in (one of the
  // two), valid until the tables change.
  struct Found {
    BlockRecord record;
    CompactRecord* compact = nullptr;
    BlockRecord* full = nullptr;
  };

  // Inserts or replaces the record for record.address. False only when a
  // table could not grow (mmap failed): the block then goes untracked.
  bool insert(const BlockRecord& record) {
    if (CompactRecord compact; CompactRecord::make(record, compact)) return insert(compact);
    compact_.erase(record.address);
    return full_.insert(record);
  }
  // The same for a record made compact already (CompactRecord::make()).
  bool insert(const CompactRecord& compact) {
    if (full_.size()) [[unlikely]]
      full_.erase(compact.address());
    return compact_.insert(compact);
  }
  bool find(uintptr_t address, Found& found) {
    if (CompactRecord* slot = compact_.find(address)) [[likely]] {
      found = {slot->decode(), slot, nullptr};
      return true;
    }
    if (!full_.size()) return false;
    BlockRecord* slot = full_.find(address);
    if (!slot) return false;
    found = {*slot, nullptr, slot};
    return true;
  }
  // Removes the block find() found.
  void remove(const Found& found) {
    if (found.compact)
      compact_.remove(*found.compact);
    else
      full_.remove(*found.full);
  }
  // Whether update() can take `record` for the block find() found: it
  // fits the same table. A change of kind or of `ignored` always does.
  static bool can_update(const Found& found, const BlockRecord& record) {
    return CompactRecord::fits(record) == (found.compact != nullptr);
  }
  // Overwrites the record of the block find() found, in its slot;
  // can_update() must hold.
  void update(const Found& found, const BlockRecord& record) {
    if (found.compact)
      CompactRecord::make(record, *found.compact);
    else
      *found.full = record;
  }
  void prefetch(uintptr_t address) const { compact_.prefetch(address); }

  size_t size() const { return compact_.size() + full_.size(); }
  // Visits every record; `visit` must not modify the tables.
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    compact_.for_each(visit);
    full_.for_each(visit);
  }
  // The record of a block containing `address` (see SlotTable). Linear:
  // for error reports only.
  bool find_containing(uintptr_t address, BlockRecord& found) const {
    if (const CompactRecord* compact = compact_.find_containing(address)) {
      found = compact->decode();
      return true;
    }
    if (const BlockRecord* full = full_.find_containing(address)) {
      found = *full;
      return true;
    }
    return false;
  }

  void release() {
    compact_.release();
    full_.release();
  }

 private:
  CompactTable compact_;
  BlockTable full_;
};

}  // namespace nantrack
