// syscall(), passed on to libc's, with four calls seen on the way:
// libunwind's memory test (unwinder_pipe_hooks.cpp), exit_group, which
// ends the process without exit() or _exit() and would leave no trace,
// seccomp, which sandboxes it (confinement_hooks.cpp), and sigaltstack,
// which must not show the program the stack we lent its thread
// (tracker/signal_stack.h): it goes to our sigaltstack.
#include <sys/syscall.h>

#include <csignal>
#include <cstdarg>

#include "preload/confinement_hooks.h"
#include "preload/finish.h"
#include "preload/shim.h"
#include "preload/unwinder_pipe_hooks.h"

using namespace nantrack;

namespace {

using SyscallFunction = long (*)(long, ...);
constinit SyscallFunction g_next_syscall = nullptr;

// Looked up as the library loads, not at the first call: a program may
// make its first syscall() in a signal handler (a crash reporter's gettid),
// where dlsym could deadlock on the loader's lock or malloc's.
[[gnu::constructor]] void find_next_syscall() { shim::next_definition(g_next_syscall, "syscall"); }

}  // namespace

// syscall() takes up to six arguments after the number, and is passed on
// with all six: what the caller did not pass is whatever its registers and
// stack slot hold, which the kernel ignores for that call (glibc's syscall
// itself loads all six registers).
NANTRACK_EXPORT long syscall(long number, ...) {
  va_list list;
  va_start(list, number);
  long args[6];
  for (long& arg : args) arg = va_arg(list, long);
  va_end(list);
  long result = 0;
  if (shim::answer_libunwind_memory_test(number, args, __builtin_return_address(0), result)) return result;
  if (number == SYS_exit_group) finish_without_destructors(static_cast<int>(args[0]));
  if (number == SYS_seccomp) return shim::seccomp_with_sandbox_noted(args, shim::next_definition(g_next_syscall, "syscall"));
  if (number == SYS_sigaltstack)
    return sigaltstack(reinterpret_cast<const stack_t*>(args[0]), reinterpret_cast<stack_t*>(args[1]));
  return shim::next_definition(g_next_syscall, "syscall")(number, args[0], args[1], args[2], args[3], args[4],
                                                          args[5]);
}
