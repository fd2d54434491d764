// Memory the program maps for itself (mmap: a custom allocator's arenas,
// CPython's object pools, a JVM's heap, a suspended coroutine's stack) as
// roots of the leak scan, as valgrind scans it (LeakSanitizer does not): a
// block whose only pointer is kept there is not a leak.
//
// Candidates are the readable, writable, anonymous mappings. Left out:
// - nantrack's own (internal_memory.h): they hold every block's address;
// - the modules' writable segments: globals, scanned already (nantrack's
//   own, like its mappings, never);
// - the regions the program unregistered (__lsan_unregister_root_region);
// - the heap: [heap], and glibc's other heaps and mmapped chunks
//   (glibc_heap_extents.h): a freed block's stale words must not keep a
//   leak reachable;
// - thread stacks: a live thread's is scanned from its stack pointer up
//   (stale frames below must not hide leaks), and glibc keeps the stacks of
//   exited threads, stale frames and all, for new ones;
// - pages not resident: never written, they hold zeros (a swapped-out
//   page goes unread too).
// Only with glibc's malloc underneath: another allocator's metadata,
// mapped like this, holds the addresses of the blocks it serves.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/leak_roots.h"

namespace nantrack {

class ReachabilityScan;

// What the caller knows of the process's memory.
struct KnownMemory {
  const uintptr_t* stack_pointers = nullptr;  // of every thread scanned, sorted
  size_t stack_pointer_count = 0;
  // Every module's writable segments, and the regions the program unregistered.
  const LeakRoots::Range* left_out = nullptr;
  size_t left_out_count = 0;
  const LeakRoots::Range* heap = nullptr;  // glibc's heaps but [heap] (glibc_heap_extents.h)
  size_t heap_count = 0;
};

void scan_program_mappings(ReachabilityScan& scan, const KnownMemory& known);

}  // namespace nantrack
