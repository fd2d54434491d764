// Where the leak scan starts: the program's globals, and every thread's
// stack, registers, static TLS and TLS vector (which holds the TLS of
// dlopen'd modules). Collected at the snapshot; the scan itself is
// tracker/reachability.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/reachability.h"

namespace nantrack {

class LeakRoots {
 public:
  constexpr LeakRoots() = default;

  // At start-up: the size of the static TLS area, from ld.so.
  void init();
  // The writable segments of every loaded module but the one containing
  // `own_address` (libnantrack.so: its tables would reach every block).
  // Takes the loader's lock, so it runs before the heap is frozen.
  void collect_globals(uintptr_t own_address);
  // Scans every root, stopping the other threads meanwhile. Called with
  // the heap frozen, from the snapshot, not from a signal handler. This
  // thread's stack is read from `own_stack_begin` up (0: from the caller).
  void scan(ReachabilityScan& scan, uintptr_t own_stack_begin) const;

 private:
  struct Range {
    uintptr_t begin;
    uintptr_t end;
  };
  static constexpr size_t kMaxGlobals = 1024;

  void scan_thread(ReachabilityScan& scan, uintptr_t stack_pointer, uintptr_t thread_pointer,
                   const void* registers, size_t register_bytes) const;

  Range globals_[kMaxGlobals] = {};
  size_t global_count_ = 0;
  size_t static_tls_bytes_ = 0;
};

}  // namespace nantrack
