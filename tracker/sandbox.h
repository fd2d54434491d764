// Whether the process has confined itself with seccomp (sshd's
// privilege-separated child, a browser's renderer, a service's own
// filter). Its filter then kills it (SIGSYS) at the first system call the
// program itself does not make, and nantrack's usual calls are among those:
// madvise, process_vm_readv, openat, fork, execve. So once the program asks
// for a filter, nantrack keeps to the calls any program that allocates
// makes (mmap, munmap, write to a descriptor it holds, futex, getpid):
// the trace file is opened before the filter goes on, the leak scan, the
// report at exit and the checks made while running are skipped, and
// libunwind's memory test is answered without a system call.
#pragma once

#include <atomic>

namespace nantrack {

inline constinit std::atomic<bool> g_in_sandbox{false};

inline bool in_sandbox() { return g_in_sandbox.load(std::memory_order_relaxed); }

}  // namespace nantrack
