#include "tracker/sync.h"

#include <time.h>
#include <cerrno>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace nantrack {

namespace {
// Rounds a waiter spins before sleeping: about what glibc's adaptive
// mutexes spin (100 rounds), a few microseconds.
constexpr int kSpinRounds = 100;

// syscall() reports failure in errno, which a malloc or free must leave as
// the program set it (a futex wait fails with EAGAIN whenever the word
// changed before it slept).
long futex(std::atomic<uint32_t>* word, int operation, uint32_t value) {
  int saved_errno = errno;
  long result = syscall(SYS_futex, word, operation, value, nullptr, nullptr, 0);
  errno = saved_errno;
  return result;
}
}  // namespace

NANTRACK_TLS uint32_t Mutex::t_id = 0;

uint32_t Mutex::next_id() {
  static constinit std::atomic<uint32_t> last{0};
  const uint32_t id = (last.fetch_add(1, std::memory_order_relaxed) + 1) & (~kStateMask >> 2);
  return (id ? id : 1) << 2;
}

void Mutex::lock_contended() {
  for (int round = 0; round < kSpinRounds; ++round) {
    __builtin_ia32_pause();
    if (word_.load(std::memory_order_relaxed) == kFree && try_lock()) return;
  }
  // From here on the lock is marked contended, so that its holder's unlock
  // wakes a sleeper; a wait that returns early (the word changed, or a
  // signal) simply tries again. The holder's id is kept while marking: a
  // free lock is taken already marked, since others may sleep on it.
  const uint32_t self = this_thread();
  uint32_t word = word_.load(std::memory_order_relaxed);
  for (;;) {
    if (word == kFree) {
      if (word_.compare_exchange_weak(word, self | kContended, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      continue;
    }
    const uint32_t marked = (word & ~kStateMask) | kContended;
    if (word != marked && !word_.compare_exchange_weak(word, marked, std::memory_order_relaxed)) continue;
    futex(&word_, FUTEX_WAIT_PRIVATE, marked);
    word = word_.load(std::memory_order_relaxed);
  }
}

void Mutex::wake_one() { futex(&word_, FUTEX_WAKE_PRIVATE, 1); }

bool Mutex::lock_patiently() {
  if (held_here()) return false;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    if (try_lock()) return true;
    timespec pause{0, 100'000};
    nanosleep(&pause, nullptr);
  }
  return false;
}

}  // namespace nantrack
