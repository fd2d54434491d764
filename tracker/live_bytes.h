// The bytes the program holds and their peak, for the trace's counters,
// without a shared cache line on every malloc and free.
//
// Each thread adds its allocations and frees to its own unpublished sum and
// remembers that sum's highest value; only when the sum passes
// +-kPublishBytes (and when the thread exits, and for the thread writing
// the trace) does it add the sum to the shared total, and offer the total
// as it was plus its highest value as a peak.
//
// Exactness: when one thread allocates at a time (threads that run one
// after another publish at exit), every publication sees the exact total
// before its own changes, so the peak is exact. With threads allocating
// concurrently, a publication does not see what the others hold
// unpublished, nor when: the peak can be off, either way, by up to
// kPublishBytes for each other thread allocating at the time (and a thread
// still running when the trace is written keeps up to that much out of it).
#pragma once

#include <atomic>
#include <cstdint>
#include <pthread.h>

#include "tracker/platform.h"

namespace nantrack {

class LiveBytes {
 public:
  static constexpr int64_t kPublishBytes = 64 * 1024;

  constexpr LiveBytes() = default;
  LiveBytes(const LiveBytes&) = delete;
  LiveBytes& operator=(const LiveBytes&) = delete;

  // From the tracker's start(): from then on a thread's unpublished bytes
  // are published when it exits. Before, only by the thresholds.
  void start();

  NANTRACK_ALWAYS_INLINE void add(int64_t delta) {
    int64_t unpublished = t_unpublished += delta;
    if (unpublished > t_unpublished_peak) t_unpublished_peak = unpublished;
    if (unpublished > kPublishBytes || unpublished < -kPublishBytes || t_registered != 1) [[unlikely]]
      publish_or_register();
  }
  // Publishes this thread's bytes and returns the peak so far.
  int64_t publish_and_peak();

 private:
  NANTRACK_NOINLINE void publish_or_register();
  void publish();
  static void publish_at_thread_exit(void* self);

  static NANTRACK_TLS int64_t t_unpublished;
  static NANTRACK_TLS int64_t t_unpublished_peak;
  // 1: the exit hook is set; -1: the thread is exiting (publish every change).
  static NANTRACK_TLS int8_t t_registered;

  std::atomic<int64_t> total_{0};
  std::atomic<int64_t> peak_{0};
  pthread_key_t exit_key_ = 0;
  std::atomic<bool> started_{false};
};

}  // namespace nantrack
