// sigprocmask, passed on to libc's, except for the calls libunwind makes
// while it unwinds a stack for us.
//
// libunwind blocks every signal around each dl_iterate_phdr it makes to
// find a pc's unwind table (Gfind_proc_info-lsb.c), and it does that on
// every miss of its per-thread cache of register states, which holds 128
// entries and cannot be enlarged in per-thread mode. That is two system
// calls per lookup: on a program with much code (cc1plus) a third of its
// time under nantrack went to them. The blocking protects nothing there:
// a signal handler that allocates while we unwind goes straight to libc
// (shim.h's re-entrancy flag), and the loader's lock that dl_iterate_phdr
// takes is recursive. So those calls, and only those (made from
// libunwind's code while this thread is inside nantrack), do nothing; the
// program's own calls, and libunwind's when the program uses it itself,
// reach libc as before.
#include <signal.h>

#include "preload/shim.h"

using namespace nantrack;

namespace {
using SigprocmaskFunction = int (*)(int, const sigset_t*, sigset_t*);
constinit SigprocmaskFunction g_next_sigprocmask = nullptr;

// Looked up as the library loads: signal handlers call sigprocmask, and
// dlsym is not safe there (see preload/syscall_hook.cpp).
[[gnu::constructor]] void find_next_sigprocmask() { shim::next_definition(g_next_sigprocmask, "sigprocmask"); }
}  // namespace

NANTRACK_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old_set) {
  if (shim::t_inside && tracker().is_unwinder_code(reinterpret_cast<uintptr_t>(__builtin_return_address(0)))) {
    // libunwind only saves the mask to restore it, with a call that lands
    // here too.
    if (old_set) sigemptyset(old_set);
    return 0;
  }
  return shim::next_definition(g_next_sigprocmask, "sigprocmask")(how, set, old_set);
}
