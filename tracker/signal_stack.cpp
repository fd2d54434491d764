#include "tracker/signal_stack.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "tracker/platform.h"

namespace nantrack {

namespace {

// The memory lent to this thread while it is installed.
NANTRACK_TLS void* t_lent = nullptr;

// The system call itself: libnantrack.so defines sigaltstack for the
// program, and a call to it from here would bind to that definition.
int kernel_sigaltstack(const stack_t* stack, stack_t* old_stack) {
  return static_cast<int>(syscall(SYS_sigaltstack, stack, old_stack));
}

}  // namespace

bool lend_signal_stack(void* memory) {
  stack_t current{};
  if (!memory || kernel_sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return false;
  stack_t lent{};
  lent.ss_sp = memory;
  lent.ss_size = kSignalStackBytes;
  if (kernel_sigaltstack(&lent, nullptr) != 0) return false;
  t_lent = memory;
  return true;
}

bool take_back_signal_stack() {
  if (!t_lent) return true;
  stack_t current{};
  if (kernel_sigaltstack(nullptr, &current) != 0) return false;
  if (is_lent_signal_stack(current)) {
    if (current.ss_flags & SS_ONSTACK) return false;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    if (kernel_sigaltstack(&disable, nullptr) != 0) return false;
  }
  t_lent = nullptr;
  return true;
}

bool is_lent_signal_stack(const stack_t& stack) {
  return t_lent && stack.ss_sp == t_lent && !(stack.ss_flags & SS_DISABLE);
}

}  // namespace nantrack
