// Waits the leak scan's stop signal must not cut short.
//
// A thread stopped for the scan runs a signal handler, and a handler makes
// the wait the thread sleeps in fail with EINTR once it returns when that
// wait is poll(), epoll_wait(), select(), pause(), nanosleep(), a futex or
// socket wait with a timeout and a few more, whatever SA_RESTART says.
// Natively nothing interrupted it: event loops log the error, some exit
// (the program's worker threads sit in such waits when it ends, which is
// when every leak check runs). A stop that runs no handler (ptrace's,
// SIGSTOP's) has the kernel make the call again instead, and so does the
// stop handler here: before it returns, it turns the context it returns to
// back to the system call instruction, with the call's number and
// arguments, so that the thread goes on waiting.
//
// Only a call seen from outside (/proc) before the signal was sent, at the
// same instruction and stack pointer and with the same arguments, and
// failing with EINTR, is made again; and not while a signal of the
// program's own with a handler is pending: that signal is what natively
// interrupts the wait, and its EINTR must reach the program.
//
// A wait the kernel counts down is made again from the time it has left
// where the program lets the kernel say it (select()'s and ppoll()'s
// timeout, nanosleep()'s remainder; glibc's sleep() passes one), and in
// full otherwise (poll()'s and epoll_wait()'s milliseconds, usleep()): such
// a wait may end later than it would have, by at most the time it had
// waited, as if the thread had not been scheduled for that long. A wait
// for an absolute time (glibc's sem_timedwait, pthread_cond_timedwait)
// ends when it would have.
#pragma once

#include <cstdint>

namespace nantrack {

// The system call a thread waits in, as /proc/self/task/TID/syscall tells.
struct BlockingCall {
  long number = -1;  // -1: running, or stopped outside a call, or unknown
  uintptr_t args[6] = {};
  uintptr_t stack_pointer = 0;
  uintptr_t resume_address = 0;  // just past its syscall instruction
};

// Called by the stop signal's handler (signal `stop_signal`) just before
// it returns to `context` (its ucontext_t): makes `call` again if it is
// what the thread was interrupted in, as said above.
void restart_if_interrupted(const BlockingCall& call, void* context, int stop_signal);

}  // namespace nantrack
