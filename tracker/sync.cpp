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

NANTRACK_TLS char Mutex::t_mark;

void Mutex::lock_contended() {
  for (int round = 0; round < kSpinRounds; ++round) {
    __builtin_ia32_pause();
    if (state_.load(std::memory_order_relaxed) == kFree && try_lock()) return;
  }
  // From here on the lock is marked contended, so that its holder's unlock
  // wakes a sleeper; a wait that returns early (the word changed, or a
  // signal) simply tries again.
  while (state_.exchange(kContended, std::memory_order_acquire) != kFree)
    futex(&state_, FUTEX_WAIT_PRIVATE, kContended);
  owner_.store(this_thread(), std::memory_order_relaxed);
}

void Mutex::wake_one() { futex(&state_, FUTEX_WAKE_PRIVATE, 1); }

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
