#include "preload/signal_hooks.h"

#include <cerrno>
#include <csignal>
#include <cstring>

#include "preload/finish.h"
#include "preload/shim.h"
#include "preload/snapshot_signal.h"
#include "tracker/internal_memory.h"
#include "tracker/signal_stack.h"
#include "tracker/stack_switch.h"

using namespace nantrack;

namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE};
// Signals whose default action ends the process that programs are ended
// with from outside or by their limits: kill, timeout(1), a supervisor's
// stop (TERM), ^C and ^\ (INT, QUIT), a closed terminal (HUP), a reader
// gone (PIPE), alarm(), CPU and file size limits. Without a handler the
// process ended before it wrote its trace, and all it had was lost.
constexpr int kEndingSignals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE,   SIGALRM,
                                  SIGTERM, SIGUSR1, SIGXCPU, SIGXFSZ,   SIGVTALRM, SIGPROF};

using SigactionFunction = int (*)(int, const struct sigaction*, struct sigaction*);
constinit SigactionFunction g_next_sigaction = nullptr;
using SignalFunction = sighandler_t (*)(int, sighandler_t);
constinit SignalFunction g_next_signal = nullptr;
// What the program believes is installed for each signal we handle.
struct sigaction g_program_action[NSIG];

template <size_t N>
bool is_one_of(const int (&signals)[N], int signal) {
  for (int each : signals)
    if (each == signal) return true;
  return false;
}
bool is_fatal(int signal) { return is_one_of(kFatalSignals, signal); }

void on_fatal_signal(int signal, siginfo_t*, void*);
void on_ending_signal(int signal, siginfo_t*, void*);

// Our handler for `signal`, or nullptr for a signal we leave alone.
using Handler = void (*)(int, siginfo_t*, void*);
Handler our_handler(int signal) {
  if (is_fatal(signal)) return on_fatal_signal;
  if (signal == snapshot_signal() && signal != 0) return on_snapshot_signal;
  if (is_one_of(kEndingSignals, signal)) return on_ending_signal;
  return nullptr;
}

SigactionFunction next_sigaction() { return shim::next_definition(g_next_sigaction, "sigaction"); }

// An action that calls `handler` (or is SIG_DFL, SIG_IGN) with these
// flags and nothing blocked meanwhile.
struct sigaction plain_action(sighandler_t handler, int flags = 0) {
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  return action;
}

void restore_default_action(int signal) {
  const struct sigaction default_action = plain_action(SIG_DFL);
  next_sigaction()(signal, &default_action, nullptr);
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  finish_process({trace_format::kUnknownExitStatus, signal, trace_format::kCrashed}, true);
  wait_while_another_thread_finishes();
  // Die of the same signal, with the default action restored. A fault the
  // kernel raised (si_code > 0: a bad access, a division by zero, an
  // illegal instruction) happens again when this handler returns, at the
  // same instruction: the process dies there as it would have, and a core
  // dump shows the program's own registers and stack. A signal sent by
  // kill() or raise() (abort) is sent again.
  restore_default_action(signal);
  if (info && info->si_code > 0 && signal != SIGABRT) return;
  raise(signal);
}

// Writes the trace, scanned for leaks as at exit (the program was stopped
// from outside, not broken: its heap can be trusted), then dies of
// `signal` as it would have: it is raised again with the default action,
// and delivered when the handler returns.
void end_by_signal(int signal, const ucontext_t* interrupted = nullptr) {
  finish_process({trace_format::kUnknownExitStatus, signal, 0}, false, interrupted);
  wait_while_another_thread_finishes();
  restore_default_action(signal);
  raise(signal);
}

// Outside nantrack the interrupted code holds none of our locks, and the
// trace is written here, as a leak check would be. Inside, it may hold
// one: the trace waits for the next shim::leave() (shim.h), microseconds
// later, and the handler returns into nantrack's code meanwhile.
void on_ending_signal(int signal, siginfo_t*, void* context) {
  if (shim::t_inside && tracker().owns_process()) {
    // The first such signal is the one the process dies of.
    uint32_t seen = shim::g_deferred.load(std::memory_order_relaxed);
    while (!(seen >> shim::kEndingSignalShift) &&
           !shim::g_deferred.compare_exchange_weak(seen, seen | (static_cast<uint32_t>(signal) << shim::kEndingSignalShift),
                                                   std::memory_order_acq_rel)) {
    }
    return;
  }
  end_by_signal(signal, static_cast<const ucontext_t*>(context));
}

int install_ours(int signal) {
  struct sigaction ours {};
  ours.sa_sigaction = our_handler(signal);
  // On the alternate stack: a fatal signal may come from a stack overflow,
  // and the kernel's signal frame alone (3.5 KiB with AVX-512 state) may
  // not fit on a thread's stack that still has room for the program. The
  // handlers switch to stacks of their own for the trace and the scan, and
  // the scan reads the thread from where the signal interrupted it.
  // Interrupted system calls must go on but for the fatal signals'.
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK | (is_fatal(signal) ? 0 : SA_RESTART);
  // The snapshot handler unblocks them itself, once another thread's scan
  // can find where it left the program (HandlerOnAltStack).
  if (signal == snapshot_signal())
    sigfillset(&ours.sa_mask);
  else
    sigemptyset(&ours.sa_mask);
  return next_sigaction()(signal, &ours, nullptr);
}

// A handler the program installs with SA_RESETHAND is reset to the
// default action by the kernel when its signal comes, and our handler,
// which stands in for the default, was then bypassed: node installs its
// SIGTERM and SIGINT handlers so (they restore the terminal and raise the
// signal again), and a node process stopped with SIGTERM left no trace.
// Such a handler is installed behind this one, without SA_RESETHAND: when
// the signal comes, it makes the reset itself, ours in place of the
// default as always, and calls the program's handler.
void on_signal_of_reset_handler(int signal, siginfo_t* info, void* context) {
  const struct sigaction program = g_program_action[signal];
  install_ours(signal);
  g_program_action[signal] = {};
  g_program_action[signal].sa_handler = SIG_DFL;
  // The program may have set another action since (sigaction() installs it
  // before noting it): a default or ignored one has nothing to call.
  if (program.sa_flags & SA_SIGINFO)
    program.sa_sigaction(signal, info, context);
  else if (program.sa_handler != SIG_DFL && program.sa_handler != SIG_IGN)
    program.sa_handler(signal);
}

bool resets_when_called(const struct sigaction& action) {
  return (action.sa_flags & SA_RESETHAND) &&
         ((action.sa_flags & SA_SIGINFO) || (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN));
}

// The program's action for one of our signals, other than the default.
int install_programs(int signal, const struct sigaction& action) {
  if (!resets_when_called(action)) return next_sigaction()(signal, &action, nullptr);
  struct sigaction behind_ours = action;
  behind_ours.sa_sigaction = on_signal_of_reset_handler;
  behind_ours.sa_flags = (action.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
  return next_sigaction()(signal, &behind_ours, nullptr);
}

// Whether the program's calls about `signal` need us: one whose default
// action our handler stands in for, once we are ready. Calls about any
// other go straight to libc.
bool stands_in_for(int signal) { return signal > 0 && signal < NSIG && shim::g_ready.load() && our_handler(signal); }

// What the System V functions answer a disposition of SIG_ERR with, as
// glibc's do.
sighandler_t refuse_disposition() {
  errno = EINVAL;
  return SIG_ERR;
}

bool installed_by_us(int signal, const struct sigaction& installed) {
  return (installed.sa_flags & SA_SIGINFO) &&
         (installed.sa_sigaction == our_handler(signal) || installed.sa_sigaction == on_signal_of_reset_handler);
}

using SigaltstackFunction = int (*)(const stack_t*, stack_t*);
constinit SigaltstackFunction g_next_sigaltstack = nullptr;

SigaltstackFunction next_sigaltstack() { return shim::next_definition(g_next_sigaltstack, "sigaltstack"); }

// A stack for our handler when the main thread overflows its own (a
// SIGSEGV from stack exhaustion has nowhere else to run). Usually it has
// one already, lent with its unwind state at start (signal_stack.h); this
// one, for when it has not (no state: out of memory, a sandbox), is kept
// for good.
void ensure_alternate_stack() {
  stack_t current{};
  if (next_sigaltstack()(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
  char* memory = map_stack(kSignalStackBytes);  // ours: not a root of the leak scan
  if (memory && !lend_signal_stack(memory, true)) unmap_memory(memory, kSignalStackBytes);
}

}  // namespace

// One thread takes the signal: the trace it writes ends in InsideNantrack
// scopes of its own, which must not take it again.
void nantrack::shim::take_deferred_ending() {
  constexpr uint32_t kSignalBits = 0xffu << kEndingSignalShift;
  const uint32_t taken = g_deferred.fetch_and(~kSignalBits, std::memory_order_acq_rel);
  if (const auto signal = static_cast<int>((taken & kSignalBits) >> kEndingSignalShift)) end_by_signal(signal);
}

void nantrack::install_signal_handlers() {
  ensure_alternate_stack();
  choose_snapshot_signal();
  for (int signal = 1; signal < NSIG; ++signal) {
    if (!our_handler(signal)) continue;
    struct sigaction current {};
    if (next_sigaction()(signal, nullptr, &current) != 0) continue;
    g_program_action[signal] = current;
    // A handler or SIG_IGN inherited from the parent stays the program's.
    if (current.sa_handler == SIG_DFL && !(current.sa_flags & SA_SIGINFO)) install_ours(signal);
  }
}

NANTRACK_EXPORT int sigaction(int signal, const struct sigaction* action, struct sigaction* old_action) {
  if (!stands_in_for(signal))
    return next_sigaction()(signal, action, old_action);
  // What the program finds as the previous action: what it asked for while
  // ours stands in for the default; otherwise what is installed, which may
  // not have come through here (glibc's sigset, bsd_signal and sysv_signal
  // call its internal sigaction).
  struct sigaction installed {};
  if (next_sigaction()(signal, nullptr, &installed) != 0) return -1;
  struct sigaction previous = installed_by_us(signal, installed) ? g_program_action[signal] : installed;
  if (action) {
    bool wants_default = action->sa_handler == SIG_DFL && !(action->sa_flags & SA_SIGINFO);
    int result = wants_default ? install_ours(signal) : install_programs(signal, *action);
    if (result != 0) return result;
    g_program_action[signal] = *action;
  }
  if (old_action) *old_action = previous;
  return 0;
}

// A thread's alternate stack as the program would find it without us:
// where ours is installed (signal_stack.h), there is none (a runtime such as Rust's
// installs its own only when it finds none), and asking to disable it
// changes nothing, as it would not have. A stack the program installs
// replaces ours.
NANTRACK_EXPORT int sigaltstack(const stack_t* stack, stack_t* old_stack) {
  stack_t current{};
  if (next_sigaltstack()(nullptr, &current) != 0) return -1;
  const bool ours = is_lent_signal_stack(current);
  const bool keep_ours = ours && stack && (stack->ss_flags & SS_DISABLE);
  // The real call writes `old_stack`, so that a bad pointer fails with
  // EFAULT as it would have; what it wrote is then corrected.
  if (next_sigaltstack()(keep_ours ? nullptr : stack, old_stack) != 0) return -1;
  if (ours && stack && !keep_ours) forget_lent_signal_stack();
  if (old_stack && ours) {
    old_stack->ss_sp = nullptr;
    old_stack->ss_size = 0;
    old_stack->ss_flags = SS_DISABLE;
  }
  return 0;
}

// glibc's signal() with System V semantics: the handler is reset to the
// default when it runs, and its signal not blocked meanwhile. A program
// built for strict ISO C (-std=c11, without _DEFAULT_SOURCE) gets it for
// every signal() it calls. It calls glibc's internal sigaction, not ours:
// a handler installed so bypassed our trace when the kernel reset it, and
// SIG_DFL replaced ours for real.
constinit SignalFunction g_next_sysv_signal = nullptr;

NANTRACK_EXPORT sighandler_t __sysv_signal(int signal, sighandler_t handler) {
  if (!stands_in_for(signal))
    return shim::next_definition(g_next_sysv_signal, "__sysv_signal")(signal, handler);
  if (handler == SIG_ERR) return refuse_disposition();
  const struct sigaction action = plain_action(handler, SA_RESETHAND | SA_NODEFER | SA_INTERRUPT);  // as glibc's
  struct sigaction previous {};
  if (sigaction(signal, &action, &previous) != 0) return SIG_ERR;
  return previous.sa_handler;
}

NANTRACK_EXPORT sighandler_t sysv_signal(int signal, sighandler_t handler) { return __sysv_signal(signal, handler); }

// glibc's signal() calls its internal sigaction, not ours: intercept it too.
// A handler is installed by glibc's own signal(), with the mask and flags
// it would give (no SA_RESTART after siginterrupt(signal, 1)); SIG_DFL goes
// through our sigaction, which puts ours in its place.
NANTRACK_EXPORT sighandler_t signal(int signal, sighandler_t handler) {
  if (!stands_in_for(signal))
    return shim::next_definition(g_next_signal, "signal")(signal, handler);
  struct sigaction previous {};
  if (sigaction(signal, nullptr, &previous) != 0) return SIG_ERR;
  if (handler == SIG_DFL) {
    const struct sigaction default_action = plain_action(SIG_DFL);
    if (sigaction(signal, &default_action, nullptr) != 0) return SIG_ERR;
  } else if (shim::next_definition(g_next_signal, "signal")(signal, handler) == SIG_ERR) {
    return SIG_ERR;
  }
  return previous.sa_handler;
}

// The same function under its other names: glibc's bsd_signal and ssignal
// are aliases of signal, which a call by those names does not reach.
NANTRACK_EXPORT sighandler_t bsd_signal(int signal_number, sighandler_t handler) { return signal(signal_number, handler); }
NANTRACK_EXPORT sighandler_t ssignal(int signal_number, sighandler_t handler) { return signal(signal_number, handler); }

// System V's sigset(): SIG_HOLD blocks the signal, any other disposition
// is installed (no flags, empty mask) and unblocks it; the previous
// disposition is returned, SIG_HOLD if it was blocked. glibc's calls its
// internal sigaction: SIG_DFL replaced ours for real, and the previous
// disposition it returned was our handler. For our signals it is done
// here, as glibc does it, through our sigaction.
constinit SignalFunction g_next_sigset = nullptr;

NANTRACK_EXPORT sighandler_t sigset(int signal, sighandler_t handler) {
  if (!stands_in_for(signal))
    return shim::next_definition(g_next_sigset, "sigset")(signal, handler);
  if (handler == SIG_ERR) return refuse_disposition();
  sigset_t just_this, mask_before;
  sigemptyset(&just_this);
  sigaddset(&just_this, signal);
  struct sigaction previous {};
  if (handler == SIG_HOLD) {
    if (sigprocmask(SIG_BLOCK, &just_this, &mask_before) != 0) return SIG_ERR;
    if (sigismember(&mask_before, signal)) return SIG_HOLD;
    if (sigaction(signal, nullptr, &previous) != 0) return SIG_ERR;
    return previous.sa_handler;
  }
  const struct sigaction action = plain_action(handler);
  if (sigaction(signal, &action, &previous) != 0) return SIG_ERR;
  if (sigprocmask(SIG_UNBLOCK, &just_this, &mask_before) != 0) return SIG_ERR;
  return sigismember(&mask_before, signal) ? SIG_HOLD : previous.sa_handler;
}
