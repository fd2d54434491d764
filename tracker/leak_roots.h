// Where the leak scan starts: the program's globals, and every thread's
// stack, registers, static TLS and TLS vector (which holds the TLS of
// dlopen'd modules). Collected at the snapshot; the scan itself is
// tracker/reachability.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ucontext.h>

#include "tracker/module_map.h"
#include "tracker/reachability.h"

namespace nantrack {

class LeakRoots {
 public:
  struct Range {
    uintptr_t begin;
    uintptr_t end;
  };

  constexpr LeakRoots() = default;

  // At start-up: the size of the static TLS area and the loader's code,
  // from ld.so. `scan_mappings`: scan the memory the program maps for
  // itself too (tracker/mapped_roots.h).
  void init(bool scan_mappings);
  // Whether `pc` lies in the dynamic loader's code. What the loader
  // allocates (TLS vectors, link maps) is its own to keep, and it keeps
  // pointers to it where no root reaches: a finished thread's TLS vector
  // sits in glibc's cache of thread stacks. Like LeakSanitizer, the scan
  // takes those blocks as roots.
  bool is_loader_code(uintptr_t pc) const { return loader_code_.contains(pc); }
  // The writable segments of every loaded module but the one containing
  // `own_address` (libnantrack.so: its tables would reach every block),
  // and that one's apart. Takes the loader's lock, so it runs before the
  // heap is frozen.
  void collect_globals(uintptr_t own_address);
  // __lsan_register_root_region: [begin, begin + size) is scanned like
  // globals, and read safely (it may be unmapped by then). False when the
  // table is full. The caller serialises these with the scan.
  bool add_region(uintptr_t begin, size_t size);
  // Removes one region registered with exactly this begin and size; false
  // if there is none. The program says the region is no root now: it is
  // left out of its mappings too, until registered again.
  bool remove_region(uintptr_t begin, size_t size);
  // A thread's static TLS and TCB, around its thread pointer (TLS variant
  // II: the TLS blocks below it, the TCB above); before init(), the TCB.
  Range static_tls_of(uintptr_t thread_pointer) const;
  // Of the registers getcontext() saved on the thread running the scan, the
  // ones that can hold the program's values: the callee-saved ones (rbx,
  // rbp, r12-r15). getcontext() also saves the argument registers, which
  // hold what the scan's own code last passed, a block's address among them,
  // and leaves others unwritten: read as roots, they hid a leak.
  struct CalleeSavedRegisters {
    uintptr_t values[6];
  };
  static CalleeSavedRegisters callee_saved_registers(const mcontext_t& context);
  // Where the thread running the scan left the program: its frames start
  // at `stack` (0: at the scan's own frame), and `registers`, when given,
  // are its callee-saved registers as they were when it called nantrack
  // (preload/leak_check_entry.S). Without them the registers are read at
  // the scan, where nantrack's code may have spilled the program's values
  // into its own frames and reused the registers. `interrupted`, when
  // given, replaces both: the context a signal handler of ours received.
  // Its frames start at the interrupted stack pointer (below it, the red
  // zone), and every register it had is a root: the kernel saved them in
  // the signal frame, which is on the alternate stack when the handler
  // runs there.
  struct ProgramState {
    uintptr_t stack = 0;
    const CalleeSavedRegisters* registers = nullptr;
    const ucontext_t* interrupted = nullptr;
  };
  // glibc's heaps but [heap] (glibc_heap_extents.h), for init()'s
  // `scan_mappings`; unknown: the program's mappings are not scanned.
  struct HeapExtents {
    bool known = false;
    const Range* ranges = nullptr;
    size_t count = 0;
  };
  // Scans every root, stopping the other threads meanwhile. Called with
  // the heap frozen, from the snapshot, not from a signal handler. This
  // thread's stack is read from `program.stack` up (0: from the caller).
  void scan(ReachabilityScan& scan, ProgramState program, HeapExtents heap) const;
  // Whether scan() reads the memory the program maps for itself.
  bool scans_mappings() const { return scan_mappings_; }

 private:
  // Room kept for modules loaded between counting and listing them.
  static constexpr size_t kGlobalsToSpare = 64;
  // A fixed table: registering may not allocate. LeakSanitizer's users
  // register a handful (one per custom arena).
  static constexpr size_t kMaxRegions = 256;

  // The memory the program maps for itself (tracker/mapped_roots.h).
  // `stack_pointers`: every scanned thread's, sorted.
  void scan_mappings(ReachabilityScan& scan, const uintptr_t* stack_pointers, size_t threads, HeapExtents heap) const;
  // `stack_end`: where the mapping holding the stack pointer ends (0: unknown).
  void scan_thread(ReachabilityScan& scan, uintptr_t stack_pointer, uintptr_t stack_end, uintptr_t thread_pointer,
                   const void* registers, size_t register_bytes) const;

  // The modules' writable segments, mapped to fit (collect_globals).
  Range* globals_ = nullptr;
  size_t global_capacity_ = 0;
  size_t global_count_ = 0;
  // libnantrack.so's writable segments: never roots.
  static constexpr size_t kMaxOwnSegments = 4;
  Range own_segments_[kMaxOwnSegments] = {};
  size_t own_segment_count_ = 0;
  bool scan_mappings_ = false;
  Range regions_[kMaxRegions] = {};
  size_t region_count_ = 0;
  Range released_[kMaxRegions] = {};  // unregistered, not registered again
  size_t released_count_ = 0;
  size_t static_tls_bytes_ = 0;  // below the thread pointer
  CodeRange loader_code_;
};

}  // namespace nantrack
