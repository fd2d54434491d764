// prctl(PR_SET_SECCOMP) and the seccomp system call (through syscall()),
// passed on to libc's: before a filter goes on, nantrack opens its trace
// and settles where its messages go; once it is on, nantrack keeps to the
// system calls a sandbox allows (tracker/sandbox.h). A filter that only a
// raw syscall instruction installs goes unseen.
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstdarg>

#include "preload/sandbox_hooks.h"
#include "preload/shim.h"
#include "tracker/sandbox.h"

using namespace nantrack;

namespace {

using PrctlFunction = int (*)(int, unsigned long, unsigned long, unsigned long, unsigned long);
constinit PrctlFunction g_next_prctl = nullptr;

[[gnu::constructor]] void find_next_prctl() { shim::next_definition(g_next_prctl, "prctl"); }

bool installs_filter(long seccomp_operation) {
  return seccomp_operation == SECCOMP_SET_MODE_STRICT || seccomp_operation == SECCOMP_SET_MODE_FILTER;
}

// Runs `install` (which asks for a sandbox) with nantrack ready for it.
template <typename Install>
long with_sandbox_noted(Install&& install) {
  if (tracker().initialized()) {
    shim::InsideNantrack inside;
    tracker().prepare_for_sandbox();
  }
  const long result = install();
  // 0, or for seccomp() a listener's descriptor (or, when a TSYNC fails, a
  // thread id: taking that for a sandbox only costs what it skips).
  if (result >= 0) g_in_sandbox.store(true, std::memory_order_relaxed);
  return result;
}

}  // namespace

long nantrack::shim::seccomp_with_sandbox_noted(const long* args, long (*next)(long, ...)) {
  auto pass_on = [&] { return next(SYS_seccomp, args[0], args[1], args[2], args[3], args[4], args[5]); };
  if (!installs_filter(args[0])) return pass_on();
  return with_sandbox_noted(pass_on);
}

// prctl takes up to four arguments after the option, passed on as they
// came (see syscall()'s note in syscall_hook.cpp).
NANTRACK_EXPORT int prctl(int option, ...) {
  va_list list;
  va_start(list, option);
  unsigned long args[4];
  for (unsigned long& arg : args) arg = va_arg(list, unsigned long);
  va_end(list);
  auto pass_on = [&] { return shim::next_definition(g_next_prctl, "prctl")(option, args[0], args[1], args[2], args[3]); };
  if (option != PR_SET_SECCOMP) return pass_on();
  return static_cast<int>(with_sandbox_noted(pass_on));
}
