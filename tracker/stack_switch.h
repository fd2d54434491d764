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
// Either way a leak scan must read the thread's own stack, not ours: the
// stacks of ours in use are listed, with where each thread left its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "tracker/leak_roots.h"
#include "tracker/platform.h"

// Calls fn(arg) with the stack pointer at `stack_top` (16-byte aligned) and
// returns when it does. Its frame has unwind tables, so an unwind from
// inside fn goes on past it to the caller's frames, on the caller's stack.
extern "C" void nantrack_call_on_stack(void (*fn)(void*), void* arg, void* stack_top);

namespace nantrack {

// A stack of nantrack's own, mapped with a guard page below: `bytes` in
// all, the top at stack + bytes. nullptr when it cannot be mapped.
char* map_stack(size_t bytes);

// Calls fn(arg) with the stack pointer at `stack_top`, on the stack of ours
// [stack, stack_top). Meanwhile a leak scan reads this thread's own stack
// from where this call left it (own_stack_pointer()), whether it stops the
// thread or reads it where it waits.
void call_on_stack_of_ours(void (*fn)(void*), void* arg, char* stack, char* stack_top);

// Calls fn(arg) on a stack mapped for the call and unmapped after; on this
// thread's own when none can be mapped, or in a seccomp sandbox, whose
// filter may not allow mmap and mprotect. Async-signal-safe. The size is
// ample: a trace written with its leak scan overflowed a 24 KiB stack, and
// ran in a 32 KiB one.
inline constexpr size_t kFreshStackBytes = 256 * 1024;
void call_on_fresh_stack(void (*fn)(void*), void* arg, size_t bytes = kFreshStackBytes);

// The same two for a callable, `function()`, whose captures stay where
// they are (in the caller's frame, on its own stack).
template <typename Function>
void call_on_stack_of_ours(Function&& function, char* stack, char* stack_top) {
  call_on_stack_of_ours([](void* f) { (*static_cast<std::remove_reference_t<Function>*>(f))(); }, &function, stack,
                        stack_top);
}
template <typename Function>
void call_on_fresh_stack(Function&& function) {
  call_on_fresh_stack([](void* f) { (*static_cast<std::remove_reference_t<Function>*>(f))(); }, &function);
}

// Where a thread whose stack pointer is `stack_pointer` has its own stack:
// there, or, when that is on a stack of ours, where it left its own for it.
// A thread stopped or read there while it unwinds, writes a trace or checks
// for leaks has its own stack scanned, not ours. Past kStacksOfOursInUse
// calls at once, the others go unnoticed, read where they are.
inline constexpr size_t kStacksOfOursInUse = 256;
uintptr_t own_stack_pointer(uintptr_t stack_pointer);

// For the life of a handler of ours that the kernel may run on the
// thread's alternate signal stack, called from the program's frames in
// `interrupted` (its ucontext): the alternate stack counts as a stack of
// ours that resumes there. Another thread's leak scan that stops this one
// in the handler (a snapshot waiting for the scan lock) then reads the
// thread's own stack, not the handler's frames alone: blocks kept only
// there looked leaked (26 checks in 30, tests/programs/concurrent_checks.c).
// The handler is installed with every signal blocked, so that no stop
// signal comes before the note is made (2 to 4 checks in 30 still did):
// they are unblocked once it is, but for the handler's own `signal`, and
// blocked again before it goes.
class HandlerOnAltStack {
 public:
  HandlerOnAltStack(const ucontext_t& interrupted, int signal);
  ~HandlerOnAltStack();
  HandlerOnAltStack(const HandlerOnAltStack&) = delete;
  HandlerOnAltStack& operator=(const HandlerOnAltStack&) = delete;

 private:
  void* noted_ = nullptr;
};

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
