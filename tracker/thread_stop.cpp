#include "tracker/thread_stop.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "tracker/internal_memory.h"
#include "tracker/interrupted_wait.h"
#include "tracker/own_memory.h"
#include "tracker/stack_switch.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

// Slots for this many threads are static; a process with more gets a
// larger table, mapped when a stop finds them.
constexpr size_t kStaticSlots = 1024;
// Room for threads started between counting them and signalling them.
constexpr size_t kSlotsToSpare = 64;
constexpr int64_t kAnswerTimeoutNs = 100'000'000;

// kWatched: not signalled yet, as it blocks the signal for now (see
// approach_to()); looked at again until it can be.
enum SlotState : uint32_t { kFree, kSignalled, kStopped, kWatched };

struct Slot {
  pid_t tid;
  std::atomic<uint32_t> state;
  uintptr_t stack_pointer;
  uintptr_t thread_pointer;
  gregset_t registers;
  BlockingCall call;  // what it waited in when it was signalled
};

constinit Slot g_static_slots[kStaticSlots] = {};
constinit size_t g_static_stopped[kStaticSlots] = {};
// The table in use. A larger one replaces it for good; the old one stays
// mapped, as a thread answering a past stop late may still be reading it.
constinit std::atomic<Slot*> g_slots{g_static_slots};
constinit size_t* g_stopped = g_static_stopped;  // indices of the slots that stopped
constinit size_t g_capacity = kStaticSlots;
constinit size_t g_slot_count = 0;
constinit size_t g_left_out = 0;  // threads the last stop had no slot for
// The threads that did not stop but sit in a system call, and where their
// stack pointer was; kept apart from the slots, which a late answer may
// still write to. As large as the slots' table, and grown with it.
constinit BlockedThread g_static_blocked[kStaticSlots] = {};
constinit BlockedThread* g_blocked = g_static_blocked;
constinit size_t g_blocked_count = 0;
constinit size_t g_stopped_count = 0;
constinit std::atomic<bool> g_stopping{false};
// Stops are numbered: a thread released from one stop must not take the
// next one's "not released yet" for its own (leak checks can follow each
// other at once), and must not touch its slot once released: the next stop
// reuses the slots.
constinit std::atomic<uint32_t> g_round{0};     // the stop under way, or the last one
constinit std::atomic<uint32_t> g_released{0};  // the last stop that resumed
constinit struct sigaction g_previous = {};

long futex(std::atomic<uint32_t>& word, int op, uint32_t value, const timespec* timeout = nullptr) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), op | FUTEX_PRIVATE_FLAG, value, timeout, nullptr, 0);
}

void forward_to_previous(int signal, siginfo_t* info, void* context) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(signal, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal);
  }
}

// A thread that answers after the timeout finds itself already released
// and goes on at once; a signal that is not ours goes to the handler the
// program had installed.
void on_stop_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  const uint32_t round = g_round.load(std::memory_order_acquire);
  Slot* const slots = g_slots.load(std::memory_order_acquire);
  Slot* found = nullptr;
  for (size_t i = 0; i < g_slot_count && !found; ++i)
    if (slots[i].tid == tid && slots[i].state.load(std::memory_order_acquire) == kSignalled) found = &slots[i];
  if (!found) {
    if (!g_stopping.load(std::memory_order_acquire)) forward_to_previous(signal, info, context);
    errno = saved_errno;
    return;
  }
  BlockingCall call;
  {
    Slot& slot = *found;
    call = slot.call;
    const auto* ucontext = static_cast<const ucontext_t*>(context);
    __builtin_memcpy(slot.registers, ucontext->uc_mcontext.gregs, sizeof(gregset_t));
    // Stopped on a stack of ours (unwinding, writing a trace, checking for
    // leaks): its own stack goes on where it switched.
    slot.stack_pointer = own_stack_pointer(static_cast<uintptr_t>(ucontext->uc_mcontext.gregs[REG_RSP]));
    slot.thread_pointer = static_cast<uintptr_t>(pthread_self());
    slot.state.store(kStopped, std::memory_order_release);
    futex(slot.state, FUTEX_WAKE, 1);
    // Released once this stop or any later one is: a thread slow to get
    // here may find the stops after its own already over, and waiting for
    // its own number to come back would be waiting for good.
    uint32_t released;
    while (static_cast<int32_t>((released = g_released.load(std::memory_order_acquire)) - round) < 0)
      futex(g_released, FUTEX_WAIT, released);
  }
  restart_if_interrupted(call, context, signal);
  errno = saved_errno;
}

// The signal threads are stopped with: a real-time one, so it queues.
// SIGRTMIN+3 at first (glibc keeps the first two, and programs seldom use
// the next). A program that installs its own handler for it would get our
// stop requests, and its threads would not stop: the next stop then takes
// the first real-time signal the program leaves at its default action.
constinit int g_stop_signal = 0;

bool take_for_stops(int signal, struct sigaction* previous) {
  struct sigaction action = {};
  action.sa_sigaction = on_stop_signal;
  // On the thread's alternate stack where it has one (lent to each thread
  // at its start or first allocation, tracker/signal_stack.h): the
  // kernel's signal frame takes 3.5 KiB with AVX-512 state, and a thread
  // stopped with little of its own stack left had it pushed past the end.
  action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&action.sa_mask);
  if (sigaction(signal, &action, previous) != 0) return false;
  g_stop_signal = signal;
  return true;
}

int stop_signal() {
  struct sigaction current = {};
  if (g_stop_signal && sigaction(g_stop_signal, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
      current.sa_sigaction == on_stop_signal)
    return g_stop_signal;
  for (int signal = SIGRTMIN + 3; signal <= SIGRTMAX; ++signal) {
    if (signal == g_stop_signal || sigaction(signal, nullptr, &current) != 0) continue;
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL && take_for_stops(signal, nullptr))
      return signal;
  }
  return 0;
}

int64_t now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// The lowercase hex digits at `digits`, up to the first other character.
uint64_t parse_hex(const char* digits) {
  uint64_t value = 0;
  for (;; ++digits) {
    const int digit = hex_digit_value(*digits);
    if (digit < 0) return value;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
}

// The start of /proc/self/task/TID/<file>, '\0'-terminated in `text`:
// false if it cannot be read.
template <size_t N>
bool read_task_file(pid_t tid, const char* file, char (&text)[N]) {
  InlineText<64> path;
  path << "/proc/self/task/" << static_cast<uint64_t>(tid) << "/" << file;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t got = read(fd, text, N - 1);
  close(fd);
  if (got <= 0) return false;
  text[got] = '\0';
  return true;
}

// What /proc/self/task/TID/status says of a thread: whether it has ended
// but is still listed (the main thread after pthread_exit() stays a zombie
// until the whole process ends, and can answer no signal), and the signals
// it blocks. A thread whose file is gone has ended.
struct TaskStatus {
  bool ended = true;
  uint64_t blocked = 0;  // bit n - 1: signal n
};

TaskStatus read_task_status(pid_t tid) {
  TaskStatus status;
  char text[2048];
  if (!read_task_file(tid, "status", text)) return status;
  // "State:\tS (sleeping)" comes early, "SigBlk:\t<16 hex digits>" later.
  const char* state = __builtin_strstr(text, "\nState:\t");
  if (!state) return status;
  status.ended = state[8] == 'Z' || state[8] == 'X';
  if (const char* blocked = __builtin_strstr(text, "\nSigBlk:\t")) {
    status.blocked = parse_hex(blocked + 9);
  }
  return status;
}

// The system call a thread waits in, from /proc/self/task/TID/syscall
// ("NR arg1 ... arg6 sp pc", all but NR in hex). A process may read this
// of its own threads even where ptrace is forbidden.
BlockingCall read_task_syscall(pid_t tid) {
  BlockingCall call;
  char text[256];
  // Not a number: "running"; "-1 sp pc": stopped outside a call.
  if (!read_task_file(tid, "syscall", text) || text[0] < '0' || text[0] > '9') return call;
  long number = 0;
  const char* field = text;
  for (; *field >= '0' && *field <= '9'; ++field) number = number * 10 + (*field - '0');
  uintptr_t values[8];  // the six arguments, the stack pointer, the pc
  for (uintptr_t& value : values) {
    if (!field || field[0] != ' ' || field[1] != '0' || field[2] != 'x') return call;
    value = parse_hex(field + 3);
    field = __builtin_strchr(field + 1, ' ');
  }
  call.number = number;
  for (int i = 0; i < 6; ++i) call.args[i] = values[i];
  call.stack_pointer = values[6];
  call.resume_address = values[7];
  return call;
}

// Whether the thread would take `signal` from a sigwait() (sigwaitinfo,
// sigtimedwait: rt_sigtimedwait) rather than run its handler: the wait
// unblocks the signals it waits for, so its mask does not show it, but the
// program's dedicated signal thread would get ours as one of its own.
bool waits_for(const BlockingCall& call, int signal) {
  uint64_t set = 0;
  return call.number == SYS_rt_sigtimedwait &&
         read_own_memory(&set, reinterpret_cast<const void*>(call.args[0]), sizeof(set)) == sizeof(set) &&
         (set >> (signal - 1) & 1);
}

// Calls visit(tid) for each thread listed in /proc/self/task.
// getdents64 directly: opendir would call malloc.
template <typename Visit>
void for_each_task(Visit&& visit) {
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buffer[4096];
  long bytes;
  while ((bytes = syscall(SYS_getdents64, fd, buffer, sizeof(buffer))) > 0) {
    for (long offset = 0; offset < bytes;) {
      const char* entry = buffer + offset;
      unsigned short length;
      __builtin_memcpy(&length, entry + 16, sizeof(length));
      const char* name = entry + 19;
      offset += length;
      pid_t tid = 0;
      for (; *name >= '0' && *name <= '9'; ++name) tid = tid * 10 + (*name - '0');
      if (tid > 0) visit(tid);
    }
  }
  close(fd);
}

// Makes room for every thread the process has now, and a few more. If the
// memory cannot be mapped, the threads that find no slot are left out.
void make_room_for_threads() {
  size_t threads = 0;
  for_each_task([&](pid_t) { ++threads; });
  const size_t wanted = threads + kSlotsToSpare;
  if (wanted <= g_capacity) return;
  const size_t capacity = wanted > 2 * g_capacity ? wanted : 2 * g_capacity;
  auto* slots = static_cast<Slot*>(map_memory(capacity * sizeof(Slot)));
  auto* stopped = static_cast<size_t*>(map_memory(capacity * sizeof(size_t)));
  auto* blocked = static_cast<BlockedThread*>(map_memory(capacity * sizeof(BlockedThread)));
  if (!slots || !stopped || !blocked) {
    unmap_memory(slots, capacity * sizeof(Slot));
    unmap_memory(stopped, capacity * sizeof(size_t));
    unmap_memory(blocked, capacity * sizeof(BlockedThread));
    return;
  }
  g_slots.store(slots, std::memory_order_release);
  g_stopped = stopped;
  g_blocked = blocked;
  g_capacity = capacity;
}

// How a thread is brought to the scan, as things stand.
enum class Approach {
  Gone,    // it has ended
  Read,    // its stack is read where it waits (`call.stack_pointer`), unsignalled
  Signal,  // it gets the signal and stops in the handler
  Watch,   // not now: look again
};

// A thread that blocks the signal while it waits in a system call would
// not answer for as long as it waits: the program's worker threads often
// block every signal for one thread to sigwait() them all. That thread,
// in its sigwait(), would take ours as one of the program's. Both have
// their stacks read where they stand instead. A thread that blocks the
// signal while it runs is not sent it either: it might be on its way into
// such a sigwait(). It is watched until it waits (read then) or unblocks
// the signal (signalled then), as a thread in a signal handler or in
// pthread_create soon does.
Approach approach_to(pid_t tid, int signal, BlockingCall& call) {
  const TaskStatus status = read_task_status(tid);
  if (status.ended) return Approach::Gone;
  call = read_task_syscall(tid);
  const bool blocked = status.blocked >> (signal - 1) & 1;
  if (call.stack_pointer && (blocked || waits_for(call, signal))) return Approach::Read;
  return blocked ? Approach::Watch : Approach::Signal;
}

// Moves a slot on as approach_to() says; true while it needs waiting for.
bool approach(Slot& slot, int signal) {
  BlockingCall call;
  switch (approach_to(slot.tid, signal, call)) {
    case Approach::Gone: slot.state.store(kFree, std::memory_order_relaxed); return false;
    case Approach::Read:
      // A thread waiting on a stack of ours (in the stop handler of the
      // scan before, which blocks the signal) is read on its own.
      g_blocked[g_blocked_count++] = {slot.tid, own_stack_pointer(call.stack_pointer)};
      slot.state.store(kFree, std::memory_order_relaxed);
      return false;
    case Approach::Watch: slot.state.store(kWatched, std::memory_order_relaxed); return true;
    case Approach::Signal:
      slot.call = call;  // the wait to make again if the signal cuts it short
      slot.state.store(kSignalled, std::memory_order_release);
      if (syscall(SYS_tgkill, getpid(), slot.tid, signal) != 0) {  // it just exited
        slot.state.store(kFree, std::memory_order_relaxed);
        return false;
      }
      return true;
  }
  return false;
}

// Gives every thread but this one a slot and approaches it.
void approach_tasks(int signal) {
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  Slot* const slots = g_slots.load(std::memory_order_relaxed);
  for_each_task([&](pid_t tid) {
    if (tid == self) return;
    // A thread takes a slot, and may move from it to the blocked ones:
    // both tables hold g_capacity.
    if (g_slot_count == g_capacity) {
      ++g_left_out;
      return;
    }
    Slot& slot = slots[g_slot_count++];
    slot.tid = tid;
    approach(slot, signal);
  });
}

// Waits until every signalled thread has stopped and every watched one has
// been read or signalled, or the deadline passes.
void wait_for_answers(int signal, int64_t deadline) {
  Slot* const slots = g_slots.load(std::memory_order_relaxed);
  for (;;) {
    Slot* signalled = nullptr;
    bool watching = false;
    for (size_t i = 0; i < g_slot_count; ++i) {
      Slot& slot = slots[i];
      const uint32_t state = slot.state.load(std::memory_order_acquire);
      if (state == kWatched && approach(slot, signal)) watching = true;
      if (slot.state.load(std::memory_order_acquire) == kSignalled && !signalled) signalled = &slot;
    }
    const int64_t left = deadline - now_ns();
    if ((!signalled && !watching) || left <= 0) return;
    // A watched thread is looked at again every millisecond.
    const int64_t wait = watching && left > 1'000'000 ? 1'000'000 : left;
    timespec timeout{wait / 1'000'000'000, wait % 1'000'000'000};
    if (signalled)
      futex(signalled->state, FUTEX_WAIT, kSignalled, &timeout);
    else
      nanosleep(&timeout, nullptr);
  }
}

}  // namespace

void install_thread_stop_handler() { take_for_stops(SIGRTMIN + 3, &g_previous); }

size_t stop_other_threads() {
  g_slot_count = 0;
  g_stopped_count = 0;
  g_blocked_count = 0;
  g_left_out = 0;
  g_round.fetch_add(1, std::memory_order_acq_rel);
  const int signal = stop_signal();
  if (!signal) return 0;  // every real-time signal is the program's: nothing stops
  make_room_for_threads();
  g_stopping.store(true, std::memory_order_release);
  approach_tasks(signal);
  if (g_left_out) {
    InlineText<160> note;
    note << "nantrack: " << static_cast<uint64_t>(g_left_out)
         << " threads could not be stopped for the leak scan (no memory for them); blocks only they point to may "
            "be reported as leaks\n";
    print_to_stderr(note.view());
  }
  wait_for_answers(signal, now_ns() + kAnswerTimeoutNs);
  Slot* const slots = g_slots.load(std::memory_order_relaxed);
  for (size_t i = 0; i < g_slot_count; ++i) {
    Slot& slot = slots[i];
    const uint32_t state = slot.state.load(std::memory_order_acquire);
    if (state == kStopped) {
      g_stopped[g_stopped_count++] = i;
      continue;
    }
    if (state != kSignalled && state != kWatched) continue;  // read, or exited
    // Its stack can still be read if it waits in a system call by now;
    // only its registers stay unknown.
    if (const uintptr_t sp = read_task_syscall(slot.tid).stack_pointer) {
      g_blocked[g_blocked_count++] = {slot.tid, own_stack_pointer(sp)};
      continue;
    }
    InlineText<200> note;
    note << "nantrack: thread " << static_cast<uint64_t>(slot.tid) << " did not stop for the leak scan within 100 ms ("
         << (state == kWatched ? "it blocks the signal the scan uses" : "no answer")
         << ") and is not in a system call; blocks only it points to may be reported as leaks\n";
    print_to_stderr(note.view());
  }
  return g_stopped_count;
}

size_t blocked_threads() { return g_blocked_count; }

BlockedThread blocked_thread(size_t index) { return g_blocked[index]; }

StoppedThread stopped_thread(size_t index) {
  const Slot& slot = g_slots.load(std::memory_order_relaxed)[g_stopped[index]];
  return {slot.stack_pointer, slot.thread_pointer, slot.registers, sizeof(slot.registers)};
}

void resume_other_threads() {
  g_released.store(g_round.load(std::memory_order_relaxed), std::memory_order_release);
  futex(g_released, FUTEX_WAKE, INT32_MAX);
  g_stopping.store(false, std::memory_order_release);
}

}  // namespace nantrack
