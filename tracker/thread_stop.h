// Stops every other thread of the process for the leak scan, with a signal
// rather than ptrace: the tool must keep working under gdb and strace and
// in containers that forbid ptrace (where LeakSanitizer fails). Each thread
// saves its registers and stack pointer from its signal context, then
// sleeps on a futex until resume(). A thread that blocks the signal while
// it waits in a system call is not stopped: /proc says where its stack
// pointer is (blocked_thread()). A wait the signal cuts short is made
// again as the handler returns (tracker/interrupted_wait.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace nantrack {

struct StoppedThread {
  uintptr_t stack_pointer;
  uintptr_t thread_pointer;  // pthread_self(): the TCB, static TLS just below
  const void* registers;     // the general registers from its ucontext
  size_t register_bytes;
};

// Installs the handler (once): call at start-up, before threads exist, so
// that no thread can receive the signal with no handler in place.
void install_thread_stop_handler();

// Stops the others; threads that do not answer within 100 ms (signal
// blocked, or stuck in the kernel) are left running, with a line on stderr,
// and so are any the stop has no room for (its table grows to the number
// of threads, with mmap). Returns how many stopped.
size_t stop_other_threads();
StoppedThread stopped_thread(size_t index);
// The threads stop_other_threads() could not stop (they block its signal,
// as worker threads that leave signals to one sigwait()ing thread do, or
// did not answer in time) but found waiting in a system call, with the
// stack pointer /proc/self/task/TID/syscall gave: their stacks can be read,
// their registers cannot. They may go on running.
struct BlockedThread {
  pid_t tid;
  uintptr_t stack_pointer;
};
size_t blocked_threads();
BlockedThread blocked_thread(size_t index);
void resume_other_threads();

}  // namespace nantrack
