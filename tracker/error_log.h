// The errors found during the run (bad frees, heap overflows, writes after
// free), kept for the trace. An error that repeats one already kept (the
// same kind from the same call, with the same stacks: a bad free in a loop)
// is counted on it rather than kept again, so a program that makes the same
// mistake a million times gets one entry with its count, and the count is
// right however many times it came. Errors are rare, so a lock is fine here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/kinds.h"
#include "tracker/stack_depot.h"
#include "tracker/sync.h"

namespace nantrack {

struct ErrorRecord {
  ErrorKind kind = ErrorKind::InvalidFree;
  uint8_t alloc_kind = 0;  // AllocKind, 0 when unknown
  DeallocKind dealloc_kind = DeallocKind::Free;
  InvalidPointer invalid_pointer = InvalidPointer::None;
  uint32_t thread = 0;
  uintptr_t address = 0;
  uintptr_t block_address = 0;
  uint64_t block_size = 0;
  StackId stack = kNoStack;
  StackId alloc_stack = kNoStack;
  StackId free_stack = kNoStack;
  // Heap overflow and write after free: what changed (trace_format.h).
  OverflowSide overflow_side = OverflowSide::None;
  uint32_t bytes_changed = 0;
  uint64_t first_changed_offset = 0;
};

class ErrorLog {
 public:
  constexpr ErrorLog() = default;
  ErrorLog(const ErrorLog&) = delete;
  ErrorLog& operator=(const ErrorLog&) = delete;

  bool init();
  void release();  // for tests; not used in the traced process
  // What add() did with an error.
  enum class Added {
    New,      // kept, as error count() - 1
    Repeat,   // counted on the error kept as `index`
    NotKept,  // a new error, but past capacity (said once on stderr)
  };
  // `index`: where it went (New, Repeat).
  Added add(const ErrorRecord& error, size_t& index);
  size_t count() const { return count_; }
  const ErrorRecord& operator[](size_t i) const { return records_[i]; }
  // How many times error `i` came, the first included.
  uint64_t occurrences(size_t i) const { return occurrences_[i]; }
  Mutex& mutex() { return mutex_; }

  static constexpr size_t kCapacity = 65536;

 private:
  // Index slots hold 1 + an error's index, 0 when free; twice the capacity
  // keeps probes short.
  static constexpr size_t kIndexSlots = 2 * kCapacity;
  static bool same_error(const ErrorRecord& a, const ErrorRecord& b);
  static uint64_t hash_of(const ErrorRecord& error);

  Mutex mutex_;
  ErrorRecord* records_ = nullptr;
  uint64_t* occurrences_ = nullptr;
  uint32_t* index_ = nullptr;
  size_t count_ = 0;
  bool full_ = false;
};

// Prints one error on stderr at once, in the text report's layout, with
// stacks as "function (module+offset)" from the dynamic symbol table; the
// CLI's report symbolizes them fully from the trace later.
void print_error(const ErrorRecord& error, const StackDepot& depot, uint32_t pid);

}  // namespace nantrack
