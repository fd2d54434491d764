// What the tracker knows of one heap block: where and how large it is, how
// it was allocated, and its stacks. Live blocks' records are in the block
// table (tracker/block_table.h), freed ones' in the quarantine
// (tracker/quarantine.h).
#pragma once

#include <cstdint>

#include "tracker/kinds.h"
#include "tracker/stack_depot.h"

namespace nantrack {

struct BlockRecord {
  uintptr_t address = 0;  // 0 marks an empty slot
  // 49 bits are 512 TiB: more than the 47-bit user address space holds.
  uint64_t size : 49 = 0;
  uint64_t kind : 7 = 0;  // AllocKind
  uint64_t freed : 1 = 0;  // in quarantine: freed by the program, not yet by us
  // Never a leak, and a root of the leak scan (__lsan_ignore_object, or
  // allocated while __lsan_disable was in force on its thread).
  uint64_t ignored : 1 = 0;
  // log2 of the alignment asked for: it sizes the front redzone
  // (tracker/guard_bytes.h), so the raw block libc gave can be found again.
  uint64_t alignment_log2 : 6 = 4;
  StackId alloc_stack = kNoStack;
  uint32_t thread_or_free_stack = 0;  // live: allocating thread; freed: free stack

  AllocKind alloc_kind() const { return static_cast<AllocKind>(kind); }
  uint32_t thread() const { return freed ? 0 : thread_or_free_stack; }
  StackId free_stack() const { return freed ? thread_or_free_stack : kNoStack; }
  // Whether `where` is in the block (or is the start of an empty one).
  bool contains(uintptr_t where) const { return where >= address && where - address < (size ? size : 1); }
};
static_assert(sizeof(BlockRecord) == 24);

// A live block's record in 16 bytes, for the blocks whose fields fit: an
// address below 2^48, under 128 MiB, aligned to at most 1 KiB, from a
// thread numbered below 2^16, with a stack id below 2^29 (the depot's
// 4 GiB in 8-byte units). Nearly every block fits; the others keep a
// BlockRecord (LiveBlocks). The tables' memory is most of the cost of
// millions of live blocks: 3 million live 32-byte blocks took 0.94 s and
// 372 MB with 24-byte records, 0.70 s and 339 MB with these (1.05 s with
// 32-byte ones). Two plain words, shifted and masked rather than bit
// fields: making and reading them is on every malloc's and free's path.
struct CompactRecord {
  // The address in the low 48 bits (0 marks an empty slot), the thread in
  // the high 16.
  uint64_t address_and_thread = 0;
  // From bit 0: size 27, alignment_log2 - 4 in 3, kind 4, ignored 1,
  // stack 29.
  uint64_t fields = 0;

  static constexpr uint64_t kAddressMask = (uint64_t{1} << 48) - 1;

  // Whether a record with these fields fits, and if so, `compact` holds it.
  // Plain values: a new block's record is made here at once, not through
  // a BlockRecord's bit fields.
  static bool make(uintptr_t address, uint64_t size, uint8_t kind, bool ignored, uint8_t alignment_log2,
                   StackId stack, uint32_t thread, CompactRecord& compact) {
    const uint64_t alignment = uint64_t{alignment_log2} - 4;  // wraps below 4
    if (((address >> 48) | (size >> 27) | (alignment >> 3) | (kind >> 4) | (thread >> 16) | (uint64_t{stack} >> 29)) != 0)
      return false;
    compact.address_and_thread = address | uint64_t{thread} << 48;
    compact.fields = size | alignment << 27 | uint64_t{kind} << 30 | uint64_t{ignored} << 34 | uint64_t{stack} << 35;
    return true;
  }
  static bool make(const BlockRecord& record, CompactRecord& compact) {
    return !record.freed && make(record.address, record.size, static_cast<uint8_t>(record.kind), record.ignored,
                                 static_cast<uint8_t>(record.alignment_log2), record.alloc_stack,
                                 record.thread_or_free_stack, compact);
  }
  static bool fits(const BlockRecord& record) {
    CompactRecord unused;
    return make(record, unused);
  }
  uintptr_t address() const { return address_and_thread & kAddressMask; }
  // All fields at once, as Tracker::live_record() does.
  BlockRecord decode() const {
    return BlockRecord{.address = address(),
                       .size = fields & ((uint64_t{1} << 27) - 1),
                       .kind = (fields >> 30) & 15,
                       .freed = 0,
                       .ignored = (fields >> 34) & 1,
                       .alignment_log2 = ((fields >> 27) & 7) + 4,
                       .alloc_stack = static_cast<StackId>(fields >> 35),
                       .thread_or_free_stack = static_cast<uint32_t>(address_and_thread >> 48)};
  }
};
static_assert(sizeof(CompactRecord) == 16);

// The address a table slot holds; 0 when empty.
inline uintptr_t record_address(const BlockRecord& record) { return record.address; }
inline uintptr_t record_address(const CompactRecord& record) { return record.address(); }
// A slot's record as the tracker reads it.
inline const BlockRecord& full_record(const BlockRecord& record) { return record; }
inline BlockRecord full_record(const CompactRecord& record) { return record.decode(); }

}  // namespace nantrack
