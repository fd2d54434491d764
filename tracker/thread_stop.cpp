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

enum SlotState : uint32_t { kFree, kSignalled, kStopped };

struct Slot {
  pid_t tid;
  std::atomic<uint32_t> state;
  uintptr_t stack_pointer;
  uintptr_t thread_pointer;
  gregset_t registers;
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
  {
    Slot& slot = *found;
    const auto* ucontext = static_cast<const ucontext_t*>(context);
    __builtin_memcpy(slot.registers, ucontext->uc_mcontext.gregs, sizeof(gregset_t));
    slot.stack_pointer = static_cast<uintptr_t>(ucontext->uc_mcontext.gregs[REG_RSP]);
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
  action.sa_flags = SA_SIGINFO | SA_RESTART;
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
    const char c = *digits;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return value;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
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
  InlineText<64> path;
  path << "/proc/self/task/" << static_cast<uint64_t>(tid) << "/status";
  TaskStatus status;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return status;
  char text[2048];
  const ssize_t got = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (got <= 0) return status;
  text[got] = '\0';
  // "State:\tS (sleeping)" comes early, "SigBlk:\t<16 hex digits>" later.
  const char* state = __builtin_strstr(text, "\nState:\t");
  if (!state) return status;
  status.ended = state[8] == 'Z' || state[8] == 'X';
  if (const char* blocked = __builtin_strstr(text, "\nSigBlk:\t")) {
    status.blocked = parse_hex(blocked + 9);
  }
  return status;
}

// Where the stack pointer of a thread blocked in a system call is, from
// /proc/self/task/TID/syscall ("NR arg1 ... arg6 sp pc", all but NR in
// hex); 0 when it is running or cannot be read. A process may read this of
// its own threads even where ptrace is forbidden.
uintptr_t syscall_stack_pointer(pid_t tid) {
  InlineText<64> path;
  path << "/proc/self/task/" << static_cast<uint64_t>(tid) << "/syscall";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[256];
  const ssize_t got = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (got <= 0 || text[0] < '0' || text[0] > '9') return 0;  // "running", or "-1 sp pc" outside a call
  text[got] = '\0';
  // The 8th field.
  const char* field = text;
  for (int skipped = 0; skipped < 7; ++skipped) {
    field = __builtin_strchr(field, ' ');
    if (!field) return 0;
    ++field;
  }
  if (field[0] != '0' || field[1] != 'x') return 0;
  return parse_hex(field + 2);
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

// Signals each thread but this one and those that have ended.
void signal_tasks(int signal) {
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  Slot* const slots = g_slots.load(std::memory_order_relaxed);
  for_each_task([&](pid_t tid) {
    if (tid == self) return;
    const TaskStatus status = read_task_status(tid);
    if (status.ended) return;
    // A thread takes a slot or a place among the blocked ones (and may
    // move there from its slot): both tables hold g_capacity.
    if (g_slot_count + g_blocked_count == g_capacity) {
      ++g_left_out;
      return;
    }
    // A thread that blocks the signal and waits in a system call would not
    // answer for as long as it waits: the program's worker threads often
    // block every signal, for one thread to sigwait() them all. Its stack
    // is read where it stands instead. One that blocks it for a moment
    // (in a signal handler, or in pthread_create) is signalled: it answers
    // when it unblocks.
    if (status.blocked >> (signal - 1) & 1) {
      if (const uintptr_t sp = syscall_stack_pointer(tid)) {
        g_blocked[g_blocked_count++] = {tid, sp};
        return;
      }
    }
    Slot& slot = slots[g_slot_count++];
    slot.tid = tid;
    slot.state.store(kSignalled, std::memory_order_release);
    if (syscall(SYS_tgkill, getpid(), tid, signal) != 0) slot.state.store(kFree);  // it just exited
  });
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
  signal_tasks(signal);
  if (g_left_out) {
    InlineText<160> note;
    note << "nantrack: " << static_cast<uint64_t>(g_left_out)
         << " threads could not be stopped for the leak scan (no memory for them); blocks only they point to may "
            "be reported as leaks\n";
    print_to_stderr(note.view());
  }
  const int64_t deadline = now_ns() + kAnswerTimeoutNs;
  Slot* const slots = g_slots.load(std::memory_order_relaxed);
  for (size_t i = 0; i < g_slot_count; ++i) {
    Slot& slot = slots[i];
    uint32_t state;
    while ((state = slot.state.load(std::memory_order_acquire)) == kSignalled) {
      int64_t left = deadline - now_ns();
      if (left <= 0) break;
      timespec timeout{left / 1'000'000'000, left % 1'000'000'000};
      futex(slot.state, FUTEX_WAIT, kSignalled, &timeout);
    }
    if (state == kStopped) {
      g_stopped[g_stopped_count++] = i;
      continue;
    }
    if (state != kSignalled) continue;  // it exited
    // Its stack can still be read where it waits in a system call; only its
    // registers stay unknown.
    if (const uintptr_t sp = syscall_stack_pointer(slot.tid)) {
      g_blocked[g_blocked_count++] = {slot.tid, sp};
      continue;
    }
    InlineText<200> note;
    note << "nantrack: thread " << static_cast<uint64_t>(slot.tid)
         << " did not stop for the leak scan within 100 ms and is not in a system call; blocks only it points to may "
            "be reported as leaks\n";
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
