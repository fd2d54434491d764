// Running a function on a stack of our own. A call into the allocator made
// on a stack the program set up itself (a coroutine's, a signal handler's
// alternate stack) is unwound by libunwind, which takes about 6 KiB of the
// stack it runs on; such stacks are often small, and what the program left
// free there may not hold it. The unwind runs on the thread's own unwind
// stack instead.
//
// Signal handlers run on whatever thread the signal finds, whose stack may
// be small (PTHREAD_STACK_MIN is 16 KiB): the trace written when a signal
// ends the process, and a leak check, run on a stack mapped for the call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/leak_roots.h"
#include "tracker/platform.h"

// Calls fn(arg) with the stack pointer at `stack_top` (16-byte aligned) and
// returns when it does. Its frame has unwind tables, so an unwind from
// inside fn goes on past it to the caller's frames, on the caller's stack.
extern "C" void nantrack_call_on_stack(void (*fn)(void*), void* arg, void* stack_top);

namespace nantrack {

// Calls fn(arg) on a stack mapped for the call (a guard page below) and
// unmapped after; on this thread's own when none can be mapped, or in a
// seccomp sandbox, whose filter may not allow mmap and mprotect. Meanwhile
// a leak scan that stops this thread reads its own stack from where the
// call left it. Async-signal-safe. The size is ample: a trace written with
// its leak scan overflowed a 24 KiB stack, and ran in a 32 KiB one.
inline constexpr size_t kFreshStackBytes = 256 * 1024;
void call_on_fresh_stack(void (*fn)(void*), void* arg, size_t bytes = kFreshStackBytes);

// Set by call_on_fresh_stack() while this thread runs on such a stack:
// where its own stack resumes (0 otherwise).
extern NANTRACK_TLS volatile uintptr_t t_own_stack_resumes_at;
// The same for thread `tid`, as another thread sees it: for a scan that
// reads a thread's stack where it waits, without stopping it
// (thread_stop.cpp). 0 when it is not on such a stack, or when too many
// threads were at once for it to be told.
uintptr_t own_stack_resumes_at(int32_t tid);

// The program's part of this thread as a scan run on another stack must
// read it: the calling frame's stack pointer (its spills, and all frames
// above, are the program's or hold what the program left there) and its
// callee-saved registers at this point, written to `registers`.
NANTRACK_ALWAYS_INLINE LeakRoots::ProgramState program_state_here(LeakRoots::CalleeSavedRegisters& registers) {
  uintptr_t stack;
  asm volatile(
      "mov %%rbx, 0(%1)\n\t"
      "mov %%rbp, 8(%1)\n\t"
      "mov %%r12, 16(%1)\n\t"
      "mov %%r13, 24(%1)\n\t"
      "mov %%r14, 32(%1)\n\t"
      "mov %%r15, 40(%1)\n\t"
      "mov %%rsp, %0"
      : "=r"(stack)
      : "r"(registers.values)
      : "memory");
  return {stack, &registers};
}

}  // namespace nantrack
