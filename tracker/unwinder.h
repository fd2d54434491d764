// Captures the calling thread's stack with libunwind's unw_backtrace (DWARF
// CFI from .eh_frame, per-thread cache: correct without frame pointers).
//
// libunwind is dlopen'd with RTLD_LOCAL rather than linked: libunwind.so
// exports _Unwind_Backtrace and a weak backtrace(), and in the global scope
// those would replace the program's own (libgcc's, glibc's).
#pragma once

#include <cstdint>

#include "tracker/module_map.h"

namespace nantrack {

class Unwinder {
 public:
  constexpr Unwinder() = default;

  // Loads libunwind. Not safe inside the dynamic loader's own callbacks:
  // call it from a constructor. Returns false (and stacks stay empty) when
  // libunwind cannot be loaded.
  bool load();
  bool loaded() const { return backtrace_ != nullptr; }
  // libunwind's code (empty before load()).
  const CodeRange& library_code() const { return library_code_; }

  // Frames inside [begin, end) are dropped, as are libunwind's: the
  // tracker's own (ours can also sit mid-stack: the wrapper around main).
  // Up to kMaxSkipRanges ranges.
  void skip_frames_in(uintptr_t begin, uintptr_t end);

  static constexpr uint32_t kMaxDepth = 256;
  static constexpr uint32_t kMaxSkippedFrames = 16;
  // What a capture's `pcs` must hold: libunwind writes our own frames there
  // too before they are dropped, so that no second array of return
  // addresses takes the stack it runs on, which may be a small one.
  static constexpr uint32_t kCaptureEntries = kMaxDepth + kMaxSkippedFrames;

  // Writes up to max_depth pcs (return address - 1, innermost first) of the
  // caller's stack, without our own frames, into `pcs` (kCaptureEntries of
  // them). Returns the depth.
  uint32_t capture(uintptr_t* pcs, uint32_t max_depth) const;
  // Whether a frame at this pc is one of ours (dropped from stacks).
  bool skips(uintptr_t pc) const;

 private:
  static constexpr int kMaxSkipRanges = 4;

  using BacktraceFn = int (*)(void**, int);
  BacktraceFn backtrace_ = nullptr;
  CodeRange library_code_;
  CodeRange skip_[kMaxSkipRanges] = {};
  int skip_count_ = 0;
};

}  // namespace nantrack
