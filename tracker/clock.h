// Wall-clock time for the trace's start and end stamps.
#pragma once

#include <cstdint>
#include <time.h>

namespace nantrack {

inline int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace nantrack
