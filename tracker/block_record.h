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

}  // namespace nantrack
