// Calls by which a program takes away rights that nantrack needs at the end
// to open its trace, passed on to libc's with the trace opened just before:
//
// - a seccomp filter, through prctl(PR_SET_SECCOMP) or syscall(SYS_seccomp)
//   as libseccomp asks for it. Once it is on, nantrack also keeps to the
//   system calls a sandbox allows (tracker/sandbox.h), and never opens
//   stderr again for its messages. A filter that a raw syscall
//   instruction installs goes unseen.
// - another user id (setuid, seteuid, setreuid, setresuid), as a daemon
//   started by root drops to its own user: `nantrack run`'s trace
//   directory is root's, mode 0700, and the cwd at start may be too.
// - chroot, after which the trace directory's path names nothing.
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>

#include "preload/confinement_hooks.h"
#include "preload/shim.h"
#include "tracker/sandbox.h"
#include "tracker/stderr_output.h"

using namespace nantrack;

namespace {

using PrctlFunction = int (*)(int, unsigned long, unsigned long, unsigned long, unsigned long);
using SetuidFunction = int (*)(uid_t);
using SetreuidFunction = int (*)(uid_t, uid_t);
using SetresuidFunction = int (*)(uid_t, uid_t, uid_t);
using ChrootFunction = int (*)(const char*);
constinit PrctlFunction g_next_prctl = nullptr;
constinit SetuidFunction g_next_setuid = nullptr;
constinit SetuidFunction g_next_seteuid = nullptr;
constinit SetreuidFunction g_next_setreuid = nullptr;
constinit SetresuidFunction g_next_setresuid = nullptr;
constinit ChrootFunction g_next_chroot = nullptr;

// Looked up as the library loads: a privilege drop may come from a signal
// handler (syscall_hook.cpp says why that matters).
[[gnu::constructor]] void find_next_definitions() {
  shim::next_definition(g_next_prctl, "prctl");
  shim::next_definition(g_next_setuid, "setuid");
  shim::next_definition(g_next_seteuid, "seteuid");
  shim::next_definition(g_next_setreuid, "setreuid");
  shim::next_definition(g_next_setresuid, "setresuid");
  shim::next_definition(g_next_chroot, "chroot");
}

void open_trace_early() {
  if (!tracker().initialized()) return;
  shim::InsideNantrack inside;
  tracker().open_trace_early();
}

bool installs_filter(long seccomp_operation) {
  return seccomp_operation == SECCOMP_SET_MODE_STRICT || seccomp_operation == SECCOMP_SET_MODE_FILTER;
}

// Runs `install`, which asks for a seccomp filter, with nantrack ready.
template <typename Install>
long with_sandbox_noted(Install&& install) {
  stop_reopening_stderr();
  open_trace_early();
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

NANTRACK_EXPORT int setuid(uid_t uid) {
  open_trace_early();
  return shim::next_definition(g_next_setuid, "setuid")(uid);
}

NANTRACK_EXPORT int seteuid(uid_t uid) {
  open_trace_early();
  return shim::next_definition(g_next_seteuid, "seteuid")(uid);
}

NANTRACK_EXPORT int setreuid(uid_t real, uid_t effective) {
  open_trace_early();
  return shim::next_definition(g_next_setreuid, "setreuid")(real, effective);
}

NANTRACK_EXPORT int setresuid(uid_t real, uid_t effective, uid_t saved) {
  open_trace_early();
  return shim::next_definition(g_next_setresuid, "setresuid")(real, effective, saved);
}

NANTRACK_EXPORT int chroot(const char* path) {
  open_trace_early();
  return shim::next_definition(g_next_chroot, "chroot")(path);
}
