// Unwinds the program's stack from a caller frame with libunwind and
// records every stack word the unwind read, so that the unwind cache
// (unwind_cache.h) can later prove an unwind would come out the same.
//
// It uses libunwind's remote interface over our own process: our accessors
// hand libunwind the caller's pc, sp and rbp as its registers and read
// memory for it, which is how every input of the unwind is seen. Starting
// at the caller also skips our own frames without unwinding them.
// libunwind-x86_64.so.8 is dlopen'd RTLD_LOCAL, like libunwind.so.8 (see
// unwinder.h).
#pragma once

#include <cstdint>

#include "tracker/caller_frame.h"
#include "tracker/readable_segments.h"
#include "tracker/unwind_cache.h"
#include "tracker/unwinder.h"

namespace nantrack {

// A thread's stack: [low, high).
struct StackBounds {
  uintptr_t low = 0;
  uintptr_t high = 0;
  bool contains(uintptr_t address) const { return address >= low && address < high; }
};

class RecordingUnwinder {
 public:
  constexpr RecordingUnwinder() = default;

  // Loads libunwind's remote interface; false if it is missing.
  bool load();
  bool loaded() const { return address_space_ != nullptr; }
  // libunwind-x86_64's code (empty before load()).
  const CodeRange& library_code() const { return library_code_; }
  // Forgets cached unwind tables (a module is about to be unloaded).
  void flush() const;

  // Writes up to max_depth pcs (return address - 1, innermost first) of the
  // stack above `caller`, dropping frames `frames.skips()`, into `pcs`, and
  // every word read from [caller.sp, stack.high) into `recording`. Returns
  // false when the result must not be cached or used: the unwind read a
  // register other than pc, sp and rbp, read stack memory below the
  // caller's sp, went through a signal frame, or read too many words.
  // Off that live stack, only the readable segments of loaded modules
  // (remembered in `segments`) are read; reads below it are checked.
  bool unwind(const CallerFrame& caller, const StackBounds& stack, const Unwinder& frames, uintptr_t* pcs,
              uint32_t max_depth, uint32_t& depth, UnwindRecording& recording, ReadableSegments& segments) const;

 private:
  struct Functions;
  void* address_space_ = nullptr;
  const Functions* functions_ = nullptr;
  CodeRange library_code_;
};

}  // namespace nantrack
