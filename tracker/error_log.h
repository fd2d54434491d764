// The errors found during the run (bad frees, heap overflows, writes after
// free),
// kept for the trace. Errors are rare, so a lock is fine here.
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
  // Keeps the error for the trace; past capacity says once on stderr that
  // later errors are only printed.
  void add(const ErrorRecord& error);
  size_t count() const { return count_; }
  const ErrorRecord& operator[](size_t i) const { return records_[i]; }
  Mutex& mutex() { return mutex_; }

 private:
  static constexpr size_t kCapacity = 65536;
  Mutex mutex_;
  ErrorRecord* records_ = nullptr;
  size_t count_ = 0;
  bool full_ = false;
};

// Prints one error on stderr at once, in the text report's layout, with
// stacks as "function (module+offset)" from the dynamic symbol table; the
// CLI's report symbolizes them fully from the trace later.
void print_error(const ErrorRecord& error, const StackDepot& depot, uint32_t pid);

}  // namespace nantrack
