#include "tracker/live_bytes.h"

namespace nantrack {

NANTRACK_TLS int64_t LiveBytes::t_unpublished = 0;
NANTRACK_TLS int64_t LiveBytes::t_unpublished_peak = 0;
NANTRACK_TLS int8_t LiveBytes::t_registered = 0;

void LiveBytes::start() {
  if (pthread_key_create(&exit_key_, publish_at_thread_exit) == 0) started_.store(true, std::memory_order_release);
}

void LiveBytes::publish() {
  int64_t before = total_.fetch_add(t_unpublished, std::memory_order_relaxed);
  int64_t candidate = before + t_unpublished_peak;
  int64_t peak = peak_.load(std::memory_order_relaxed);
  while (candidate > peak && !peak_.compare_exchange_weak(peak, candidate, std::memory_order_relaxed)) {
  }
  t_unpublished = t_unpublished_peak = 0;
}

void LiveBytes::publish_or_register() {
  // Registering runs inside nantrack: pthread_setspecific's allocation, if
  // any, is untracked. Until start() there is no hook, so every change is
  // published (the few allocations before main).
  if (t_registered == 0 && started_.load(std::memory_order_acquire))
    t_registered = pthread_setspecific(exit_key_, this) == 0 ? 1 : 0;
  publish();
}

// Other threads' destructors may still allocate and free after this one:
// from then on each change is published at once.
void LiveBytes::publish_at_thread_exit(void* self) {
  t_registered = -1;
  static_cast<LiveBytes*>(self)->publish();
}

int64_t LiveBytes::publish_and_peak() {
  publish();
  return peak_.load(std::memory_order_relaxed);
}

}  // namespace nantrack
