// Where the libunwind libraries we loaded have their code, so that a call
// made from them can be told apart (preload/signal_mask_hook.cpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "tracker/module_map.h"

namespace nantrack {

class UnwinderCode {
 public:
  constexpr UnwinderCode() = default;
  UnwinderCode(const UnwinderCode&) = delete;
  UnwinderCode& operator=(const UnwinderCode&) = delete;

  // Adds the code of the library holding `symbol`. From start-up, before
  // any unwind; readers may already run on other threads.
  void add_library_of(const void* symbol) {
    const int count = count_.load(std::memory_order_relaxed);
    if (!symbol || count == kMaxLibraries) return;
    if (!find_code_range(symbol, ranges_[count].begin, ranges_[count].end)) return;
    count_.store(count + 1, std::memory_order_release);
  }

  bool contains(uintptr_t pc) const {
    const int count = count_.load(std::memory_order_acquire);
    for (int i = 0; i < count; ++i)
      if (pc - ranges_[i].begin < ranges_[i].end - ranges_[i].begin) return true;
    return false;
  }

 private:
  static constexpr int kMaxLibraries = 2;  // libunwind.so.8, libunwind-x86_64.so.8
  struct Range {
    uintptr_t begin = 0, end = 0;
  };
  Range ranges_[kMaxLibraries];
  std::atomic<int> count_{0};
};

}  // namespace nantrack
