#include "tracker/signal_stack.h"

#include <sys/syscall.h>

#include "tracker/platform.h"

namespace nantrack {

namespace {

// The memory lent to this thread while it is installed.
NANTRACK_TLS void* t_lent = nullptr;

}  // namespace

int kernel_sigaltstack(const stack_t* stack, stack_t* old_stack) {
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "0"(long{SYS_sigaltstack}), "D"(stack), "S"(old_stack)
               : "rcx", "r11", "memory");
  return static_cast<int>(result);
}

int kernel_sigprocmask(int how, const sigset_t* set, sigset_t* old_set) {
  long result;
  register long set_size asm("r10") = _NSIG / 8;  // the kernel's sigset_t, not glibc's 128 bytes
  asm volatile("syscall"
               : "=a"(result)
               : "0"(long{SYS_rt_sigprocmask}), "D"(long{how}), "S"(set), "d"(old_set), "r"(set_size)
               : "rcx", "r11", "memory");
  return static_cast<int>(result);
}

void block_all_signals(sigset_t* previous) {
  sigset_t all;
  sigfillset(&all);
  kernel_sigprocmask(SIG_SETMASK, &all, previous);
}

bool lend_signal_stack(void* memory, bool thread_has_none) {
  if (!memory) return false;
  stack_t current{};
  if (!thread_has_none && (kernel_sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)))
    return false;
  stack_t lent{};
  lent.ss_sp = memory;
  lent.ss_size = kSignalStackBytes;
  if (kernel_sigaltstack(&lent, nullptr) != 0) return false;
  t_lent = memory;
  return true;
}

void forget_lent_signal_stack() { t_lent = nullptr; }

bool take_back_signal_stack() {
  if (!t_lent) return true;
  // One call: the kernel refuses (EPERM) while the thread runs on the
  // stack. One the program installed with a system call of its own in
  // place of ours (not through the sigaltstack hook) is put back.
  stack_t disable{}, replaced{};
  disable.ss_flags = SS_DISABLE;
  if (kernel_sigaltstack(&disable, &replaced) != 0) return false;
  if (!(replaced.ss_flags & SS_DISABLE) && replaced.ss_sp != t_lent) kernel_sigaltstack(&replaced, nullptr);
  t_lent = nullptr;
  return true;
}

bool is_lent_signal_stack(const stack_t& stack) {
  return t_lent && stack.ss_sp == t_lent && !(stack.ss_flags & SS_DISABLE);
}

}  // namespace nantrack
