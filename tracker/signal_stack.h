// The alternate signal stacks nantrack lends threads that have none. A
// thread that overflows its stack gets a SIGSEGV with no stack left to run
// a handler on: without one of these the kernel kills the process at once,
// and the trace (every leak and every error found so far) is lost. On one,
// nantrack's handler writes the trace and the process then dies of the
// same SIGSEGV. The program never sees a lent stack (the sigaltstack hook
// in preload/signal_hooks.cpp); one it installs replaces ours.
#pragma once

#include <csignal>
#include <cstddef>

namespace nantrack {

// The handler that ends the process switches to a fresh stack of its own
// at once: this needs room for the kernel's signal frame (a few KiB with
// AVX-512 state) and a few calls.
inline constexpr size_t kSignalStackBytes = 64 * 1024;

// Installs `memory` (kSignalStackBytes from map_stack(), ours: a handler
// that overflows it meets the guard page rather than the mapping below) as
// this thread's alternate signal stack, unless the thread has one. True
// when it was installed. `thread_has_none`: the caller knows the thread
// has none (it is starting, and the kernel gives a new thread none, or the
// caller just asked), so it need not be asked again.
bool lend_signal_stack(void* memory, bool thread_has_none = false);
// The program installed a stack of its own in place of the one lent.
void forget_lent_signal_stack();
// Before the memory lent to this thread is reused: uninstalls it if it is
// still installed. False when it cannot be, as the thread is running on it
// (a handler that called pthread_exit): then it must not be reused.
bool take_back_signal_stack();
// Whether `stack`, as the kernel reports it, is the one lent to this thread.
bool is_lent_signal_stack(const stack_t& stack);

// The system calls themselves, made here: libnantrack.so defines
// sigaltstack, sigprocmask and syscall for the program (hiding a lent
// stack, keeping our signals deliverable), and a call to any of them from
// here would bind to that definition. 0 or -errno.
int kernel_sigaltstack(const stack_t* stack, stack_t* old_stack);
int kernel_sigprocmask(int how, const sigset_t* set, sigset_t* old_set);
// Blocks every signal on this thread; the mask before, in `previous` when
// given.
void block_all_signals(sigset_t* previous = nullptr);

}  // namespace nantrack
