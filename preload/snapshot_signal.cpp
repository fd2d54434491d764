#include "preload/snapshot_signal.h"

#include "preload/leak_check.h"
#include "preload/shim.h"
#include "tracker/stack_switch.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

// Signals that cannot be caught, that end the process (their handler
// writes the process's trace), or that glibc (32, 33) and the scan's
// thread stop (SIGRTMIN + 3) use.
bool can_serve(int signal) {
  switch (signal) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGABRT: case SIGBUS: case SIGILL: case SIGFPE:
      return false;
    default: return signal < SIGRTMIN || (signal > SIGRTMIN + 3 && signal <= SIGRTMAX);
  }
}

constinit int g_signal = 0;

}  // namespace

void choose_snapshot_signal() {
  const int wanted = static_cast<int>(tracker().options().snapshot_signal);
  if (wanted == 0 || can_serve(wanted)) {
    g_signal = wanted;
    return;
  }
  InlineText<160> line;
  line << "nantrack: snapshot_signal=" << wanted
       << " cannot be used (uncatchable, fatal, or reserved by glibc or nantrack): snapshots by signal are off\n";
  print_to_stderr(line.view());
}

int snapshot_signal() { return g_signal; }

// A signal may interrupt any code on any thread. Outside nantrack the
// interrupted code holds none of our locks, so the check runs here like a
// call of nantrack_check_leaks() (the scan uses only async-signal-safe
// system calls and our own mmap'd memory). Inside, it may hold a shard
// lock the scan needs: the request waits for the next shim::leave().
// Installed with every signal blocked (HandlerOnAltStack).
void on_snapshot_signal(int signal, siginfo_t*, void* context) {
  if (!tracker().owns_process()) return;  // a vfork child: our memory is its parent's
  if (shim::t_inside) {
    shim::g_deferred.fetch_or(shim::kSnapshotDeferred, std::memory_order_release);
    return;
  }
  const auto* interrupted = static_cast<const ucontext_t*>(context);
  const HandlerOnAltStack on_alt_stack(*interrupted, signal);
  check_leaks_now(SnapshotTrigger::Signal, "snapshot signal", {.interrupted = interrupted});
}

}  // namespace nantrack

namespace nantrack::shim {

// Scanned from this frame up (the allocation function the program called,
// and its callers), with the registers as they are here: the check runs on
// another stack, where nantrack's frames may spill and reuse them.
NANTRACK_NOINLINE void take_requested_snapshot() {
  if (!(g_deferred.fetch_and(~kSnapshotDeferred, std::memory_order_acq_rel) & kSnapshotDeferred)) return;
  LeakRoots::CalleeSavedRegisters registers;
  const LeakRoots::ProgramState here = program_state_here(registers);
  check_leaks_now(SnapshotTrigger::Signal, "snapshot signal", here);
}

}  // namespace nantrack::shim
