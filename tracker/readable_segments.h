// The loaded modules' segments one thread's recorded unwinds have read
// from (unwind tables, code), remembered so that the next read there needs
// no lookup. Off the stack, nothing else is read: libunwind reads the code
// at every return address it finds (to tell signal frames), and frames
// without unwind tables (a JIT compiler's code) give it return addresses
// that point anywhere, 0x2 for one in the JVM.
//
// A module's segments stay mapped while it is loaded; the tracker clears
// each thread's list before it unwinds again once any module is unloaded
// (g_unwind_generation, thread_unwind_state.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "tracker/module_map.h"

namespace nantrack {

class ReadableSegments {
 public:
  // Whether `address` is in a readable segment of a loaded module. Most
  // come in runs from one segment (libunwind reads a table it searches a
  // word per byte): the last segment found is looked at first, inline.
  bool contains(uintptr_t address) { return (count_ && segments_[0].contains(address)) || contains_elsewhere(address); }
  void clear() { count_ = 0; }

 private:
  static constexpr size_t kSlots = 16;

  [[gnu::noinline]] bool contains_elsewhere(uintptr_t address) {
    for (size_t i = 1; i < count_; ++i) {
      if (!segments_[i].contains(address)) continue;
      std::swap(segments_[i], segments_[0]);
      return true;
    }
    CodeRange found;
    if (!find_readable_segment(address, found)) return false;
    if (count_ < kSlots) ++count_;
    // The least recently found one makes room.
    for (size_t i = count_ - 1; i > 0; --i) segments_[i] = segments_[i - 1];
    segments_[0] = found;
    return true;
  }

  CodeRange segments_[kSlots];  // the most recently used first
  size_t count_ = 0;
};

}  // namespace nantrack
