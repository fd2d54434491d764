// Fatal signals (SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE): the trace is
// written from our handler, marked crashed, and the signal re-raised with
// its default action so the exit status is what it would have been.
// Signals that end a process from outside or at a limit (SIGTERM, SIGINT,
// SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, ...): the same, after a leak scan, and
// not marked crashed. The snapshot signal (preload/snapshot_signal.h): a
// snapshot trace, and the program goes on.
//
// The program's own handlers keep working: sigaction(), signal(), the
// System V signal() (__sysv_signal, what strict ISO C programs call),
// bsd_signal, ssignal and sigset are intercepted for these signals. A handler (or SIG_IGN) the program
// installs is installed for real (one with SA_RESETHAND behind a handler
// of ours that makes the reset: the kernel's would put the true default
// back, not ours); when the program asks for the default action we keep
// ours instead (for a fatal or ending signal it ends the same way, after
// writing the trace; the snapshot signal then still takes snapshots
// instead of ending the process), and the program is always shown the
// action it set. A signal the program found ignored (nohup, a
// background job's SIGINT) stays ignored.
#pragma once

namespace nantrack {

void install_signal_handlers();

}  // namespace nantrack
