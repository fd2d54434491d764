// The state of the program at its call into an allocation function: where
// the call returns to, the stack pointer and the frame-pointer register at
// the call. Unwinding from here gives the program's stack without ours.
#pragma once

#include <cstdint>

namespace nantrack {

struct CallerFrame {
  uintptr_t pc = 0;  // return address into the caller
  uintptr_t sp = 0;  // the caller's stack pointer once the call returns
  uintptr_t fp = 0;  // the caller's rbp at the call
};

// The caller of the function whose frame (rbp-based: built with frame
// pointers) is `frame`: [frame] holds the caller's rbp, [frame+8] the return
// address, and the caller's stack resumes at frame+16.
inline CallerFrame caller_of_frame(const void* frame) {
  const auto* words = static_cast<const uintptr_t*>(frame);
  return {words[1], reinterpret_cast<uintptr_t>(words + 2), words[0]};
}

}  // namespace nantrack

// The caller of the enclosing function. That function must have a frame
// pointer: the preload hooks are built with -fno-omit-frame-pointer.
#define NANTRACK_CALLER_FRAME() ::nantrack::caller_of_frame(__builtin_frame_address(0))
