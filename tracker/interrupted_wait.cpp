#include "tracker/interrupted_wait.h"

#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#include <cerrno>

#include "tracker/own_memory.h"

namespace nantrack {
namespace {

// The calls a handler makes fail with EINTR where the kernel would make
// them again after a stop without one (signal(7), "Interruption of system
// calls and library functions by signal handlers"), and which it is right
// to make again with the same arguments: EINTR means they did nothing.
// connect() is left out: made again, it fails with EALREADY.
bool handler_interrupts(const BlockingCall& call) {
  switch (call.number) {
    case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6:
    case SYS_epoll_wait: case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
    case SYS_pause: case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait:
    case SYS_nanosleep: case SYS_clock_nanosleep:
    case SYS_semop: case SYS_semtimedop: case SYS_msgrcv: case SYS_msgsnd:
    case SYS_io_getevents: case SYS_io_uring_enter:
#ifdef SYS_io_pgetevents
    case SYS_io_pgetevents:
#endif
    // Socket waits with a timeout (SO_RCVTIMEO, SO_SNDTIMEO).
    case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg:
    case SYS_write: case SYS_writev: case SYS_sendto: case SYS_sendmsg: case SYS_sendmmsg:
    case SYS_accept: case SYS_accept4:
      return true;
    case SYS_futex: {
      // A wait with a timeout; the others are never cut short, or not
      // safely made again (the PI operations).
      const uintptr_t operation = call.args[1] & FUTEX_CMD_MASK;
      return operation == FUTEX_WAIT || operation == FUTEX_WAIT_BITSET;
    }
    default:
      return false;
  }
}

// Whether a signal with a handler of the program's own is pending: the
// handler blocks every signal while it runs, so any that came meanwhile is.
bool program_signal_pending(int stop_signal) {
  sigset_t pending;
  if (sigpending(&pending) != 0) return true;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal == stop_signal || sigismember(&pending, signal) != 1) continue;
    struct sigaction action = {};
    if (sigaction(signal, nullptr, &action) != 0) return true;
    if ((action.sa_flags & SA_SIGINFO) || (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN)) return true;
  }
  return false;
}

constexpr unsigned char kSyscallInstruction[2] = {0x0f, 0x05};

}  // namespace

void restart_if_interrupted(const BlockingCall& call, void* context, int stop_signal) {
  if (!handler_interrupts(call)) return;
  greg_t* const registers = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  if (registers[REG_RAX] != -EINTR || static_cast<uintptr_t>(registers[REG_RIP]) != call.resume_address ||
      static_cast<uintptr_t>(registers[REG_RSP]) != call.stack_pointer)
    return;
  // The kernel's order of the arguments on x86-64.
  constexpr int kArgumentRegisters[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
  for (int i = 0; i < 6; ++i)
    if (static_cast<uintptr_t>(registers[kArgumentRegisters[i]]) != call.args[i]) return;
  // Read without a plain load: code may be mapped execute-only.
  unsigned char instruction[2] = {};
  if (read_own_memory(instruction, reinterpret_cast<const void*>(call.resume_address - 2), 2) != 2 ||
      __builtin_memcmp(instruction, kSyscallInstruction, 2) != 0)
    return;
  if (program_signal_pending(stop_signal)) return;
  // The sleeps wrote the time they had left where the caller asked for it:
  // they sleep that long, not their whole time again.
  if (call.number == SYS_nanosleep && call.args[1]) registers[REG_RDI] = static_cast<greg_t>(call.args[1]);
  if (call.number == SYS_clock_nanosleep && !(call.args[1] & TIMER_ABSTIME) && call.args[3])
    registers[REG_RDX] = static_cast<greg_t>(call.args[3]);
  registers[REG_RAX] = static_cast<greg_t>(call.number);
  registers[REG_RIP] -= sizeof kSyscallInstruction;
}

}  // namespace nantrack
